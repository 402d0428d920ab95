"""Math critic: recomputes a worked solution from the problem's quantities, step by step.

It reads the `Step k: ... a op b = c` lines and the `Answer: n` line of the text, and the problem's
`meta.quantities` and plan `meta.steps` (never the planted-flaw label). Walking the plan, it checks
that each written step combines the right numbers with the right operator and gets the arithmetic
right; the critique names the first step that does not (with its numbers) or confirms the work.
Score: half for the share of steps right before the first error, half for a correct final answer.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ixt_jax.data.corpora.math_problems import apply_op, solve
from ixt_jax.feedback.critic import Failure, Feedback, choose

_EQUATION = re.compile(r"(\d+) ([-+x/]) (\d+) = (-?\d+)")
ANSWER_LINE = re.compile(r"^Answer:\s*(-?\d+)\s*$", re.MULTILINE)
_VERBS = {"x": "multiplies {a} by {b}", "+": "adds {a} and {b}", "-": "subtracts {b} from {a}",
          "/": "divides {a} by {b}"}

APPROVALS = (
    "Every step checks out against the problem and the final answer is correct.",
    "Correct: each computation follows from the problem's numbers and the answer is right.",
    "I recomputed each step from the problem statement: all of them are right, and so is the answer.",
    "The reasoning is sound and the arithmetic is right at every step; the final answer is correct.",
)
_ARITHMETIC = (
    "Step {j} {verb} and writes {c}; {a} {op} {b} is {right}. Every later step inherits the error.",
    "The slip is in step {j}: {a} {op} {b} = {right}, not {c}, so the final answer built on it is wrong.",
    "Step {j} gets the arithmetic wrong: {a} {op} {b} gives {right}, yet the solution writes {c}.",
    "Wrong at step {j}: it claims {a} {op} {b} = {c}, but {a} {op} {b} equals {right}; the answer is off as a result.",
)
_SKIPPED = (
    "A step is missing before step {j}: the solution never works out {ea} {eop} {eb} = {right}, and "
    "step {j} {verb} instead, so the answer is wrong.",
    "Step {j} skips ahead: it {verb} without first computing {ea} {eop} {eb} = {right}, which the problem needs.",
    "The solution leaves out a step: {ea} {eop} {eb} = {right} should come before step {j}, which {verb} too early.",
)
_WRONG_SETUP = (
    "Step {j} {verb}, but at that point the problem calls for {ea} {eop} {eb} = {right}.",
    "Step {j} uses the wrong numbers: it {verb} where the problem needs {ea} {eop} {eb} = {right}.",
)
_STOPS_EARLY = (
    "The solution stops after step {j}: it never works out {ea} {eop} {eb} = {right}, so its answer is wrong.",
    "A step is missing at the end: after step {j} the problem still needs {ea} {eop} {eb} = {right}.",
)
_WRONG_ANSWER = (
    "Every step is right and reaches {value}, but the final answer says {stated}.",
    "The working is correct up to {value}; the answer line then states {stated} instead of {value}.",
    "All the steps check out, yet the final answer {stated} does not match the {value} they produce.",
)
_NO_ANSWER = (
    "The steps are right and reach {value}, but the solution never states a final answer.",
)


def step_lines(text: str) -> list[tuple[int, str, int, int] | None]:
  """(a, op, b, c) of each `Step` line's computation, None for a step line without one."""
  rows = []
  for line in text.splitlines():
    if line.startswith("Step "):
      m = _EQUATION.search(line)
      rows.append((int(m[1]), m[2], int(m[3]), int(m[4])) if m else None)
  return rows


def _exact(op: str, a: int, b: int) -> int | float | str:
  """`a op b` as a reader would check it (any text may divide unevenly or by zero)."""
  if op == "/":
    return "undefined" if b == 0 else apply_op(op, a, b) if a % b == 0 else round(a / b, 4)
  return a - b if op == "-" else apply_op(op, a, b)


class MathVerifierCritic:
  """Needs `meta.quantities` and `meta.steps` (as written by the built-in math corpus)."""

  name = "math-verifier"
  n_params = 0

  def describe(self) -> dict:
    return {"name": self.name, "n_params": 0}

  def __call__(self, records: Sequence[dict[str, Any]]) -> list[Feedback | Failure]:
    return [self.judge(record) for record in records]

  def judge(self, record: dict[str, Any]) -> Feedback | Failure:
    meta = record.get("meta") or {}
    if "quantities" not in meta or "steps" not in meta:
      return Failure("math record has no meta.quantities and meta.steps to recompute from", self.name)
    plan, values = meta["steps"], solve(meta["quantities"], meta["steps"])
    truth = values[f"s{len(plan)}"]
    written = step_lines(record["text"])
    answer_match = ANSWER_LINE.search(record["text"])
    answer = int(answer_match[1]) if answer_match else None

    checked = []  # the reasoning: each step recomputed, then the answer

    def verdict(options, score, **numbers):
      return Feedback(choose(options, record["id"]).format(**numbers), score, self.name,
                      reasoning=" ".join(checked))

    for k, step in enumerate(plan):
      ea, eb = values[step["left"]], values[step["right"]]
      expected = dict(ea=ea, eop=step["op"], eb=eb, right=values[f"s{k + 1}"])
      partial = 0.5 * k / len(plan)
      needed = f"Step {k + 1} needs {ea} {step['op']} {eb} = {expected['right']}"
      if k >= len(written):
        checked.append(f"{needed}; it is missing.")
        return verdict(_STOPS_EARLY, partial, j=k, **expected)
      if written[k] is None:
        checked.append(f"{needed}; it shows no computation.")
        return verdict(_WRONG_SETUP, partial, j=k + 1, verb="shows no computation", **expected)
      a, op, b, c = written[k]
      same_numbers = (a, b) == (ea, eb) or (op in "+x" and (b, a) == (ea, eb))
      if op == step["op"] and same_numbers:
        if c != _exact(op, a, b):
          checked.append(f"{needed}; it writes {c}: wrong.")
          return verdict(_ARITHMETIC, partial, j=k + 1, verb=_VERBS[op].format(a=a, b=b), a=a, op=op, b=b, c=c,
                         right=_exact(op, a, b))
        checked.append(f"{needed}: right.")
        continue
      checked.append(f"{needed}; it has {a} {op} {b}: wrong numbers.")
      skipped = k + 1 < len(plan) and op == plan[k + 1]["op"]
      return verdict(_SKIPPED if skipped else _WRONG_SETUP, partial, j=k + 1, verb=_VERBS[op].format(a=a, b=b),
                     **expected)
    checked.append(f"Answer {truth}; it states {'none' if answer is None else answer}.")
    if answer is None:
      return verdict(_NO_ANSWER, 0.5, value=truth)
    if answer != truth:
      return verdict(_WRONG_ANSWER, 0.5, value=truth, stated=answer)
    return verdict(APPROVALS, 1.0)
