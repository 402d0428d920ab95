"""benchmarks/accelerator.py runs end to end on a CPU at a tiny size (a smoke test: no timing asserted)."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_accelerator_benchmark_runs_at_a_tiny_size(tmp_path):
  out = tmp_path / "figures.json"
  flags = ["--sizes=1m", "--seq_lens=64", "--batch=2", "--steps=2", "--remat=none,full", "--attention=xla,splash",
           "--memory_limit_gb=0.25", f"--json={out}"]
  result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "accelerator.py"), *flags], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  rows = {(r["attention"], r["remat"]): r for r in json.loads(out.read_text())["rows"]}
  assert set(rows) == {("xla", "none"), ("xla", "full"), ("splash", "none"), ("splash", "full")}
  for remat in ("none", "full"):
    measured = rows["xla", remat]
    assert measured["batch"] == 2 and measured["tokens_per_s"] > 0 and 0 < measured["mfu"], measured
    assert measured["max_batch"] >= 2 and measured["peak_memory_gb"] > 0, measured
    assert "model.attention='splash' needs a TPU" in rows["splash", remat]["error"]
  # Without remat the activations of every layer are kept: the largest batch can only be smaller.
  assert rows["xla", "none"]["max_batch"] <= rows["xla", "full"]["max_batch"]
