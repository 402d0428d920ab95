"""A run killed with SIGKILL and restarted logs exactly the losses of an uninterrupted run."""
import json
import os
import random
import signal
import subprocess
import sys
import time

from ixt_jax.rundir import read_metrics
from train_utils import make_corpus

TINY_RUN = os.path.join(os.path.dirname(__file__), "tiny_run.py")
STEPS = 24


def _run(corpus, workdir):
  done = subprocess.run([sys.executable, TINY_RUN, str(corpus), str(workdir), str(STEPS)], capture_output=True,
                        text=True)
  assert done.returncode == 0, f"exit {done.returncode}:\n{done.stderr[-3000:]}"


def _trajectory(workdir):
  return {m["step"]: (m["loss"], m["grad_norm"], m["doc_tokens"]) for m in read_metrics(workdir) if "loss" in m}


def test_sigkill_at_a_random_step_then_resume_is_bitwise_identical(tmp_path):
  corpus = make_corpus(tmp_path / "corpus")
  _run(corpus, tmp_path / "reference")
  reference = _trajectory(tmp_path / "reference")
  assert sorted(reference) == list(range(1, STEPS + 1))

  kill_at = random.Random(os.getpid()).randint(6, STEPS - 4)
  workdir = tmp_path / "killed"
  proc = subprocess.Popen([sys.executable, TINY_RUN, str(corpus), str(workdir), str(STEPS)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 300
  while time.time() < deadline and proc.poll() is None:
    if max(_trajectory(workdir) or [0]) >= kill_at:
      proc.send_signal(signal.SIGKILL)
      break
    time.sleep(0.05)
  proc.wait()
  assert proc.returncode == -signal.SIGKILL, f"run ended on its own before step {kill_at}"
  assert not (workdir / "summary.json").exists()

  _run(corpus, workdir)  # same command, same workdir: resumes from the last checkpoint
  resumed = _trajectory(workdir)
  assert resumed == reference  # every step's loss, gradient norm and document count, bit for bit
  summary, expected = (json.loads((d / "summary.json").read_text()) for d in (workdir, tmp_path / "reference"))
  assert summary["eval"] == expected["eval"] and summary["doc_tokens"] == expected["doc_tokens"]
