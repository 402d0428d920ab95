"""benchmarks/accelerator.py runs end to end on a CPU at a tiny size (a smoke test: no timing asserted)."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_accelerator_benchmark_runs_at_a_tiny_size(tmp_path):
  out = tmp_path / "figures.json"
  flags = ["--sizes=1m", "--seq_lens=64", "--batch=2", "--steps=2", "--remat=dots", "--attention=xla,splash",
           "--memory_limit_gb=0.25", f"--json={out}"]
  result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "accelerator.py"), *flags], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  rows = {(r["attention"], r["remat"]): r for r in json.loads(out.read_text())["rows"]}
  assert set(rows) == {("xla", "dots"), ("splash", "dots")}
  measured = rows["xla", "dots"]
  assert measured["batch"] == 2 and measured["tokens_per_s"] > 0 and 0 < measured["mfu"], measured
  # The largest batch under the 0.25 GiB limit: found from the compiled memory plan.
  assert measured["max_batch"] >= 2 and 0 < measured["peak_memory_gb"] < 0.25, measured
  assert measured["memory_source"] == "plan"  # a CPU keeps no memory statistics
  assert "model.attention='splash' needs a TPU" in rows["splash", "dots"]["error"]
