"""Arithmetic word problems with worked step-by-step solutions; a fraction carry planted mistakes.

A record's text is

    Problem: <statement>

    Solution:
    Step 1: ... 12 x 4 = 48 ...
    Step 2: ...
    Answer: 33

and its meta holds what a verifier needs to recompute the solution from the statement: the named
`quantities` and the plan `steps` ({"op", "left", "right"}, where "s<k>" is step k's result). Meta
also names the planted flaw ("flaw", "flaw_step"): that label is for tests only, critics recompute.

Planted flaws: `wrong_step` (one step writes a wrong result and later steps carry it on),
`wrong_answer` (every step is right but the final answer line is not), `skipped_step` (one step is
left out and later steps use the value from before it). `flaws` narrows the kinds planted: with
`flaws="wrong_answer"` every flaw is a final answer that disagrees with the last written step, a
flaw a very small model can both produce and avoid (it copies or changes one number).
"""
from __future__ import annotations

import random
from typing import Any

from ixt_jax.data.corpora import math_templates
from ixt_jax.data.corpora.seeding import record_rng
from ixt_jax.errors import ConfigError

FLAWS = ("wrong_step", "wrong_answer", "skipped_step")
_DELTAS = (-10, -3, -2, -1, 1, 2, 3, 10)


def apply_op(op: str, a: int, b: int) -> int | None:
  """`a op b`, or None where that is not a non-negative integer (the corpus never writes one)."""
  if op == "+":
    return a + b
  if op == "x":
    return a * b
  if op == "-":
    return a - b if a >= b else None
  if op == "/":
    return a // b if b and a % b == 0 else None
  raise ValueError(f"unknown operator {op!r}")


def solve(quantities: dict[str, int], steps: list[dict[str, str]]) -> dict[str, int]:
  """The quantities plus every step's correct result under its name `s<k>` (k from 1)."""
  values = dict(quantities)
  for k, step in enumerate(steps, 1):
    values[f"s{k}"] = apply_op(step["op"], values[step["left"]], values[step["right"]])
  return values


def _written(problem: math_templates.Problem, flaw: str | None, at: int, delta: int):
  """The solution rows (step, a, b, c) and final answer as written with `flaw` at step `at`.

  None where the flaw would need a number the corpus never writes (negative, inexact division).
  """
  values = dict(problem.quantities)
  rows = []
  for k, step in enumerate(problem.steps):
    name = f"s{k + 1}"
    if flaw == "skipped_step" and k == at:
      values[name] = values[step.left]
      continue
    a, b = values[step.left], values[step.right]
    c = apply_op(step.op, a, b)
    if c is None:
      return None
    if flaw == "wrong_step" and k == at:
      c += delta
    if c < 0:
      return None
    values[name] = c
    rows.append((step, a, b, c))
  answer = values[f"s{len(problem.steps)}"] + (delta if flaw == "wrong_answer" else 0)
  return (rows, answer) if answer >= 0 else None


def parse_flaws(flaws: str, known: tuple[str, ...]) -> tuple[str, ...]:
  """'a,b' -> ('a', 'b') checked against `known`; '' -> every known kind."""
  kinds = tuple(k for k in flaws.split(",") if k) or known
  unknown = sorted(set(kinds) - set(known))
  if unknown:
    raise ConfigError(f"flaws={flaws!r}: unknown kind(s) {unknown}; expected some of {known}")
  return kinds


def _plant(problem: math_templates.Problem, truth: int, rng: random.Random, kinds: tuple[str, ...]):
  """A flaw kind, its 0-based step, and the written solution; the written answer is always wrong."""
  kind = rng.choice(kinds)
  for _ in range(16):
    at, delta = rng.randrange(len(problem.steps)), rng.choice(_DELTAS)
    written = _written(problem, kind, at, delta)
    if written is not None and written[1] != truth:
      return kind, at, written
  at = len(problem.steps) - 1
  return "wrong_answer", at, _written(problem, "wrong_answer", at, 1)


def _render(statement: str, rows, answer: int) -> str:
  lines = [f"Problem: {statement}", "", "Solution:"]
  for j, (step, a, b, c) in enumerate(rows, 1):
    lines.append(f"Step {j}: " + step.says.format(eq=f"{a} {step.op} {b} = {c}"))
  lines.append(f"Answer: {answer}")
  return "\n".join(lines)


def make_record(seed: int, index: int, flaw_fraction: float, kinds: tuple[str, ...] = FLAWS) -> dict[str, Any]:
  """Record `index`; with flaw_fraction 1 it is the flawed twin of the same problem (the problem is
  drawn before the flaw)."""
  rng = record_rng(seed, "math", index)
  template, problem = math_templates.draw_problem(rng)
  steps = [{"op": s.op, "left": s.left, "right": s.right} for s in problem.steps]
  truth = solve(problem.quantities, steps)[f"s{len(steps)}"]
  flaw, flaw_step, flaw_line = None, None, None
  if rng.random() < flaw_fraction:
    flaw, at, (rows, answer) = _plant(problem, truth, rng, kinds)
    flaw_step = at + 1
    # The first written line that is wrong: the answer line, or the step line at `at` (3 header lines).
    flaw_line = 3 + len(rows) if flaw == "wrong_answer" else 3 + at
  else:
    rows, answer = _written(problem, None, 0, 0)
  return {
      "id": f"math-{seed}-{index:07d}",
      "text": _render(problem.statement, rows, answer),
      "domain": "math",
      "meta": {"quantities": problem.quantities, "steps": steps, "answer": truth, "template": template,
               "flaw": flaw, "flaw_step": flaw_step, "flaw_line": flaw_line},
  }


def generate(n: int, seed: int, flaw_fraction: float = 0.3, flaws: str = "", start: int = 0) -> list[dict[str, Any]]:
  """Records start..start+n-1 (`start` > 0: problems a corpus of `start` records never saw)."""
  kinds = parse_flaws(flaws, FLAWS)
  return [make_record(seed, i, flaw_fraction, kinds) for i in range(start, start + n)]
