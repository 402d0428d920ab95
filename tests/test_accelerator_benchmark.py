"""benchmarks/accelerator.py runs end to end on a CPU at a tiny size (smoke tests: no timing asserted)."""
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(tmp_path, *flags):
  out = tmp_path / "figures.json"
  command = [sys.executable, str(ROOT / "benchmarks" / "accelerator.py"), "--sizes=1m", "--seq_lens=64", "--steps=2",
             "--remat=dots", *flags, f"--json={out}"]
  result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  return {(r["attention"], r["remat"]): r for r in json.loads(out.read_text())["rows"]}


def test_accelerator_benchmark_runs_at_a_tiny_size(tmp_path):
  rows = _run(tmp_path, "--batch=2", "--attention=xla,splash")
  assert set(rows) == {("xla", "dots"), ("splash", "dots")}
  measured = rows["xla", "dots"]
  assert measured["batch"] == 2 and measured["tokens_per_s"] > 0 and measured["mfu"] > 0, measured
  assert measured["max_batch"] is None  # a CPU has no device memory limit to search against
  assert measured["memory_source"] == "plan" and measured["peak_memory_gb"] > 0  # nor memory statistics
  assert "model.attention='splash' needs a TPU" in rows["splash", "dots"]["error"]


@pytest.mark.slow
def test_largest_batch_fits_the_memory_limit(tmp_path):
  measured = _run(tmp_path, "--memory_limit_gb=0.25")["xla", "dots"]
  # --batch unset: the step runs at the largest batch whose compiled plan fits 0.25 GiB.
  assert measured["batch"] == measured["max_batch"] > 2, measured
  assert 0.2 < measured["peak_memory_gb"] < 0.25, measured
