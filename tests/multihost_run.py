"""One process of a two-process run on loopback, or the one-process reference it must match.

  python tests/multihost_run.py CORPUS WORKDIR PROCESS_ID PORT   # PROCESS_ID 0 or 1, 2 devices each
  python tests/multihost_run.py CORPUS WORKDIR single             # 4 devices, the same global batches
"""
import os
import sys

if __name__ == "__main__":
  corpus, workdir, role = sys.argv[1:4]
  sys.path.insert(0, os.path.dirname(__file__))
  from xla_env import xla_flags  # pylint: disable=g-import-not-at-top
  os.environ["XLA_FLAGS"] = xla_flags(4 if role == "single" else 2)
  import numpy as np  # pylint: disable=g-import-not-at-top
  from ixt_jax.data import pipeline  # pylint: disable=g-import-not-at-top
  from ixt_jax.train import loop  # pylint: disable=g-import-not-at-top
  from train_utils import positive_critique, tiny_config  # pylint: disable=g-import-not-at-top

  c = tiny_config(corpus, steps=10, checkpoint_every=5)
  if role == "single":
    # One process reads what the two processes read together: each global batch is process 0's
    # rows then process 1's, so both runs train on identical batches.
    make_iterator = pipeline.make_train_iterator

    class BothProcesses:

      def __init__(self, *args, batch_size, process_index, process_count, **kwargs):
        self.parts = [make_iterator(*args, batch_size=batch_size // 2, process_index=i, process_count=2, **kwargs)
                      for i in range(2)]

      def __next__(self):
        batches = [next(p) for p in self.parts]
        return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}

    pipeline.make_train_iterator = BothProcesses
    loop.Checkpointer.save = lambda *args, **kwargs: None  # the stand-in iterator has no Grain state
  else:
    c.distributed.mode = "on"
    c.distributed.coordinator_address = f"127.0.0.1:{sys.argv[4]}"
    c.distributed.num_processes = 2
    c.distributed.process_id = int(role)
  loop.train_and_evaluate(c, workdir, positive_critique)
