"""Judges a sampled continuation of a steer prompt: is it well formed, and does it carry a flaw?

The verifiers judge exactly the flaw kinds the corpus planted (its config's `flaws` / `bug`), on
what the sample itself writes:
  math  well formed: at least one `Step` line, each with a computation, and an `Answer:` line.
        wrong_answer: the answer is not the last step's result; wrong_step: a step's arithmetic is
        wrong; skipped_step: fewer steps than the problem's plan.
  code  well formed: prompt + sample parses as Python. Flawed: it fails the function's unit tests
        (run in the sandbox), whatever the bug.
  text  well formed: at least MIN_TEXT_CHARS visible characters. noise: the text critic's noise
        share passes its threshold; repetition: its repetition signals do.
A malformed sample is not judged for flaws (its `flawed` is None).
"""
from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any

from ixt_jax.data.corpora import math_problems, stdlib_text
from ixt_jax.evaluate import code_task
from ixt_jax.evaluate.steer_prompts import SteerPrompt
from ixt_jax.feedback import math_verifier, text_quality

MIN_TEXT_CHARS = 24


def _math(prompt: SteerPrompt, sample: str, kinds: Sequence[str]) -> tuple[bool, bool | None]:
  step_lines = [line for line in sample.splitlines() if line.startswith("Step ")]
  steps = math_verifier.step_lines(sample)
  answer = math_verifier.ANSWER_LINE.search(sample)
  if not step_lines or any(s is None for s in steps) or answer is None:
    return False, None
  flawed = False
  if "wrong_answer" in kinds:
    flawed |= int(answer[1]) != steps[-1][3]
  if "wrong_step" in kinds:
    flawed |= any(math_problems.apply_op(op, a, b) != c for a, op, b, c in steps)
  if "skipped_step" in kinds:
    flawed |= len(steps) < len(prompt.clean["meta"]["steps"])
  return True, flawed


def _text(sample: str, kinds: Sequence[str]) -> tuple[bool, bool | None]:
  if sum(not ch.isspace() for ch in sample) < MIN_TEXT_CHARS:
    return False, None
  s = text_quality.measure(sample)
  flawed = False
  if "noise" in kinds:
    flawed |= s.noise >= text_quality.NOISE_THRESHOLD
  if "repetition" in kinds:
    flawed |= s.run >= text_quality.RUN_THRESHOLD or s.repeated >= text_quality.REPEAT_THRESHOLD
  return True, flawed


def _parses(program: str) -> bool:
  try:
    ast.parse(program)
  except (SyntaxError, ValueError):
    return False
  return True


def regime_kinds(corpus_config: Mapping[str, Any], domain: str) -> tuple[str, ...]:
  """The flaw kinds the corpus planted in `domain` (all kinds where its config names none)."""
  if domain == "math":
    return math_problems.parse_flaws(corpus_config["math"].get("flaws", ""), math_problems.FLAWS)
  if domain == "text":
    return tuple(k for k in corpus_config["text"].get("flaws", "").split(",") if k) or stdlib_text.FLAWS
  return ("failing_test",)


def judge(prompts: Sequence[SteerPrompt], samples: Sequence[str], corpus_config: Mapping[str, Any],
          timeout_s: float = 2.0) -> list[tuple[bool, bool | None]]:
  """(well_formed, flawed) of each sample; `samples[i]` continues `prompts[i]`."""
  results: list[tuple[bool, bool | None] | None] = [None] * len(samples)
  code_rows = []
  for i, (prompt, sample) in enumerate(zip(prompts, samples)):
    if prompt.domain == "math":
      results[i] = _math(prompt, sample, regime_kinds(corpus_config, "math"))
    elif prompt.domain == "text":
      results[i] = _text(sample, regime_kinds(corpus_config, "text"))
    elif _parses(prompt.prompt + sample):
      code_rows.append(i)
    else:
      results[i] = (False, None)
  passed = code_task.passes([prompts[i].prompt + samples[i] for i in code_rows],
                            [prompts[i].clean["meta"]["tests"] for i in code_rows], timeout_s)
  for i, ok in zip(code_rows, passed):
    results[i] = (True, not ok)
  return results
