"""Code pass@1: the model writes the body of held-out built-in functions; their unit tests run in the sandbox.

The prompt is a record's `def` line and docstring; the program is prompt + completion, cut where
top-level code begins (the record's own test function follows the body in training text). The
record's `meta.tests` run against it through `ixt_jax.feedback.unit_tests` (each program in its own
child process, time- and memory-limited, inside the sandbox). Greedy decoding, one sample: pass@1.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from ixt_jax.feedback import unit_tests

# Where a function's body ends in a completion (HumanEval's stop set, plus tests and decorators).
STOP = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\nassert ", "\n@", "\n#")
SIGNATURE_AND_DOCSTRING = re.compile(r'\A(def [^\n]*:\n[ \t]+""".*?"""[ \t]*\n)', re.DOTALL)


@dataclasses.dataclass(frozen=True)
class CodeProblem:
  id: str
  prompt: str
  tests: tuple[dict[str, str], ...]  # {"call": "f(3)", "expected": "6"}


def code_problems(raw_records: Sequence[dict[str, Any]]) -> list[CodeProblem]:
  """Problems from records that open with a documented function and carry `meta.tests`."""
  problems = []
  for record in raw_records:
    match = SIGNATURE_AND_DOCSTRING.match(record["text"])
    tests = (record.get("meta") or {}).get("tests")
    if match and tests:
      problems.append(CodeProblem(record["id"], match[1], tuple(tests)))
  return problems


def passes(programs: Sequence[str], tests: Sequence[Sequence[dict[str, str]]], timeout_s: float,
           memory_mb: int = 512) -> list[bool]:
  """Whether each program passes all its tests in the sandbox (a timeout or crash is a failure)."""
  jobs = [unit_tests.Job(program, list(t)) for program, t in zip(programs, tests)]
  reports = unit_tests.run_unit_tests(jobs, timeout_s=timeout_s, memory_mb=memory_mb)
  return [r.crashed is None and r.load_error is None and bool(r.outcomes)
          and all(o.status == "pass" for o in r.outcomes) for r in reports]


def pass_at_1(problems: Sequence[CodeProblem], completions: Sequence[str], timeout_s: float) -> list[bool]:
  return passes([p.prompt + c for p, c in zip(problems, completions)], [p.tests for p in problems], timeout_s)
