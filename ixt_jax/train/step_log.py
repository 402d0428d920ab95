"""The logging hook: reads each step's metrics one step late, guards against NaN, logs MFU and ETA.

Reading step N's metrics while the device runs step N+1 keeps the host off the critical path; the
loop calls `flush()` where it must know the latest step's loss is finite (before a save or an eval).
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from ixt_jax.data.mixture import SOURCE_COUNTERS
from ixt_jax.train.metrics import MetricsWriter


def format_duration(seconds: float) -> str:
  seconds = int(max(seconds, 0))
  return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


@dataclasses.dataclass(frozen=True)
class Throughput:
  """What turns steps per second into tokens/s, FLOPs and MFU."""
  tokens_per_step: int
  flops_per_token: float
  peak_flops: float  # of all devices together


class StepLog:
  """`observe(step, metrics)` after each dispatched step; `progress` is what a checkpoint saves."""

  def __init__(self, writer: MetricsWriter, throughput: Throughput, total_steps: int, log_every: int,
               progress: dict[str, Any], nan_message: Callable[[int], str], printing: bool):
    self.writer, self.throughput = writer, throughput
    self.total_steps, self.log_every = total_steps, log_every
    self.progress = progress  # doc_tokens, documents, critique_tokens, process_count; per-source lists
    self._nan_message, self._printing = nan_message, printing
    self._pending = None
    self._clock = (time.time(), 0)

  def restart_clock(self, step: int) -> None:
    """Speed is measured from here (after compiling, or after time spent evaluating)."""
    self._clock = (time.time(), step)

  def observe(self, step: int, metrics, first: bool = False) -> None:
    """Reports the previous step; the first step of a process is reported at once (it compiled)."""
    self.flush()
    self._pending = (step, metrics)
    if first:
      self.flush()
      self.restart_clock(step)

  def flush(self) -> None:
    if self._pending is not None:
      pending, self._pending = self._pending, None
      self._report(*pending)

  def _report(self, step: int, metrics) -> None:
    metrics = jax.device_get(metrics)
    mix = {k: metrics.pop(k) for k in SOURCE_COUNTERS if k in metrics}  # [S] each: per source
    values = {k: float(v) for k, v in metrics.items()}
    if not math.isfinite(values["loss"]) or not math.isfinite(values["grad_norm"]):
      raise FloatingPointError(f"non-finite loss {values['loss']} or gradient norm {values['grad_norm']} at step "
                               f"{step} ({self._nan_message(step)})")
    self.progress["doc_tokens"] += int(values.pop("document_tokens"))
    self.progress["documents"] += int(values.pop("documents"))
    self.progress["critique_tokens"] += int(values.pop("critique_tokens"))
    for key, counts in mix.items():  # the realised mix, summed over the run
      self.progress[key] = (np.asarray(self.progress.get(key, 0), np.int64) + counts).tolist()
    if step % self.log_every and step != self.total_steps:
      return
    now, t = time.time(), self.throughput
    steps_per_s = (step - self._clock[1]) / max(now - self._clock[0], 1e-9)
    self._clock = (now, step)
    tokens_per_s = steps_per_s * t.tokens_per_step
    mfu = tokens_per_s * t.flops_per_token / t.peak_flops
    eta = (self.total_steps - step) / max(steps_per_s, 1e-9)
    values.update(tokens=step * t.tokens_per_step, doc_tokens=self.progress["doc_tokens"],
                  documents=self.progress["documents"], flops=float(step * t.tokens_per_step * t.flops_per_token),
                  tokens_per_s=tokens_per_s, mfu=mfu)
    self.writer.write(step, values)
    if self._printing:
      print(f"step {step:>6}/{self.total_steps} | loss {values['loss']:.4f} | {tokens_per_s:>9,.0f} tok/s | "
            f"MFU {100 * mfu:5.1f}% | lr {values['learning_rate']:.2e} | ETA {format_duration(eta)}", flush=True)
