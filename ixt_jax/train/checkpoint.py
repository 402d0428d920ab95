"""Orbax checkpoints of the train state, the Grain iterator position and the run's counters.

Asynchronous: `save` returns once arrays are copied off the device. A checkpoint is only committed
when complete, so a run killed mid-save resumes from the previous one.
"""
from __future__ import annotations

from typing import Any

import grain
import orbax.checkpoint as ocp
from etils import epath


class Checkpointer:

  def __init__(self, directory: epath.PathLike, keep: int):
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, enable_async_checkpointing=True, create=True)
    self._manager = ocp.CheckpointManager(
        epath.Path(directory), options=options,
        item_handlers={"state": ocp.StandardCheckpointHandler(),
                       "data": grain.checkpoint.CheckpointHandler(),
                       "progress": ocp.JsonCheckpointHandler()})

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state: Any, data_iterator, progress: dict[str, Any]) -> None:
    """`data_iterator` must stand just after the batch of `step`: its position is what resumes."""
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state),
        data=grain.checkpoint.CheckpointSave(data_iterator),
        progress=ocp.args.JsonSave(progress)))

  def restore(self, step: int, abstract_state: Any, data_iterator) -> tuple[Any, dict[str, Any]]:
    """Restores the state onto the shardings in `abstract_state`, and the iterator in place."""
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract_state),
        data=grain.checkpoint.CheckpointRestore(data_iterator),
        progress=ocp.args.JsonRestore()))
    return restored.state, restored.progress

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.close()
