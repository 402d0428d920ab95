"""One pass over a corpus's shards: validate every record, quarantine bad ones, split held-out.

The scan is deterministic and independent of the method (placement, weights, dropout), so every
method at a seed trains on the same records in the same order; only a raw record (no feedback) is
refused when a method needs feedback (unless its source trains without critiques). The result
indexes training records by reference (24 bytes each), so the pipeline reads only what it trains on and only the held-out records sit in memory.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Iterator, Sequence

from etils import epath
import numpy as np

from ixt_jax import rundir
from ixt_jax.data import config
from ixt_jax.data import corpus_index
from ixt_jax.data import heldout
from ixt_jax.data import records
from ixt_jax.data import shards
from ixt_jax.data import source
from ixt_jax.errors import DataError, DataNotFoundError


class BadInputError(DataError):
  """More of the corpus is malformed than `max_bad_fraction` allows."""


@dataclasses.dataclass(frozen=True)
class Corpus:
  """The valid records of a corpus, split into training references and held-out records.

  Attributes:
    shard_paths: every shard of the corpus, in scan order.
    train_refs: int64 [N, 3] references (shard index, position, byte length) of training records,
      in scan order.
    train_domains: int32 [N] each training record's domain, an index into `domains`.
    domains: the corpus's domain names, sorted.
    heldout: held-out records, one per distinct content, ordered by content hash.
    heldout_refs: int64 [H, 3] their references, in the same order.
    bad_counts: refused records by reason (records.REASONS).
    records_seen: valid and refused records together.
    quarantine_path: the file listing the refused records, or None when there were none.
  """
  shard_paths: tuple[str, ...]
  train_refs: np.ndarray
  train_domains: np.ndarray
  domains: tuple[str, ...]
  heldout: tuple[records.Record, ...]
  heldout_refs: np.ndarray
  bad_counts: dict[str, int]
  records_seen: int
  quarantine_path: str | None

  def reader(self) -> source.ShardReader:
    return source.ShardReader(self.shard_paths)

  def domain_rows(self) -> list[np.ndarray]:
    """The training rows of each domain (indexed like `domains`)."""
    return [np.flatnonzero(self.train_domains == d) for d in range(len(self.domains))]


def corpus_shards(train_dirs: Sequence[str]) -> list[epath.Path]:
  return [p for d in train_dirs for p in shards.list_shards(d)]


def _shard_records(path: epath.Path) -> Iterator[tuple[int, np.ndarray, bytes]]:
  """(record index, position, raw bytes) of each record; blank JSONL lines are no records."""
  jsonl = shards.format_of(path) == "jsonl"
  offset = 0
  for index, raw in enumerate(shards.read_shard(path)):
    position = offset if jsonl else index
    offset += len(raw) + 1
    if jsonl and not raw.strip():
      continue
    yield index, position, raw


def sample_texts(train_dirs: Sequence[str], count: int) -> list[str]:
  """Documents, prompts and critiques of the first `count` valid records, one shard after another
  in turn (so every domain is represented)."""
  paths = corpus_shards(train_dirs)
  streams = [((str(path), *r) for r in _shard_records(path)) for path in paths]
  texts = []
  valid = 0
  refused = records.Quarantine()
  for path, index, _, raw in (r for group in itertools.zip_longest(*streams) for r in group if r is not None):
    if valid >= count or (not valid and sum(refused.counts.values()) >= count):
      break
    try:
      record = records.parse_record(raw, require_feedback=False)
    except records.BadRecord as e:
      refused.add(path, index, e, raw)
      continue
    valid += 1
    texts += [t for t in (record.text, record.prompt, record.critique) if t]
  if not valid and refused.counts:
    raise DataError(f"config.data.train_dirs={list(train_dirs)!r}: no valid record to train the tokenizer "
                    f"on; {sum(refused.counts.values())} refused: {refused.explain()}")
  return texts


class _CritiqueLengthCheck:
  """Refuses records whose critique, in the template, leaves no room in a row for a document token
  (and the <eos> a suffix placement opens the body with; examples.overhead).

  Every token covers at least one byte, so only critiques of `seq_len - 1` bytes or more are
  encoded, in batches, so the scan never holds more than a batch of records.
  """

  _BATCH = 1024

  def __init__(self, template: str, seq_len: int, vocab, quarantine: records.Quarantine):
    self._template = template
    self._seq_len = seq_len
    self._vocab = vocab
    self._quarantine = quarantine
    self._pending = []
    self.refused_rows: list[int] = []

  def add(self, row: int, shard: str, index: int, critique: str, raw: bytes):
    text = self._template.format(critique=critique)
    if len(text.encode("utf-8")) + 1 >= self._seq_len:
      self._pending.append((row, shard, index, text, raw))
      if len(self._pending) >= self._BATCH:
        self.flush()

  def flush(self):
    lengths = [len(ids) for ids in self._vocab.encode_batch([p[3] for p in self._pending])]
    for (row, shard, index, _, raw), length in zip(self._pending, lengths):
      if length + 1 >= self._seq_len:
        self.refused_rows.append(row)
        self._quarantine.add(shard, index, records.BadRecord(
            records.CRITIQUE_TOO_LONG, f"{length} critique tokens fill a {self._seq_len}-token row"), raw)
    self._pending.clear()


def scan_corpus(data_cfg, vocab) -> Corpus:
  """Validates every record of `data_cfg.train_dirs` and splits off the held-out set.

  Refused records are counted by reason and written to a quarantine JSONL file (shard, record
  index, reason, detail, raw text). Raises BadInputError, after writing that file, when the refused
  share exceeds `data_cfg.max_bad_fraction`. With `data_cfg.index`, a scan of the same shards under
  the same settings is read from its saved index instead (corpus_index.py), and a new one is saved.
  """
  paths = corpus_shards(data_cfg.train_dirs)
  if not paths:
    raise DataNotFoundError(f"config.data.train_dirs={list(data_cfg.train_dirs)!r}: no shards found")
  if not data_cfg.get("index", False):  # a run config from before the index: scan
    return _scan(data_cfg, vocab, paths)
  index = corpus_index.CorpusIndex(data_cfg, vocab.sha256, paths)
  corpus = index.load(Corpus, records.Record)
  if corpus is None:
    corpus = _scan(data_cfg, vocab, paths)
    index.save(corpus)
  elif corpus.quarantine_path:
    corpus = dataclasses.replace(corpus, quarantine_path=index.restore_quarantine(_quarantine_file(data_cfg, paths)))
  return corpus


def _scan(data_cfg, vocab, paths: Sequence[epath.Path]) -> Corpus:
  """scan_corpus without the index: one pass over every record."""
  without_feedback = {str(p) for p in corpus_shards(config.feedback_off_dirs(data_cfg))}
  quarantine = records.Quarantine()
  length_check = _CritiqueLengthCheck(data_cfg.feedback.template, data_cfg.seq_len, vocab, quarantine)
  refs, hashes, domains, approved = [], [], [], []
  for shard_index, path in enumerate(paths):
    # A source trained without critiques (config.data.sources) may be raw, unannotated records.
    require_feedback = data_cfg.feedback.placement != "none" and str(path) not in without_feedback
    for index, position, raw in _shard_records(path):
      try:
        record = records.parse_record(raw, require_feedback=require_feedback)
      except records.BadRecord as e:
        quarantine.add(str(path), index, e, raw)
        continue
      if record.critique is not None:
        length_check.add(len(refs), str(path), index, record.critique, raw)
      refs.append((shard_index, position, len(raw)))
      hashes.append(heldout.content_hash(record))
      domains.append(record.domain)
      approved.append(record.score is not None and record.score >= data_cfg.train_min_score)
  length_check.flush()
  valid = np.ones(len(refs), bool)
  valid[length_check.refused_rows] = False

  seen = len(refs) + len(quarantine) - len(length_check.refused_rows)
  quarantine_path = quarantine.write(_quarantine_file(data_cfg, paths))
  if seen and len(quarantine) / seen > data_cfg.max_bad_fraction:
    raise BadInputError(
        f"{len(quarantine)} of {seen} records ({len(quarantine) / seen:.2%}) are malformed, more than "
        f"config.data.max_bad_fraction={data_cfg.max_bad_fraction}; by reason: {quarantine.explain()}; "
        f"see {quarantine_path}")

  refs_array = np.asarray(refs, np.int64).reshape(-1, source.REF_FIELDS)[valid]
  hash_array = np.asarray(hashes, np.uint64)[valid]
  domain_array = np.asarray(domains, object)[valid]
  held = heldout.heldout_mask(hash_array, domain_array, data_cfg.heldout.fraction, data_cfg.heldout.count)
  train = ~held
  if data_cfg.train_min_score >= 0:  # the filtering control: the held-out split is the same either way
    train &= np.asarray(approved, bool)[valid]
  names, codes = np.unique(domain_array.astype(str), return_inverse=True)
  heldout_records, heldout_refs = _read_heldout(paths, refs_array[held], hash_array[held])
  return Corpus(
      shard_paths=tuple(str(p) for p in paths),
      train_refs=refs_array[train],
      train_domains=codes.astype(np.int32).reshape(-1)[train],
      domains=tuple(str(n) for n in names),
      heldout=heldout_records,
      heldout_refs=heldout_refs,
      bad_counts=dict(quarantine.counts),
      records_seen=seen,
      quarantine_path=None if quarantine_path is None else str(quarantine_path))


def _read_heldout(paths, refs: np.ndarray, hashes: np.ndarray) -> tuple[tuple[records.Record, ...], np.ndarray]:
  """One record per held-out content, ordered by content hash (then by scan order), and their refs."""
  reader = source.ShardReader(paths)
  _, first = np.unique(hashes, return_index=True)  # sorted by hash; first occurrence of each
  try:
    return tuple(records.parse_record(reader.read(refs[i]), require_feedback=False) for i in first), refs[first]
  finally:
    reader.close()


def save_heldout(corpus: Corpus, url: str) -> None:
  """Writes the raw held-out records (their `meta`, the tasks' ground truth, included) as one JSONL
  file: what evaluating a run reads, so that it needs neither the training shards nor a scan."""
  reader = source.ShardReader(corpus.shard_paths)
  try:
    lines = [reader.read(ref).rstrip(b"\n") + b"\n" for ref in corpus.heldout_refs]
  finally:
    reader.close()
  rundir.write_bytes(url, b"".join(lines))


def heldout_corpus(url: str) -> Corpus:
  """The held-out records `save_heldout` wrote, as a corpus with nothing to train on."""
  raw = list(shards.read_shard(url))
  heldout_records = tuple(records.parse_record(r, require_feedback=False) for r in raw)
  lengths = np.array([len(r) for r in raw], np.int64)
  offsets = np.cumsum(lengths + 1) - lengths - 1  # one newline after each record
  return Corpus(
      shard_paths=(str(url),),
      train_refs=np.zeros((0, source.REF_FIELDS), np.int64),
      train_domains=np.zeros(0, np.int32),
      domains=tuple(sorted({r.domain for r in heldout_records})),
      heldout=heldout_records,
      heldout_refs=np.stack([np.zeros_like(lengths), offsets, lengths], axis=1).reshape(-1, source.REF_FIELDS),
      bad_counts={},
      records_seen=len(heldout_records),
      quarantine_path=None)


def _quarantine_file(data_cfg, paths: Sequence[epath.Path]) -> epath.Path:
  key = hashlib.sha256("\n".join(str(p) for p in paths).encode()).hexdigest()[:12]
  return config.directory_or_default(data_cfg.quarantine_dir, "quarantine") / f"quarantine-{key}.jsonl"
