"""metrics.jsonl (one JSON object a line) and TensorBoard scalars, written by process 0 only.

An optional `tracker` (ixt_jax.train.wandb_writer.WandbWriter) receives the same scalars.
"""
from __future__ import annotations

import json
from typing import Any

from etils import epath

from ixt_jax.data import shards

METRICS_FILE = "metrics.jsonl"


class MetricsWriter:

  def __init__(self, workdir: epath.PathLike, enabled: bool, tracker=None):
    self._path = epath.Path(workdir) / METRICS_FILE
    self._enabled = enabled
    self._tracker = tracker
    self._tensorboard = None
    if enabled:
      from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
      self._tensorboard = SummaryWriter(str(epath.Path(workdir) / "tensorboard"))

  def drop_after(self, step: int) -> None:
    """On resume: forget lines logged after the checkpoint, so each step appears once."""
    if not self._enabled or not self._path.exists():
      return
    lines = [line for line in self._path.read_text().splitlines() if json.loads(line)["step"] <= step]
    self._path.write_text("".join(line + "\n" for line in lines))

  def write(self, step: int, metrics: dict[str, Any]) -> None:
    if not self._enabled:
      return
    with self._path.open("a") as f:
      f.write(json.dumps(shards.json_safe({"step": step, **metrics}), sort_keys=True, allow_nan=False) + "\n")
    scalars = {name: value for name, value in _flatten(metrics)
               if isinstance(value, (int, float)) and not isinstance(value, bool)}
    for name, value in scalars.items():
      self._tensorboard.add_scalar(name, value, step)
    if self._tracker is not None:
      self._tracker.log(step, scalars)

  def close(self, summary: dict[str, Any] | None = None) -> None:
    """Closes the writers; `summary` (the run's summary.json) goes to the tracker."""
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


def read_metrics(workdir: epath.PathLike) -> list[dict[str, Any]]:
  path = epath.Path(workdir) / METRICS_FILE
  return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
