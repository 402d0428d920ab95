"""An optional Weights & Biases run beside TensorBoard: the same scalars, the resolved config, the summary.

Off unless `config.wandb.project` is set; W&B's own environment applies (`WANDB_MODE=offline` keeps
the run on disk for a later `wandb sync`, `WANDB_API_KEY` signs in). The run id is kept in the
workdir, so a resumed run logs into the same W&B run (W&B ignores steps it already has).
"""
from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import ml_collections
from etils import epath

from ixt_jax import rundir


class WandbWriter:
  """Logs scalar dicts per step to one W&B run; `close(summary)` records the summary and finishes it."""

  def __init__(self, workdir: epath.PathLike, resolved_config: dict[str, Any], project: str, entity: str = "",
               name: str = "", group: str = ""):
    import wandb  # pylint: disable=g-import-not-at-top
    workdir = epath.Path(workdir)
    id_file = workdir / rundir.WANDB_RUN_ID
    if not id_file.exists():
      id_file.write_text(uuid.uuid4().hex[:12])
    local = "://" not in str(workdir)  # W&B writes its files locally: beside the run, or in ./wandb
    self._run = wandb.init(project=project, entity=entity or None, name=name or workdir.name, group=group or None,
                           id=id_file.read_text().strip(), resume="allow", dir=str(workdir) if local else None,
                           config=resolved_config)

  def log(self, step: int, scalars: dict[str, float]) -> None:
    self._run.log(scalars, step=step)

  def close(self, summary: dict[str, Any] | None = None) -> None:
    if summary is not None:
      self._run.summary.update(summary)
    self._run.finish()


def make_wandb_writer(c: ml_collections.ConfigDict, workdir: epath.PathLike) -> WandbWriter | None:
  """The run's W&B writer (call after config.json is written), or None when `c.wandb.project` is unset."""
  if not c.wandb.project:
    return None
  resolved = dataclasses.asdict(rundir.read_config(workdir))
  return WandbWriter(workdir, resolved, c.wandb.project, c.wandb.entity, c.wandb.name, c.wandb.group)
