"""HumanEval's canonical solutions as the sandbox's real-world check: all pass, corrupted copies fail."""
import time

import pytest

from ixt_jax.evaluate import humaneval
from ixt_jax.feedback import unit_tests

# Wraps the canonical function so it returns a wrong value of a plausible type.
_CORRUPTION = '''

_canonical = {entry_point}


def {entry_point}(*args, **kwargs):
    value = _canonical(*args, **kwargs)
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    return ("corrupted", value)
'''


@pytest.fixture(scope="module")
def problems():
  return humaneval.humaneval_problems()


def test_all_164_problems_ship_with_the_package(problems):
  assert len(problems) == 164
  assert problems[0].id == "HumanEval/0" and problems[-1].id == "HumanEval/163"


def test_every_canonical_solution_passes_and_every_corrupted_copy_fails(problems):
  start = time.perf_counter()
  canonical = humaneval.pass_at_1(problems, [p.canonical_solution for p in problems], timeout_s=10.0)
  seconds = time.perf_counter() - start
  failing = [p.id for p, ok in zip(problems, canonical) if not ok]
  assert not failing, failing
  print(f"164 canonical solutions passed in {seconds:.1f}s")

  corrupted = [p.canonical_solution + _CORRUPTION.format(entry_point=p.entry_point) for p in problems]
  jobs = [unit_tests.Job(humaneval.program(p, c), [humaneval.check_call(p)]) for p, c in zip(problems, corrupted)]
  reports = unit_tests.run_unit_tests(jobs, timeout_s=10.0)
  # Each fails on the problem's own assertions, not by crashing the harness.
  assert [r.outcomes[0].error.split(":")[0] for r in reports] == ["AssertionError"] * len(problems)
  assert humaneval.pass_at_1(problems, corrupted, timeout_s=10.0) == [False] * len(problems)
