"""The checkpoint hook: saves on the step schedule, on a wall-clock interval and on a preemption
notice (preemption.SaveTriggers), with the metrics file flushed first so a resume finds its lines."""
from __future__ import annotations

from typing import Any

from etils import epath

from ixt_jax import rundir
from ixt_jax.train.checkpoint import Checkpointer
from ixt_jax.train.metrics import MetricsWriter
from ixt_jax.train.preemption import SaveTriggers


class CheckpointHook:

  def __init__(self, workdir: epath.PathLike, every: int, keep: int, minutes: float, log_every: int,
               total_steps: int, writer: MetricsWriter):
    self.directory = epath.Path(workdir) / rundir.CHECKPOINTS
    self.checkpointer = Checkpointer(self.directory, keep)
    self.every, self.log_every, self.total_steps = every, log_every, total_steps
    self.writer = writer
    self._triggers = SaveTriggers(minutes)

  def preempted(self, step: int) -> bool:
    """Whether a preemption notice came: save this step and stop (agreed by all hosts on a pod)."""
    return self._triggers.preempted(step)

  def due(self, step: int, preempted: bool) -> bool:
    return (step % self.every == 0 or step == self.total_steps or preempted
            or (step % self.log_every == 0 and self._triggers.clock_due()))

  def save(self, step: int, state: Any, data_iterator, progress: dict[str, Any],
           heldout_loss: float | None) -> None:
    self.writer.flush()
    self.checkpointer.save(step, state, data_iterator, dict(progress), heldout_loss)
    self._triggers.saved()

  def last_good(self, step: int, seed: int) -> str:
    """For an error at `step`: where to restart from (waits for a save in flight to commit)."""
    self.checkpointer.wait()
    return (f"its batch is the {step}th of the seed-{seed} record order; a restart from the last good "
            f"checkpoint, step {self.checkpointer.latest_step()} in {self.directory}, replays it")

  def close(self) -> None:
    self.checkpointer.wait()
    self.checkpointer.close()
