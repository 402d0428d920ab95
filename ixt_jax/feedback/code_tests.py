"""Code critic: runs each record's unit tests against its code in the sandbox and says what failed.

A record gives its code as `text` and its tests as `meta.tests` ([{"call", "expected"}], see
ixt_jax/data/corpora/python_functions.py). The critique names the first failing test (the call,
expected against got, the exception, or the timeout) and how many pass; the score is the share of
tests that pass (0 when the code fails to load).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ixt_jax.feedback import unit_tests
from ixt_jax.feedback.critic import Failure, Feedback, choose

APPROVALS = (
    "The function does what its docstring promises: every unit test passes.",
    "All unit tests pass; the implementation matches its specification.",
    "Correct: the code runs cleanly and returns the expected value in every test.",
    "Every test passes, so the function behaves as documented.",
)
_LOAD_ERROR = (
    "The code fails before any test can run: {error}.",
    "Defining the function already raises {error}, so no test passes.",
    "The code does not even load ({error}); every test fails.",
)
_FAILED = (
    "{first} {tally}",
    "{tally} {first}",
    "Not correct. {first} {tally}",
)
_FIRST = {
    "fail": "Test {n} fails: {call} returns {got}, but {expected} is expected.",
    "error": "Test {n} fails: {call} raises {error} instead of returning {expected}.",
    "timeout": "Test {n} fails: {call} did not finish within {timeout:g} s (an endless loop or runaway work).",
    "died": "Test {n} fails: {call} ended its own process ({error}) instead of returning {expected}.",
}


class CodeTestCritic:
  """Runs `meta.tests` in the sandbox: timeout_s and memory_mb bound each record."""

  name = "code-tests"
  n_params = 0

  def __init__(self, timeout_s: float = 2.0, memory_mb: int = 256, records_per_sandbox: int = 128,
               concurrency: int = 2):
    self.timeout_s, self.memory_mb = timeout_s, memory_mb
    self.records_per_sandbox, self.concurrency = records_per_sandbox, concurrency

  def describe(self) -> dict:
    return {"name": self.name, "n_params": 0, "timeout_s": self.timeout_s, "memory_mb": self.memory_mb}

  def __call__(self, records: Sequence[dict[str, Any]]) -> list[Feedback | Failure]:
    results: list[Feedback | Failure | None] = [None] * len(records)
    runnable = []
    for i, record in enumerate(records):
      tests = (record.get("meta") or {}).get("tests")
      if not tests:
        results[i] = Failure("code record has no meta.tests to run", self.name)
      else:
        runnable.append(i)
    jobs = [unit_tests.Job(records[i]["text"], records[i]["meta"]["tests"]) for i in runnable]
    reports = unit_tests.run_unit_tests(jobs, self.timeout_s, self.memory_mb, self.records_per_sandbox,
                                        self.concurrency)
    for i, report in zip(runnable, reports):
      results[i] = self._judge(records[i], report)
    return results

  def _judge(self, record: dict[str, Any], report: unit_tests.Report) -> Feedback | Failure:
    if report.crashed:
      return Failure(f"sandbox could not judge the record: {report.crashed}", self.name)
    record_id = record["id"]
    if report.load_error:
      return Feedback(choose(_LOAD_ERROR, record_id).format(error=report.load_error), 0.0, self.name,
                      reasoning=f"Loading the code raises {report.load_error}.")
    tests = record["meta"]["tests"]
    passed = sum(o.status == "pass" for o in report.outcomes)
    reasoning = f"Ran {len(tests)} tests: " + ", ".join(o.status for o in report.outcomes) + "."
    if passed == len(tests):
      return Feedback(choose(APPROVALS, record_id), 1.0, self.name, reasoning=reasoning)
    first = next(o for o in report.outcomes if o.status != "pass")
    test = tests[first.test]
    first_text = _FIRST[first.status].format(n=first.test + 1, call=test["call"], got=first.got,
                                             expected=test["expected"], error=first.error, timeout=self.timeout_s)
    tally = f"{passed} of {len(tests)} tests pass."
    not_run = sum(o.status == "not_run" for o in report.outcomes)
    if not_run:
      tally += f" {not_run} did not run after it."
    critique = choose(_FAILED, record_id).format(first=first_text, tally=tally)
    return Feedback(critique, passed / len(tests), self.name, reasoning=reasoning)
