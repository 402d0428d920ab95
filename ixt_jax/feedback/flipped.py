"""A critic of known quality: another critic whose verdict is flipped for a fixed fraction of records.

For the dose-response of critic quality (study v2): training on the verifiers' annotations with 0, 10,
25 or 50% of the verdicts flipped places a model critic of measured agreement on a curve without
training one per point. Which records flip is a hash of the id (the same on every run and machine). A
flipped flaw becomes the domain's approval with score 1. A flipped approval takes the critique and score
of a flawed record of the same domain in the batch (chosen by hash), so a wrong verdict looks like a
right one: its score, hence its quality token, is one real flaws get (a generic claim when the batch
has no flawed record of that domain).
"""
from __future__ import annotations

import collections
import hashlib
from collections.abc import Sequence
from typing import Any

from ixt_jax.feedback import positive
from ixt_jax.feedback.critic import Critic, Failure, Feedback, choose

FLAW_CLAIMS = {  # only when the batch holds no flawed record of the domain to borrow from
    "math": ("The solution contains a mistake.", "One of the steps is wrong.", "The answer is not right."),
    "code": ("The function fails its tests.", "The code has a bug.", "A test of this function fails."),
    "text": ("The text has problems.", "The text is not clean.", "The text contains errors."),
}


class FlippedCritic:
  """`critic`'s judgements, with the verdict of a `fraction` of records (chosen by id) reversed."""

  def __init__(self, critic: Critic, fraction: float, seed: int = 0):
    if not 0.0 <= fraction <= 1.0:
      raise ValueError(f"flip fraction {fraction} is outside [0, 1]")
    self.critic, self.fraction, self.seed = critic, fraction, seed
    self.name = f"{critic.name}+flip{fraction:g}"
    self.n_params = critic.n_params

  def describe(self) -> dict[str, Any]:
    return {**self.critic.describe(), "flip_fraction": self.fraction, "flip_seed": self.seed}

  def _unit(self, *parts: str) -> float:
    digest = hashlib.sha256("\0".join((str(self.seed), *parts)).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64

  def flips(self, record_id: str) -> bool:
    return self._unit("flip", record_id) < self.fraction

  def __call__(self, records: Sequence[dict[str, Any]]) -> list[Feedback | Failure]:
    judged = self.critic(records)
    flawed: dict[str, list[Feedback]] = collections.defaultdict(list)  # per domain, the batch's real flaws
    for record, result in zip(records, judged):
      if isinstance(result, Feedback) and result.score < 1.0:
        flawed[record.get("domain")].append(result)
    results = []
    for record, result in zip(records, judged):
      if isinstance(result, Feedback) and self.flips(record["id"]):
        if result.score < 1.0:
          result = Feedback(positive.approval(_known_domain(record), record["id"]), 1.0, self.name, result.tokens)
        else:
          result = Feedback(*self._flaw(record, flawed), self.name, result.tokens)
      results.append(result)
    return results

  def _flaw(self, record: dict[str, Any], flawed: dict[str, list[Feedback]]) -> tuple[str, float]:
    """(critique, score) of a borrowed real flaw of the record's domain, or a generic claim with score 0."""
    pool = flawed.get(record.get("domain"))
    if pool:
      donor = pool[int(self._unit("donor", record["id"]) * len(pool))]
      return donor.critique, donor.score
    return choose(FLAW_CLAIMS[_known_domain(record)], record["id"]), 0.0


def _known_domain(record: dict[str, Any]) -> str:
  """The record's domain where a built-in critic knows it, else text (the built-in critics' default)."""
  return record["domain"] if record.get("domain") in FLAW_CLAIMS else "text"
