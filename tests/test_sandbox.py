"""The sandbox keeps untrusted code from the caller's files, the network and the caller's time."""
import time

import pytest

from ixt_jax.feedback import sandbox, unit_tests

namespaced = pytest.mark.skipif(sandbox.namespace_error() is not None,
                                reason=f"namespaces refused here: {sandbox.namespace_error()}")


@pytest.fixture
def rlimits_only(monkeypatch):
  monkeypatch.setattr(sandbox, "namespace_error", lambda: "refused for this test")


def test_runs_a_program_with_an_empty_environment_in_a_fresh_directory():
  result = sandbox.run_python("import os, sys\nprint(sorted(os.listdir('.')), os.environ.get('HOME'))\n"
                              "print('to stderr', file=sys.stderr)\nsys.exit(3)")
  assert result.exit_code == 3 and not result.ok and not result.timed_out
  assert result.stdout.strip() == "['main.py'] None" and "to stderr" in result.stderr
  assert sandbox.run_python("print(6 * 7)").stdout == "42\n"


@namespaced
def test_the_callers_files_and_the_network_are_out_of_reach(tmp_path):
  secret = tmp_path / "secret.txt"
  secret.write_text("the caller's secret")
  escape = tmp_path / "escaped.txt"
  program = f"""
import os, socket
for path in ({str(secret)!r}, "/work", "/root", "/home", {str(tmp_path)!r}):
  print(path, os.path.exists(path) and (os.listdir(path) if os.path.isdir(path) else open(path).read()))
for path in ({str(escape)!r}, "/work/ixt_escape", "/usr/ixt_escape"):
  try:
    open(path, "w").write("out")
    print("wrote", path)
  except OSError as e:
    print("refused", type(e).__name__)
try:
  socket.create_connection(("1.1.1.1", 53), timeout=1)
  print("network reachable")
except OSError as e:
  print("no network", e.errno)
print("uid", os.getuid())
"""
  result = sandbox.run_python(program, timeout_s=5)
  assert result.ok, result.stderr
  assert "caller's secret" not in result.stdout and "wrote" not in result.stdout and "no network" in result.stdout
  assert result.stdout.count("refused") == 3 and f"uid {sandbox.NOBODY}" in result.stdout
  assert not escape.exists()
  assert result.isolation.startswith("namespaces")


@pytest.mark.parametrize("program", ["while True:\n  pass", "import time\ntime.sleep(60)",
                                     "import os\nwhile True:\n  try:\n    os.fork()\n  except OSError:\n    pass"])
def test_the_caller_is_never_kept_waiting(program):
  start = time.monotonic()
  result = sandbox.run_python(program, timeout_s=0.5)
  assert result.timed_out and not result.ok
  assert time.monotonic() - start < 0.5 + 1.0 + 3.0  # the limit, start-up allowance, a loaded machine


def test_memory_and_output_are_bounded():
  result = sandbox.run_python("x = bytearray(1 << 30)", memory_mb=256)
  assert not result.ok and "MemoryError" in result.stderr
  flood = sandbox.run_python("import sys\nfor _ in range(10**5):\n  sys.stdout.write('x' * 10**4)",
                             max_output_bytes=1000)
  assert len(flood.stdout) == 1000


def test_without_namespaces_limits_still_hold_and_the_result_says_so(rlimits_only):  # pylint: disable=unused-argument
  start = time.monotonic()
  looped = sandbox.run_python("while True:\n  pass", timeout_s=0.5)
  assert looped.timed_out and time.monotonic() - start < 5.0
  assert "rlimits only" in looped.isolation and "refused for this test" in looped.isolation
  assert "MemoryError" in sandbox.run_python("x = bytearray(1 << 30)", memory_mb=256).stderr


def test_a_record_that_kills_the_harness_spoils_only_its_own_result(rlimits_only):  # pylint: disable=unused-argument
  # Without a PID namespace the harness is an ordinary process a record can kill: the records it
  # had not reported on are judged again, each alone.
  tests = [{"call": "f(1)", "expected": "2"}]
  good = unit_tests.Job("def f(x):\n  return x + 1\n", tests)
  killer = unit_tests.Job("import os, signal\ndef f(x):\n  os.kill(os.getppid(), signal.SIGKILL)\n", tests)
  exits = unit_tests.Job("import os\ndef f(x):\n  os._exit(0)\n", tests)
  reports = unit_tests.run_unit_tests([good, killer, good, exits, good], timeout_s=2.0, jobs_per_sandbox=5)
  assert [r.outcomes[0].status if r.outcomes else None for r in reports] == ["pass", None, "pass", "died", "pass"]
  assert reports[1].crashed and "harness died" in reports[1].crashed
