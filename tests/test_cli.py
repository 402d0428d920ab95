"""Entry points print a user's mistake as its message alone (no traceback) and exit non-zero."""
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("args,message", [
    (["--config.train.batchsiz=3"], 'Did you mean "batch_size"'),  # a config typo
    (["--config=configs/quickstart.py:data=/absent/corpus"], "config.data.train_dirs: ['/absent/corpus'] do not exist"),
    (["--config.data.train_dirs=/absent/corpus"], "config.data.train_dirs is not supported for overriding"),
    (["--config=configs/quickstart.py:sise=3m"], "config variant 'sise': expected one of"),
    (["--no_such_flag"], "Unknown command line flag 'no_such_flag'"),
])
def test_a_user_error_is_one_message_and_a_nonzero_exit(args, message, tmp_path):
  result = subprocess.run([sys.executable, "-m", "experiments.launch", f"--workdir={tmp_path / 'run'}", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
  assert result.returncode == 2, result.stderr
  assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
  assert result.stderr.startswith("error: "), result.stderr
