"""Two processes on loopback (jax.distributed on CPU) train the same model as one process."""
import os
import subprocess
import sys

import numpy as np
import portpicker
import pytest

from ixt_jax.rundir import read_metrics
from train_utils import make_corpus

SCRIPT = os.path.join(os.path.dirname(__file__), "multihost_run.py")


def _losses(workdir):
  return {m["step"]: m["loss"] for m in read_metrics(workdir) if "loss" in m}


# Slow: alone it takes ~30 s, but beside another test worker on 2 cores the two gloo hosts can
# starve each other past any sane timeout; `make test-slow` runs it.
@pytest.mark.slow
def test_two_processes_train_the_same_model_as_one(tmp_path):
  corpus = make_corpus(tmp_path / "corpus")
  port = portpicker.pick_unused_port()
  logs = [tmp_path / f"process{i}.log" for i in range(2)]  # files, not pipes: a full pipe would block a host
  procs = [subprocess.Popen([sys.executable, SCRIPT, str(corpus), str(tmp_path / "two"), str(i), str(port)],
                            stdout=subprocess.DEVNULL, stderr=log.open("w")) for i, log in enumerate(logs)]
  for p in procs:
    p.wait(timeout=600)
  errors = [log.read_text()[-2000:] for log in logs]
  single = subprocess.run([sys.executable, SCRIPT, str(corpus), str(tmp_path / "one"), "single"],
                          capture_output=True, text=True)
  assert all(p.returncode == 0 for p in procs), errors
  assert single.returncode == 0, single.stderr[-2000:]
  two, one = _losses(tmp_path / "two"), _losses(tmp_path / "one")
  assert sorted(two) == sorted(one) == list(range(1, 11))
  np.testing.assert_allclose([two[s] for s in sorted(two)], [one[s] for s in sorted(one)], rtol=2e-5)
  assert (tmp_path / "two" / "summary.json").exists()
  assert len(list((tmp_path / "two" / "checkpoints").iterdir())) >= 2  # both hosts saved, in step
  # The two-host checkpoint resumes in one process (4 devices): state restored onto the new mesh,
  # the data position carried over by count since the number of loading processes changed.
  resumed = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "tiny_run.py"), str(corpus),
                            str(tmp_path / "two"), "14", "4"], capture_output=True, text=True)
  assert resumed.returncode == 0, resumed.stderr[-2000:]
  assert "data-loading processes changed 2 -> 1: skipping 10 batches per process" in resumed.stderr
  assert sorted(_losses(tmp_path / "two")) == list(range(1, 15))
