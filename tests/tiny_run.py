"""A tiny training run in its own process: python tests/tiny_run.py CORPUS_DIR WORKDIR [STEPS]."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

from ixt_jax.train.loop import train_and_evaluate  # pylint: disable=g-import-not-at-top
from train_utils import positive_critique, tiny_config

if __name__ == "__main__":
  corpus, workdir = sys.argv[1], sys.argv[2]
  steps = int(sys.argv[3]) if len(sys.argv) > 3 else 24
  train_and_evaluate(tiny_config(corpus, steps=steps, checkpoint_every=4), workdir, positive_critique)
