"""Math exact match: the model solves held-out built-in word problems; its `Answer:` line is scored.

The prompt is a record's text up to and including its `Solution:` line (cut at a newline, so its
tokens are those training saw); the truth is the record's `meta.answer`, recomputed by the corpus
from the problem, never the (possibly flawed) solution written in the record.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

SOLUTION_LINE = "Solution:\n"
STOP = ("\nProblem:",)  # a model that runs past its answer into a new problem
_ANSWER = re.compile(r"^Answer:\s*(-?\d+)\s*$", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class MathProblem:
  id: str
  prompt: str
  answer: int


def math_problems(raw_records: Sequence[dict[str, Any]]) -> list[MathProblem]:
  """Problems from records with a `Solution:` line and a ground-truth `meta.answer`."""
  problems = []
  for record in raw_records:
    cut = record["text"].find(SOLUTION_LINE)
    answer = (record.get("meta") or {}).get("answer")
    if cut >= 0 and isinstance(answer, int):
      problems.append(MathProblem(record["id"], record["text"][:cut + len(SOLUTION_LINE)], answer))
  return problems


def parse_answer(solution: str) -> int | None:
  """The number on the first `Answer:` line of a generated solution, if any."""
  match = _ANSWER.search(solution)
  return int(match[1]) if match else None


def exact_matches(problems: Sequence[MathProblem], solutions: Sequence[str]) -> list[bool]:
  return [parse_answer(s) == p.answer for p, s in zip(problems, solutions)]
