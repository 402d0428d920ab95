"""metrics.jsonl and TensorBoard scalars, written by process 0 only.

The JSON lines are written whole (`rundir.MetricsFile`, correct on a bucket) every `flush_seconds`,
and at every checkpoint and the end, so what a checkpoint resumes from is always on disk. An optional
`tracker` (ixt_jax.train.wandb_writer.WandbWriter) receives the same scalars.
"""
from __future__ import annotations

import time
from typing import Any

from etils import epath

from ixt_jax import rundir


class MetricsWriter:

  def __init__(self, workdir: epath.PathLike, enabled: bool, tracker=None, flush_seconds: float = 5.0):
    self._file = rundir.MetricsFile(workdir)
    self._enabled = enabled
    self._tracker = tracker
    self._flush_seconds = flush_seconds
    self._last_flush = -float("inf")
    self._tensorboard = None
    if enabled:
      from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
      self._tensorboard = SummaryWriter(rundir.path(workdir, rundir.TENSORBOARD))

  def drop_after(self, step: int) -> None:
    """On resume: forget lines logged after the checkpoint, so each step appears once."""
    if self._enabled:
      self._file.truncate(step)

  def write(self, step: int, metrics: dict[str, Any]) -> None:
    if not self._enabled:
      return
    self._file.add(step, metrics)
    scalars = {name: value for name, value in _flatten(metrics)
               if isinstance(value, (int, float)) and not isinstance(value, bool)}
    for name, value in scalars.items():
      self._tensorboard.add_scalar(name, value, step)
    if self._tracker is not None:
      self._tracker.log(step, scalars)
    if time.time() - self._last_flush >= self._flush_seconds:
      self.flush()

  def flush(self) -> None:
    if self._enabled:
      self._file.flush()
      self._last_flush = time.time()

  def close(self, summary: dict[str, Any] | None = None) -> None:
    """Writes what is left and closes the writers; `summary` (the run's summary.json) goes to the tracker."""
    self.flush()
    if self._tensorboard is not None:
      self._tensorboard.close()
    if self._tracker is not None:
      self._tracker.close(summary)


def _flatten(metrics: dict[str, Any], prefix: str = ""):
  for key, value in metrics.items():
    if isinstance(value, dict):
      yield from _flatten(value, f"{prefix}{key}/")
    else:
      yield prefix + key, value
