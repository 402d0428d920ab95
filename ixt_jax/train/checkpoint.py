"""Orbax checkpoints of the train state, the Grain iterator position and the run's counters.

Asynchronous: `save` returns once arrays are copied off the device. A checkpoint is only committed
when complete, so a run killed mid-save resumes from the previous one. Kept: the last N, plus the
one with the best held-out loss (orbax's plain best-N policy could delete the latest, STACK.md).
"""
from __future__ import annotations

from typing import Any

import grain
import jax
import orbax.checkpoint as ocp
from etils import epath
from flax import nnx
from jax.sharding import Mesh
from orbax.checkpoint import checkpoint_managers as policies

from ixt_jax.parallel.rules import check_divisible
from ixt_jax.parallel.sharding import named_shardings, state_specs

BEST_METRIC = "heldout_loss"


def _absolute(directory: epath.PathLike) -> epath.Path:
  directory = epath.Path(directory)
  return directory if "://" in str(directory) else directory.resolve()  # tensorstore wants absolute


class Checkpointer:

  def __init__(self, directory: epath.PathLike, keep: int):
    keep_policy = policies.AnyPreservationPolicy([
        policies.LatestN(n=keep),
        policies.BestN(get_metric_fn=lambda metrics: metrics[BEST_METRIC], reverse=True, n=1,
                       keep_checkpoints_without_metrics=False)])
    options = ocp.CheckpointManagerOptions(preservation_policy=keep_policy, enable_async_checkpointing=True,
                                           create=True)
    self._manager = ocp.CheckpointManager(
        _absolute(directory), options=options,
        item_handlers={"state": ocp.StandardCheckpointHandler(),
                       "data": grain.checkpoint.CheckpointHandler(),
                       "progress": ocp.JsonCheckpointHandler()})

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(self, step: int, state: Any, data_iterator, progress: dict[str, Any],
           heldout_loss: float | None = None) -> None:
    """`data_iterator` must stand just after the batch of `step`: its position is what resumes."""
    self._manager.save(step, metrics=None if heldout_loss is None else {BEST_METRIC: heldout_loss},
                       args=ocp.args.Composite(
                           state=ocp.args.StandardSave(state),
                           data=grain.checkpoint.CheckpointSave(data_iterator),
                           progress=ocp.args.JsonSave(progress)))

  def restore(self, step: int, abstract_state: Any, data_iterator=None) -> tuple[Any, dict[str, Any]]:
    """Restores the state onto the shardings in `abstract_state` and the run's counters; and the
    iterator in place, if one is given (its saved position is per data-loading process)."""
    items = dict(state=ocp.args.StandardRestore(abstract_state), progress=ocp.args.JsonRestore())
    if data_iterator is not None:
      items["data"] = grain.checkpoint.CheckpointRestore(data_iterator)
    restored = self._manager.restore(step, args=ocp.args.Composite(**items))
    return restored.state, restored.progress

  def restore_progress(self, step: int) -> dict[str, Any]:
    """The run's counters alone (cheap: decides how the rest is restored)."""
    return self._manager.restore(step, args=ocp.args.Composite(progress=ocp.args.JsonRestore())).progress

  def restore_state(self, step: int, abstract_state: Any) -> Any:
    """Only the train state (e.g. to start a new stage from a finished run's parameters)."""
    return self._manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state))).state

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.close()


def restore_params(checkpoint_dir: epath.PathLike, abstract: nnx.State, mesh: Mesh, step: int | None = None):
  """(params, step): checkpoint `step`'s parameters (default: the latest), shaped like the module
  state `abstract` and sharded by the rules. Only the parameters are read (orbax partial restore):
  the optimizer state stays on disk."""
  specs = nnx.to_pure_dict(state_specs(abstract))
  abstract_params = nnx.to_pure_dict(abstract)
  check_divisible(specs, abstract_params, mesh)
  shardings = named_shardings(specs, mesh)
  target = {"params": jax.tree.map(lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s),
                                   abstract_params, shardings)}
  manager = ocp.CheckpointManager(_absolute(checkpoint_dir),
                                  item_handlers={"state": ocp.PyTreeCheckpointHandler()})
  try:
    step = manager.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f"{checkpoint_dir}: no checkpoint")
    restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.PyTreeRestore(
        target, restore_args=ocp.checkpoint_utils.construct_restore_args(target), partial_restore=True)))
  finally:
    manager.close()
  return restored.state["params"], step
