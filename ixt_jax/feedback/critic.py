"""What a critic returns for a record, and the interface every critic implements."""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any, Protocol


@dataclasses.dataclass(frozen=True)
class Feedback:
  """A critique in words and a score in [0, 1] (1: flawless), from the critic named `critic`.

  `tokens` counts what a model critic read and wrote for it (prompt + completion; 0 for the built-in
  verifiers, None if the server did not say) and `generated_tokens` what it wrote; they feed
  annotation compute, not the record. `reasoning` is what a verifier checked on the way (its steps
  recomputed, tests run, signals measured): the thinking a trained critic learns to write first.
  """
  critique: str
  score: float
  critic: str
  tokens: int | None = 0
  generated_tokens: int | None = 0
  reasoning: str = ""

  def __post_init__(self):
    if not 0.0 <= self.score <= 1.0:
      raise ValueError(f"score {self.score} is outside [0, 1]")
    if not self.critique.strip():
      raise ValueError("empty critique")

  def as_record_field(self) -> dict[str, Any]:
    return {"critique": self.critique, "score": self.score, "critic": self.critic}


@dataclasses.dataclass(frozen=True)
class Failure:
  """A record the critic could not judge: why, and the raw text it got (e.g. a server's reply)."""
  reason: str
  critic: str
  raw: str = ""
  tokens: int | None = 0
  generated_tokens: int | None = 0


class Critic(Protocol):
  """Maps a batch of records to one Feedback or Failure each, in order.

  `name` identifies the critic in records and summaries; `n_params` is the size of the model behind
  it (0 for the built-in verifiers), so annotation compute is 2 x n_params x tokens.
  """
  name: str
  n_params: int

  def __call__(self, records: Sequence[dict[str, Any]]) -> list[Feedback | Failure]:
    ...

  def describe(self) -> dict[str, Any]:
    """What identifies this critic's judgements (settings, model): for summaries and the cache key."""
    ...


def choose(options: Sequence[str], record_id: str) -> str:
  """One of several phrasings, the same for a record id on every run and machine."""
  digest = hashlib.sha256(record_id.encode("utf-8")).digest()
  return options[int.from_bytes(digest[:8], "big") % len(options)]
