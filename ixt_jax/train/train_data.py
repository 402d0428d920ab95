"""The training batches of a run: one record stream, with every critique dropped from the
conditioning cooldown on (the model then also learns to serve unconditioned)."""
from __future__ import annotations

import jax
import ml_collections

from ixt_jax.data import corpus as corpus_lib
from ixt_jax.data import pipeline


class TrainData:
  """`next_batch(step)` -> the process-local rows of step `step`; `iterator` is what checkpoints save."""

  def __init__(self, c: ml_collections.ConfigDict, vocab, corpus: corpus_lib.Corpus, start_step: int):
    self.c, self.vocab, self.corpus = c, vocab, corpus
    cooldown_steps = int(round(c.train.conditioning_cooldown * c.train.steps))
    self.cooldown_from = c.train.steps - cooldown_steps if cooldown_steps else None
    self.iterator = self._make(cooled=self.cooldown_from is not None and start_step >= self.cooldown_from)

  def _make(self, cooled: bool):
    data_cfg = self.c.data
    if cooled:
      data_cfg = ml_collections.ConfigDict(data_cfg.to_dict())
      data_cfg.feedback.dropout = 1.0
    return pipeline.make_train_iterator(
        data_cfg, self.vocab, batch_size=self.c.train.batch_size // jax.process_count(), seed=self.c.seed,
        process_index=jax.process_index(), process_count=jax.process_count(), corpus=self.corpus)

  def next_batch(self, step: int) -> dict:
    if step == self.cooldown_from:  # same position in the record stream, critiques dropped from here
      position = self.iterator.get_state()
      self.iterator = self._make(cooled=True)
      self.iterator.set_state(position)
    return next(self.iterator)
