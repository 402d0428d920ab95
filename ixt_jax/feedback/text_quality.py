"""Text critic: ordinary prose and code quality from signals it can measure, said in words.

Signals: character noise (the share of stray symbols and control characters), repetition (lines
that repeat earlier ones, and blocks of lines repeated back to back), syntax (when the text looks
like Python code, does `ast.parse` accept it), and length. Each signal past its threshold costs
score and adds a sentence to the critique; a text past none scores 1 and gets an approval.
"""
from __future__ import annotations

import ast
import dataclasses
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from ixt_jax.feedback.critic import Failure, Feedback, choose

APPROVALS = (
    "Clean, well-formed text: no stray characters, no repetition, and any code in it parses.",
    "Well written and tidy: the text reads cleanly, nothing is repeated, and its code is valid.",
    "No problems found: clean characters, no duplicated passages, syntactically valid where it is code.",
)
NOISE_THRESHOLD = 0.005  # share of non-space characters that are stray symbols or controls
REPEAT_THRESHOLD = 0.7  # share of substantive lines repeating an earlier one (similar methods reach 0.6)
RUN_THRESHOLD = 3  # a block of lines appearing this many times back to back
MIN_CHARS = 64
_SUBSTANTIVE = 8  # lines shorter than this (`else:`, `}`) repeat naturally
_MAX_BLOCK = 8
_CODE_LINE = re.compile(  # statements, comments, lines that open or close brackets, docstring quotes
    r"^\s*(def |class |import |from \S+ import |return\b|yield\b|raise\b|assert\b|pass$|@\w|#|\"\"\"|'''|"
    r"(if|elif|for|while|with|try|except|finally|else)\b.*:$|[\w.\[\]]+\s*[-+*/]?=\s*\S|[\w.]+\(.*\)$|"
    r".*[,(\[{]$|[)\]}]+[,:]?$)")
# Python, not prose with an example in it: mostly code lines, or partly code lines with the first
# part parsing (the parser stops late, as in code cut off mid-statement; prose fails at once).
_CODE_SHARE, _PARTLY_CODE_SHARE, _PARSED_SHARE = 0.6, 0.3, 0.6
_ALLOWED_PUNCTUATION = set("\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00b7")  # typographic quotes, dashes


def _is_noise(ch: str) -> bool:
  if ch.isascii():
    return not (ch.isprintable() or ch in "\n\t\r")
  if ch in _ALLOWED_PUNCTUATION or "\u2500" <= ch <= "\u257f":  # box drawing, as in tree diagrams
    return False
  return unicodedata.category(ch)[0] not in "LNZM"  # letters, numbers, spaces, marks are text


@dataclasses.dataclass(frozen=True)
class Signals:
  chars: int
  noise: float
  noise_examples: str
  repeated: float
  run: int  # the most times one block of lines appears back to back
  run_line: str
  looks_like_code: bool
  syntax_error: str | None


def _longest_run(lines: list[str]) -> tuple[int, str]:
  best, example = 1, ""
  for size in range(1, _MAX_BLOCK + 1):
    for start in range(len(lines) - size):
      count = 1
      while lines[start:start + size] == lines[start + count * size:start + (count + 1) * size]:
        count += 1
      if count > best and any(len(line) >= _SUBSTANTIVE for line in lines[start:start + size]):
        best, example = count, lines[start]
  return best, example


def measure(text: str) -> Signals:
  visible = [ch for ch in text if not ch.isspace()]
  noisy = [ch for ch in visible if _is_noise(ch)]
  lines = [line.strip() for line in text.splitlines() if line.strip()]
  substantive = [line for line in lines if len(line) >= _SUBSTANTIVE]
  repeats = len(substantive) - len(set(substantive))
  run, run_line = _longest_run(lines)
  code_share = sum(bool(_CODE_LINE.match(line)) for line in lines) / max(1, len(lines))
  syntax_error, parsed_share = None, 1.0
  try:
    ast.parse(text)
  except SyntaxError as e:
    syntax_error, parsed_share = f"{e.msg} at line {e.lineno}", (e.lineno or 0) / max(1, len(text.splitlines()))
  except ValueError as e:  # a NUL character
    syntax_error, parsed_share = str(e), 0.0
  looks_like_code = code_share >= _CODE_SHARE or (
      code_share >= _PARTLY_CODE_SHARE and parsed_share >= _PARSED_SHARE)
  return Signals(
      chars=len(text), noise=len(noisy) / max(1, len(visible)),
      noise_examples=", ".join(repr(ch) for ch in list(dict.fromkeys(noisy))[:5]),
      repeated=repeats / max(1, len(substantive)), run=run, run_line=run_line[:60],
      looks_like_code=looks_like_code, syntax_error=syntax_error if looks_like_code else None)


class TextQualityCritic:
  name = "text-quality"
  n_params = 0

  def describe(self) -> dict:
    return {"name": self.name, "n_params": 0}

  def __call__(self, records: Sequence[dict[str, Any]]) -> list[Feedback | Failure]:
    return [self.judge(record) for record in records]

  def judge(self, record: dict[str, Any]) -> Feedback:
    s = measure(record["text"])
    issues, penalty = [], 0.0
    if s.noise >= NOISE_THRESHOLD:
      issues.append(f"About {s.noise:.1%} of its characters are stray symbols or control characters "
                    f"({s.noise_examples}), as if the text were corrupted.")
      penalty += min(0.6, 0.2 + 4 * s.noise)
    if s.run >= RUN_THRESHOLD:
      issues.append(f"A passage repeats {s.run} times in a row (starting \"{s.run_line}\").")
      penalty += 0.4
    elif s.repeated >= REPEAT_THRESHOLD:
      issues.append(f"It repeats itself: {s.repeated:.0%} of its lines duplicate earlier ones.")
      penalty += 0.3
    if s.syntax_error:
      issues.append(f"It is Python that does not parse ({s.syntax_error}), e.g. cut off mid-statement.")
      penalty += 0.4
    if s.chars < MIN_CHARS:
      issues.append(f"At {s.chars} characters it is too short to say much.")
      penalty += 0.2
    reasoning = (f"{s.chars} characters; {s.noise:.1%} stray; {s.repeated:.0%} of lines repeated; a block at most "
                 f"{s.run} times in a row; " + (("Python that parses" if not s.syntax_error else "Python that does not "
                                                 "parse") if s.looks_like_code else "prose") + ".")
    if not issues:
      return Feedback(choose(APPROVALS, record["id"]), 1.0, self.name, reasoning=reasoning)
    return Feedback(" ".join(issues), max(0.0, 1.0 - penalty), self.name, reasoning=reasoning)
