"""A tiny trained run, and `experiments.serve` on it in a child process, for the serving tests."""
import os

from experiments.serving import serving
from ixt_jax.train.loop import train_and_evaluate
from train_utils import make_corpus, tiny_config
from xla_env import xla_flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_START_S = 180


def tiny_run(root, critique: str):
  """A 4-step run in root/run (its config returned), trained on a 120-record corpus."""
  c = tiny_config(make_corpus(root / "corpus", 120), steps=4, checkpoint_every=4)
  c.optimizer.warmup_steps = 1
  train_and_evaluate(c, root / "run", lambda _: critique)
  return c


def served(run_dir, *flags: str):
  """Yields the base URL (http://127.0.0.1:PORT/v1) of `experiments.serve --run_dir=run_dir *flags`."""
  return serving(run_dir, *flags, env=dict(os.environ, XLA_FLAGS=xla_flags(2)), start_timeout_s=_START_S, quiet=True)
