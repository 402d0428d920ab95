"""What a record becomes before tokenization: its critique text, where it goes, and its weights.

Random-looking choices (critique dropout, which records count as annotated) are hashes of the seed
and the record id, so they are the same in every worker, on every resume and for every batch size.
"""
from __future__ import annotations

import dataclasses
import hashlib

from ixt_jax.data import config
from ixt_jax.data import records
from ixt_jax.data import vocab as vocab_lib

APPROVED_SCORE = 0.5  # document_by_score='approved' trains only on documents scored this or more
NEUTRAL_FILLER = "This is a document. "  # the 'neutral' control's prefix, cut to the critique's length


@dataclasses.dataclass(frozen=True)
class FeedbackSettings:
  """`config.data.feedback` resolved into plain values (picklable, cheap to read per record)."""
  placement: str
  repeat: str
  kind: str
  template: str
  dropout: float
  annotated_fraction: float
  critique_weight: float
  document_weight: float
  prompt_weight: float
  document_by_score: str
  control: str
  donors: str

  @classmethod
  def from_config(cls, data_cfg) -> FeedbackSettings:
    fb = data_cfg.feedback
    # A config written before `repeat` existed trained with the critique before every chunk.
    return cls(placement=fb.placement, repeat=fb.get("repeat", "every"), kind=fb.kind, template=fb.template,
               dropout=float(fb.dropout), annotated_fraction=float(fb.annotated_fraction),
               critique_weight=config.critique_weight(fb),
               document_weight=float(fb.weight.document), prompt_weight=float(fb.weight.prompt),
               document_by_score=fb.weight.document_by_score, control=fb.control,
               donors=fb.get("donors", "any"))  # configs from before `donors` drew from every record

  def without_critiques(self) -> FeedbackSettings:
    """The layout of a document shown with no critique (a mixture's source trained without feedback)."""
    return dataclasses.replace(self, placement="none", control="")


@dataclasses.dataclass(frozen=True)
class Formatted:
  """A record laid out for tokenization; `critique` is '' when none is shown."""
  critique: str
  critique_after: bool  # True: the critique follows each document chunk (suffix placement)
  prompt: str | None
  text: str
  document_weight: float
  critique_weight: float
  prompt_weight: float
  critique_every_chunk: bool = True  # False: a long document shows its critique with its first chunk only


def unit_hash(*parts) -> float:
  """A deterministic number in [0, 1) from `parts`."""
  digest = hashlib.blake2b("\0".join(map(str, parts)).encode("utf-8", "surrogatepass"), digest_size=8)
  return int.from_bytes(digest.digest(), "big") / 2.0**64


def quality_token(score: float) -> str:
  return vocab_lib.QUALITY_TOKENS[min(int(score * vocab_lib.QUALITY_LEVELS), vocab_lib.QUALITY_LEVELS - 1)]


def critique_text(critique: str, score: float, settings: FeedbackSettings) -> str:
  """The tokens a critique is shown as: the template around its text, or a quality token."""
  if settings.kind == "quality_token":
    return quality_token(score)
  return settings.template.format(critique=critique)


def document_weight(record: records.Record, settings: FeedbackSettings) -> float:
  if record.score is None or not settings.document_by_score:
    return settings.document_weight
  if settings.document_by_score == "score":
    return settings.document_weight * record.score
  return settings.document_weight * float(record.score >= APPROVED_SCORE)  # 'approved'


def neutral_text(length: int) -> str:
  return (NEUTRAL_FILLER * (length // len(NEUTRAL_FILLER) + 1))[:length]


def donor_index(record_id: str, seed: int, num_records: int) -> int:
  """The record whose critique the 'shuffled' control shows with `record_id`'s document."""
  return int(unit_hash(seed, "shuffled", record_id) * num_records)


def format_for_training(record: records.Record, settings: FeedbackSettings, *, seed: int,
                        epoch: int, donor: records.Record | None = None) -> Formatted:
  """The training layout; `annotated_fraction` is fixed per record, dropout redrawn per epoch.

  Controls: 'shuffled' shows `donor`'s critique (another record's, see donor_index) instead of the
  record's own; 'neutral' shows a filler of the critique's length that says nothing about it.
  """
  shown = (settings.placement != "none" and record.critique is not None
           and unit_hash(seed, "annotated", record.id) < settings.annotated_fraction
           and unit_hash(seed, "dropout", epoch, record.id) >= settings.dropout)
  critique = ""
  if shown:
    source = donor if settings.control == "shuffled" and donor is not None and donor.critique else record
    text = neutral_text(len(record.critique)) if settings.control == "neutral" else source.critique
    critique = critique_text(text, source.score, settings)
  return Formatted(critique=critique, critique_after=settings.placement == "suffix",
                   prompt=record.prompt, text=record.text,
                   document_weight=document_weight(record, settings),
                   critique_weight=settings.critique_weight, prompt_weight=settings.prompt_weight,
                   critique_every_chunk=settings.repeat == "every")

