"""`experiments.serve` in a child process on a free loopback port, for commands (and tests) that
need a served model for a while: critic_eval serves the critic it measures."""
import contextlib
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@contextlib.contextmanager
def serving(run_dir, *flags: str, env: Mapping[str, str] | None = None, start_timeout_s: float = 300.0,
            quiet: bool = False) -> Iterator[str]:
  """Yields the base URL (http://127.0.0.1:PORT/v1) of `experiments.serve --run_dir=run_dir *flags`."""
  process = subprocess.Popen(
      [sys.executable, "-m", "experiments.serve", f"--run_dir={run_dir}", "--port=0", *flags],
      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL if quiet else None, text=True,
      env=dict(env) if env is not None else None, cwd=_ROOT)
  try:
    deadline = time.time() + start_timeout_s
    line = ""
    while "serving" not in line:
      if process.poll() is not None or time.time() > deadline:
        raise RuntimeError(f"experiments.serve --run_dir={run_dir} did not start (exit status {process.poll()})")
      if select.select([process.stdout], [], [], 1.0)[0]:
        line = process.stdout.readline()
    yield line.rsplit(" ", 1)[1].strip()
  finally:
    process.terminate()
    process.wait(timeout=30)
