"""The conditions a model is scored, sampled and served under: what critique precedes a document.

  none      no critique (only for arms that trained without one: baselines, critique dropout, cooldown)
  true      the record's own critique
  positive  an approval of the domain (the top quality token for kind=quality_token)
  negative  the critique of a planted-flaw version of the record's *own* problem, so its names and
            numbers match the prompt (a negative from another document would pull the model toward
            another problem); for kind=quality_token the token that critique's score maps to, one
            token id away from the positive's
  shuffled  the critique of another record of the *same domain*

Every condition is shown the way the arm was trained: in its template, as a quality token for
kind=quality_token, and as the filler of the same length for the `neutral` control (a neutral-trained
model never saw a real critique, so it is evaluated under its own filler prefix).

Serving and sampling use `prefix_text(condition, record, settings, sources)`; held-out loss uses
`format_for_eval`. The sources (approvals, negatives, donors) come from the caller, so this module
needs neither the critics nor a model (see ixt_jax.evaluate.negatives for the built-in negatives).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from ixt_jax.data import config
from ixt_jax.data import formatting
from ixt_jax.data import records

CONDITIONS = ("none", "true", "positive", "negative", "shuffled")


@dataclasses.dataclass(frozen=True)
class Sources:
  """Where the critiques of the conditions come from.

  Attributes:
    positive: domain -> the approval text ('positive').
    negative: record -> (critique, score) of the planted-flaw version of its own problem ('negative').
    donors: domain -> records with critiques, the pool 'shuffled' draws from (same domain only).
    seed: picks each record's donor.
  """
  positive: Callable[[str], str] | None = None
  negative: Callable[[records.Record], tuple[str, float]] | None = None
  donors: Mapping[str, Sequence[records.Record]] | None = None
  seed: int = 0


def donor(record: records.Record, sources: Sources) -> records.Record:
  """The record of the same domain whose critique 'shuffled' shows with `record` (never itself)."""
  pool = [r for r in (sources.donors or {}).get(record.domain, ()) if r.id != record.id and r.critique]
  if not pool:
    raise ValueError(f"condition='shuffled' needs another critiqued record of domain {record.domain!r}")
  return pool[int(formatting.unit_hash(sources.seed, "shuffled-eval", record.id) * len(pool))]


def raw_critique(condition: str, record: records.Record, settings: formatting.FeedbackSettings,
                 sources: Sources) -> tuple[str, float] | None:
  """(critique text, score) the condition shows with `record`, before any layout; None for 'none'."""
  if condition == "none":
    return None
  if condition == "true":
    if record.critique is None:
      raise ValueError(f"record {record.id!r} has no critique for condition='true'")
    return record.critique, record.score
  if condition == "positive":
    if sources.positive is None:
      if settings.kind == "quality_token":
        return "", 1.0
      raise ValueError("condition='positive' needs Sources.positive (domain -> critique text)")
    return sources.positive(record.domain), 1.0
  if condition == "negative":
    if sources.negative is None:
      if settings.kind == "quality_token":
        return "", 0.0
      raise ValueError("condition='negative' needs Sources.negative (record -> critique of its flawed twin)")
    return sources.negative(record)
  if condition == "shuffled":
    other = donor(record, sources)
    return other.critique, other.score
  raise ValueError(f"condition={condition!r}: expected one of {CONDITIONS}")


def critique_shown(condition: str, record: records.Record, settings: formatting.FeedbackSettings,
                   sources: Sources) -> str:
  """The critique tokens' text under `condition` as the arm was trained to read it ('' = none)."""
  pair = raw_critique(condition, record, settings, sources)
  if pair is None:
    return ""
  text, score = pair
  if settings.control == "neutral":  # the arm trained on a filler of the critique's length
    text = formatting.neutral_text(len(text))
  return formatting.critique_text(text, score, settings)


def prefix_text(condition: str, record: records.Record | str, settings: formatting.FeedbackSettings,
                sources: Sources) -> str:
  """The critique text that goes before a prompt under `condition` ('' for none).

  `record` may be a domain name where the condition needs no record (none, positive).
  """
  if isinstance(record, str):
    record = records.Record(id="prompt", text="", domain=record)
  if settings.placement == "suffix" and condition != "none":
    raise ValueError("data.feedback.placement='suffix' trains the critique after the document: "
                     "only condition='none' can prefix a prompt")
  return critique_shown(condition, record, settings, sources)


def format_for_eval(record: records.Record, settings: formatting.FeedbackSettings, condition: str,
                    sources: Sources) -> formatting.Formatted:
  """The held-out layout under `condition`: weight 1 on document tokens, 0 on everything else,
  the critique placed as training placed it (a suffix for placement=suffix, else a prefix)."""
  return formatting.Formatted(
      critique=critique_shown(condition, record, settings, sources),
      critique_after=settings.placement == "suffix", prompt=record.prompt, text=record.text,
      document_weight=1.0, critique_weight=0.0, prompt_weight=0.0,
      critique_every_chunk=settings.repeat == "every")


def own_condition(c) -> str:
  """The condition an arm (run config `c`) is scored under by default: the one it trains for.

  A positive critique for prefix-trained arms (the filler for the neutral control), none for
  unconditioned arms and for a conditioning cooldown, which ends training without critiques.
  """
  if c.data.feedback.placement == "none" or c.train.get("conditioning_cooldown", 0.0) > 0:
    return "none"
  return "positive"


def trained_conditions(c) -> tuple[str, ...]:
  """The conditions an arm may be scored under: those its training showed it.

  'none' only where some training documents had no critique (baselines, dropout, partial
  annotation, a mixture's source without feedback, cooldown); never for a suffix arm's prefix conditions.
  """
  fb = c.data.feedback
  unconditioned = (fb.dropout > 0 or fb.annotated_fraction < 1 or bool(config.feedback_off_dirs(c.data))
                   or c.train.get("conditioning_cooldown", 0.0) > 0)
  if fb.placement == "none":
    return ("none",)
  shown = ("true", "positive", "negative", "shuffled")
  if fb.placement == "suffix":
    shown = ()
  return (("none",) if unconditioned or not shown else ()) + shown

