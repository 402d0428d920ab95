"""A tiny run config on a synthetic annotated corpus, shared by the training tests."""
import json

import numpy as np

from ixt_jax.data import pipeline
from ixt_jax.data.synthetic import synthetic_records, write_corpus
from ixt_jax.train.config import get_run_config


def positive_critique(domain: str) -> str:
  return f"A flawless {domain} document: every step checks out."


def tiny_config(corpus_dir, method: str = "ixt", steps: int = 24, **train):
  c = get_run_config()
  c.method = method
  c.data.feedback.placement = "none" if method == "baseline" else "prefix"
  c.data.train_dirs = [str(corpus_dir)]
  c.data.vocab.kind = "byte"
  c.data.seq_len = 128
  c.data.vocab.cache_dir = str(corpus_dir) + "-cache"
  c.data.heldout.fraction = 0.1
  c.model.size = "1m"
  c.model.d_model, c.model.n_layers, c.model.n_heads, c.model.n_kv_heads = 32, 2, 4, 2
  c.model.head_dim, c.model.d_ff = 8, 64
  c.train.steps = steps
  c.train.batch_size = 8
  c.train.eval_batch_size = 8
  c.train.log_every = 1
  c.train.checkpoint_every = 8
  c.train.eval_every = steps
  c.train.peak_flops_per_device = 1e12  # no timing at start-up: tests compare runs bit for bit
  c.optimizer.warmup_steps = 4
  c.eval.tasks = ""  # task scores have tests of their own (test_tasks.py)
  for key, value in train.items():
    c.train[key] = value
  return c


def make_corpus(directory, n: int = 400):
  return write_corpus(directory, synthetic_records(n, seed=0))


def assert_iterator_resumes_exactly(cfg, vocab, seed: int, consumed: int, compared: int = 4) -> None:
  """A train iterator restored from its state after `consumed` batches (through JSON, as a checkpoint
  stores it) gives the same next `compared` batches as the uninterrupted one."""
  interrupted = pipeline.make_train_iterator(cfg, vocab, batch_size=2, seed=seed)
  for _ in range(consumed):
    next(interrupted)
  state = json.loads(json.dumps(interrupted.get_state()))
  expected = [next(interrupted) for _ in range(compared)]
  resumed = pipeline.make_train_iterator(cfg, vocab, batch_size=2, seed=seed)
  resumed.set_state(state)
  for want, got in zip(expected, (next(resumed) for _ in range(compared))):
    assert want.keys() == got.keys()
    for key in want:
      np.testing.assert_array_equal(want[key], got[key])
