"""A tiny trained run, and `experiments.serve` on it in a child process, for the serving tests."""
import contextlib
import os
import select
import subprocess
import sys
import time

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


@contextlib.contextmanager
def served(run_dir, *flags: str):
  """Yields the base URL (http://127.0.0.1:PORT/v1) of `experiments.serve --run_dir=run_dir *flags`."""
  process = subprocess.Popen(
      [sys.executable, "-m", "experiments.serve", f"--run_dir={run_dir}", "--port=0", *flags],
      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, XLA_FLAGS=xla_flags(2)),
      cwd=ROOT)
  try:
    deadline = time.time() + _START_S
    line = ""
    while "serving" not in line:
      assert time.time() < deadline and process.poll() is None, "experiments.serve did not start"
      if select.select([process.stdout], [], [], 1.0)[0]:
        line = process.stdout.readline()
    yield line.rsplit(" ", 1)[1].strip()
  finally:
    process.terminate()
    process.wait(timeout=30)
