"""Where a run starts: the latest checkpoint (exact, or carried over to another process count), or
fresh parameters (`train.init_from`'s, for a later stage)."""
from __future__ import annotations

import logging
from typing import Any

import jax
import optax

from ixt_jax.models import ModelConfig
from ixt_jax.train.checkpoint import Checkpointer
from ixt_jax.train.init_from import load_params
from ixt_jax.train.sharded_state import ShardedSetup
from ixt_jax.train.step import TrainState, init_state

log = logging.getLogger("ixt_jax.train")


def fresh_progress() -> dict[str, Any]:
  """The counters a checkpoint saves beside the state."""
  return {"doc_tokens": 0, "documents": 0, "critique_tokens": 0, "process_count": jax.process_count()}


def restore(checkpointer: Checkpointer, step: int, ss: ShardedSetup, data_iter) -> tuple[TrainState, dict[str, Any]]:
  """The state and counters of checkpoint `step`, and `data_iter` moved to its position."""
  # The data position is exact when the data-loading processes are as many as when it was saved.
  same_loaders = checkpointer.restore_progress(step)["process_count"] == jax.process_count()
  state, saved = checkpointer.restore(step, ss.abstract, data_iter if same_loaders else None)
  if not same_loaders:
    # Each process's saved position belongs to a record stride that no longer exists; carry the
    # position over by count instead (README: "Resuming on a different mesh").
    log.warning("data-loading processes changed %d -> %d: skipping %d batches per process",
                saved["process_count"], jax.process_count(), step)
    for _ in range(step):
      next(data_iter)
  return state, {"critique_tokens": 0, **saved, "process_count": jax.process_count()}  # older checkpoints lack it


def fresh_state(ss: ShardedSetup, tx: optax.GradientTransformation, seed: int, init_from: str,
                model_cfg: ModelConfig) -> TrainState:
  """Freshly initialised, or `init_from`'s parameters with a fresh optimizer state."""
  if not init_from:
    return ss.make_state()
  params = load_params(init_from, model_cfg, ss.mesh)
  return jax.jit(lambda p: init_state(p, tx, seed), out_shardings=ss.shardings)(params)
