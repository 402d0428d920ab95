"""The give-away positive control: a critique that hands the model the flaw itself.

It wraps a critic and, for a record it judged flawed, appends the flawed line verbatim, read from
the corpus's planted-flaw label (`meta.flaw_line`). Its standard critique already names the correct
value (the right result of the wrong step, the expected value of the failing test); quoting the line
makes the flaw a copy away. A model trained on it that still shows no difference between negative
and positive conditions means the apparatus or the model size cannot see information use.
Never a real critic: it reads the label real critics must not.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ixt_jax.feedback.critic import Critic, Failure, Feedback


def flawed_line(record: dict[str, Any]) -> str | None:
  """The text of the record's planted flawed line, or None for a clean record."""
  line = (record.get("meta") or {}).get("flaw_line")
  lines = record["text"].splitlines()
  return lines[line].strip() if line is not None and 0 <= line < len(lines) else None


class GiveawayCritic:
  """`critic`'s judgements, with the flawed line quoted in every critique of a flawed record."""

  def __init__(self, critic: Critic):
    self.critic = critic
    self.name = f"{critic.name}+giveaway"
    self.n_params = critic.n_params

  def describe(self) -> dict[str, Any]:
    return {**self.critic.describe(), "giveaway": True}

  def __call__(self, records: Sequence[dict[str, Any]]) -> list[Feedback | Failure]:
    results = []
    for record, result in zip(records, self.critic(records)):
      line = flawed_line(record)
      if isinstance(result, Feedback) and result.score < 1.0 and line:
        result = dataclasses.replace(result, critique=f'{result.critique} The flawed line: "{line}".')
      results.append(result)
    return results
