"""A tiny training run in its own process.

  python tests/tiny_run.py CORPUS_DIR WORKDIR [STEPS] [DEVICES] [key=value ...]

DEVICES sets the simulated CPU device count; key=value pairs override `config.train` fields.
"""
import os
import sys

if __name__ == "__main__":
  sys.path.insert(0, os.path.dirname(__file__))
  from xla_env import xla_flags  # pylint: disable=g-import-not-at-top
  os.environ["XLA_FLAGS"] = xla_flags(int(sys.argv[4]) if len(sys.argv) > 4 else 8)
  from ixt_jax.train.loop import train_and_evaluate  # pylint: disable=g-import-not-at-top
  from train_utils import positive_critique, tiny_config  # pylint: disable=g-import-not-at-top

  corpus, workdir = sys.argv[1], sys.argv[2]
  steps = int(sys.argv[3]) if len(sys.argv) > 3 else 24
  overrides = dict(arg.split("=", 1) for arg in sys.argv[5:])
  c = tiny_config(corpus, steps=steps, checkpoint_every=4)
  for key, value in overrides.items():
    c.train[key] = type(c.train[key])(value)
  print(train_and_evaluate(c, workdir, positive_critique))
