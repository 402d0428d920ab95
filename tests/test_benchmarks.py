"""Every benchmark runs end to end at a tiny size and writes its figures (smoke tests: no timing asserted)."""
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TINY_FLAGS = {
    "corpus_index.py": ["--records=200"],
    "fit.py": ["--bootstrap=5"],
    "pipeline.py": ["--records=300", "--tokenizer_vocab_size=512", "--seconds=0.2", "--batch=2", "--seq_len=64"],
    "profile_step.py": ["--size=1m", "--batch=2", "--seq_len=32", "--steps=1", "--vocab_size=0", "--top=5"],
    "sampling.py": ["--batches=1", "--prompt_tokens=4", "--new_tokens=64"],
    "train_loop.py": ["--steps=6", "--batch=8", "--seq_len=128", "--records=200", "--vocab=byte", "--rounds=1",
                      "--log_every=2", "--checkpoint_every=3"],
    "train_step.py": ["--sizes=1m", "--batch=2", "--seq_len=32", "--matmul_size=256", "--rounds=1", "--steps=1",
                      "--vocab_size=0"],
}
OWN_SMOKE_TESTS = {"accelerator.py": "test_accelerator_benchmark.py"}  # benchmarks with a test file of their own


def test_every_benchmark_has_a_smoke_test():
  benchmarks = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py") if p.name != "__init__.py")
  assert benchmarks == sorted([*TINY_FLAGS, *OWN_SMOKE_TESTS])
  assert all((ROOT / "tests" / test).exists() for test in OWN_SMOKE_TESTS.values())


@pytest.mark.parametrize("name", sorted(TINY_FLAGS))
def test_benchmark_runs_at_a_tiny_size(name, tmp_path):
  out = tmp_path / "figures.json"
  result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *TINY_FLAGS[name], f"--json={out}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  figures = json.loads(out.read_text())
  assert figures, name
