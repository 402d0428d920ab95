"""Annotated records: parse and validate one record's bytes, and quarantine the ones that fail.

A record is `{"id", "text", "domain", "feedback": {"critique", "score", "critic"}, "meta"?,
"prompt"?}` (docs/architecture.md); raw records lack "feedback". A record that breaks the contract is
never trained on: it is counted by reason and written to a quarantine file with where it came from.
"""
from __future__ import annotations

import collections
import dataclasses
import json

from etils import epath

from ixt_jax.data import shards

# Why a record was refused; the keys of every bad-record count.
INVALID_UTF8 = "invalid_utf8"
MALFORMED_JSON = "malformed_json"
NOT_AN_OBJECT = "not_an_object"
MISSING_FIELD = "missing_field"
WRONG_TYPE = "wrong_type"
EMPTY_DOCUMENT = "empty_document"
SCORE_OUT_OF_RANGE = "score_out_of_range"
MISSING_FEEDBACK = "missing_feedback"
CRITIQUE_TOO_LONG = "critique_too_long"
REASONS = (INVALID_UTF8, MALFORMED_JSON, NOT_AN_OBJECT, MISSING_FIELD, WRONG_TYPE, EMPTY_DOCUMENT,
           SCORE_OUT_OF_RANGE, MISSING_FEEDBACK, CRITIQUE_TOO_LONG)
_QUARANTINED_BYTES = 100_000  # enough of a record to recognise it


@dataclasses.dataclass(frozen=True)
class Record:
  id: str
  text: str
  domain: str
  critique: str | None = None  # None: a raw (unannotated) record
  score: float | None = None
  prompt: str | None = None


class BadRecord(ValueError):
  """A record that breaks the contract; `reason` is one of REASONS."""

  def __init__(self, reason: str, detail: str):
    super().__init__(f"{reason}: {detail}")
    self.reason = reason
    self.detail = detail


def _field(obj: dict, name: str, kind, where: str = ""):
  if name not in obj:
    raise BadRecord(MISSING_FIELD, f"no {where}{name!r}")
  value = obj[name]
  if not isinstance(value, kind) or isinstance(value, bool):
    raise BadRecord(WRONG_TYPE, f"{where}{name!r} is {type(value).__name__}")
  if isinstance(value, str):
    try:
      value.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate escaped in the JSON
      raise BadRecord(INVALID_UTF8, f"{where}{name!r}: {e.reason}") from None
  return value


def parse_record(raw: bytes, *, require_feedback: bool) -> Record:
  """The record in `raw` (one UTF-8 JSON object), or BadRecord saying why not."""
  try:
    obj = json.loads(raw.decode("utf-8-sig"))  # -sig: a file written by Windows tools opens with a BOM
  except UnicodeDecodeError as e:
    raise BadRecord(INVALID_UTF8, str(e)) from None
  except ValueError as e:
    raise BadRecord(MALFORMED_JSON, str(e)) from None
  if not isinstance(obj, dict):
    raise BadRecord(NOT_AN_OBJECT, f"a JSON {type(obj).__name__}")
  record_id = _field(obj, "id", str)
  text = _field(obj, "text", str)
  domain = _field(obj, "domain", str)
  prompt = _field(obj, "prompt", str) if "prompt" in obj else None
  if not text.strip():
    raise BadRecord(EMPTY_DOCUMENT, "text is empty or whitespace")
  if "feedback" not in obj:
    if require_feedback:
      raise BadRecord(MISSING_FEEDBACK, "no 'feedback' (raw records need feedback.placement=none)")
    return Record(record_id, text, domain, prompt=prompt)
  feedback = _field(obj, "feedback", dict)
  critique = _field(feedback, "critique", str, "feedback.")
  score = float(_field(feedback, "score", (int, float), "feedback."))
  _field(feedback, "critic", str, "feedback.")
  if not 0.0 <= score <= 1.0:  # also refuses NaN
    raise BadRecord(SCORE_OUT_OF_RANGE, f"feedback.score={score}")
  return Record(record_id, text, domain, critique, score, prompt)


# Records from elsewhere (a Hugging Face JSONL of {"id", "text"}, say) lack the project's fields.
IMPORT_HINT = ("records need string fields id, text and domain: convert a corpus from elsewhere with "
               "python -m experiments.corpus --config=configs/data/hf.py --config.source.data_files=FILES "
               "(--config.fields.text=COLUMN, --config.fields.domain=text or --config.fields.domain_field=COLUMN)")


class Quarantine:
  """Collects refused records and writes them to one JSONL file at the end, atomically."""

  def __init__(self):
    self.counts: collections.Counter[str] = collections.Counter()
    self.first_detail: dict[str, str] = {}  # reason -> the first refused record's detail
    self._entries: list[dict] = []

  def explain(self) -> str:
    """Counts by reason with the first detail of each; the import hint when fields are missing."""
    text = "; ".join(f"{reason}: {n} (first: {self.first_detail[reason]})" for reason, n in self.counts.items())
    return text + (f". {IMPORT_HINT}" if self.counts[MISSING_FIELD] else "")

  def add(self, shard: str, index: int, error: BadRecord, raw: bytes):
    self.counts[error.reason] += 1
    self.first_detail.setdefault(error.reason, f"{shard} record {index}: {error.detail}")
    self._entries.append({"shard": shard, "index": index, "reason": error.reason,
                          "detail": error.detail,
                          "raw": raw[:_QUARANTINED_BYTES].decode("utf-8", errors="replace")})

  def __len__(self) -> int:
    return len(self._entries)

  def write(self, path: epath.PathLike) -> epath.Path | None:
    """Writes the entries (if any) to `path`; returns it, or None when nothing was refused."""
    if not self._entries:
      return None
    shards.write_shard(path, self._entries)
    return epath.Path(path)
