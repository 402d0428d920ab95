"""When to save outside the step schedule: a preemption notice (SIGTERM), or a wall-clock interval.

On a pod every host must save the same step: JAX's preemption sync point (set up by
`jax.distributed.initialize`) turns the notice into one agreed step, and the clock decision is
taken by process 0 and broadcast.
"""
from __future__ import annotations

import signal
import time

import jax
import numpy as np
from jax.experimental import multihost_utils


class SaveTriggers:

  def __init__(self, minutes: float):
    self._interval = minutes * 60
    self._last_save = time.time()
    self._notice = False
    if jax.process_count() == 1:
      signal.signal(signal.SIGTERM, self._on_sigterm)

  def _on_sigterm(self, signum, frame):  # pylint: disable=unused-argument
    self._notice = True

  def preempted(self, step: int) -> bool:
    """True at the step every host saves at and then exits, once a preemption notice has come."""
    if jax.process_count() > 1:
      return multihost_utils.reached_preemption_sync_point(step)
    return self._notice

  def clock_due(self) -> bool:
    """Whether the save interval has passed (checked at log steps, where hosts already sync)."""
    if self._interval <= 0:
      return False
    due = time.time() - self._last_save >= self._interval
    if jax.process_count() > 1:
      due = bool(multihost_utils.broadcast_one_to_all(np.int32(due)))
    return due

  def saved(self) -> None:
    self._last_save = time.time()
