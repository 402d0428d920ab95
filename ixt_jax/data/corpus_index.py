"""A corpus scan saved once and read at every launch: counts, held-out split, references, hashes.

Scanning validates and hashes every record (about 27k records/s on one core: an hour per launch at
100M documents, on every host). The result depends only on the shards and on the data settings, so
it is saved under a key of both: each shard's name, size, modification time and first 64 KiB, the data config
(less what cannot change a scan: workers, buffers, paths of side outputs) and the vocabulary's hash.
It lives beside the shards (`<first train dir>/.ixt_index/`, named so no record glob finds it), or
under `data.index_dir`; a folder that cannot be written costs only the saving. Arrays go to one
`.npz`, everything else to JSON, and the refused records' quarantine file is kept with them.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from etils import epath

from ixt_jax.data import config
from ixt_jax.data import shards

log = logging.getLogger("ixt_jax.data")
INDEX_FOLDER = ".ixt_index"
# Data fields that cannot change what a scan finds (how batches are made, where side files go).
# Of the mixture only the sources without feedback matter (their records may lack it): not the weights.
_IRRELEVANT = ("quarantine_dir", "worker_count", "worker_buffer_size", "tokenize_group", "pack_bins",
               "index", "index_dir", "sources")


def _key(data_cfg, vocab_sha256: str, paths: Sequence[epath.Path]) -> str:
  settings = {k: v for k, v in data_cfg.to_dict().items() if k not in _IRRELEVANT}
  settings["vocab"] = {k: v for k, v in settings.get("vocab", {}).items() if k != "cache_dir"}
  if config.feedback_off_dirs(data_cfg):  # absent otherwise: indexes saved before mixtures stay valid
    settings["feedback_off_dirs"] = sorted(config.feedback_off_dirs(data_cfg))
  fingerprint = []
  for path in paths:
    if "://" in str(path):  # a bucket: size and modification time (seconds)
      stat = path.stat()
      fingerprint.append([str(path), stat.length, stat.mtime])
    else:  # a local file: nanosecond times, so a rewrite within a second is seen
      stat = os.stat(path)
      fingerprint.append([str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino])
    with path.open("rb") as f:  # and its head: a copy that kept size and time still differs
      fingerprint.append(hashlib.sha256(f.read(1 << 16)).hexdigest())
  content = json.dumps([settings, vocab_sha256, fingerprint], sort_keys=True, default=str)
  return hashlib.sha256(content.encode()).hexdigest()[:24]


class CorpusIndex:
  """Where the scan of these shards under these settings is (or will be) saved."""

  def __init__(self, data_cfg, vocab_sha256: str, paths: Sequence[epath.Path]):
    folder = epath.Path(data_cfg.index_dir) if data_cfg.index_dir else epath.Path(data_cfg.train_dirs[0]) / INDEX_FOLDER
    self.key = _key(data_cfg, vocab_sha256, paths)
    self._arrays = folder / f"{self.key}.npz"
    self._fields = folder / f"{self.key}.json"
    self._quarantine = folder / f"{self.key}.quarantine"

  def load(self, corpus_type: type, record_type: type) -> Any | None:
    """The saved scan, or None where there is none (the JSON is written last: present = complete)."""
    if not self._fields.exists():
      return None
    saved = json.loads(self._fields.read_text())
    with np.load(io.BytesIO(self._arrays.read_bytes())) as arrays:
      values = {name: arrays[name] for name in arrays.files}
    for name, (kind, value) in saved.items():
      values[name] = (tuple(record_type(**r) for r in value) if kind == "records" else
                      tuple(value) if kind == "tuple" else value)
    if values.get("quarantine_path"):
      values["quarantine_path"] = str(self._quarantine)
    if set(values) != {f.name for f in dataclasses.fields(corpus_type)}:  # saved by another version: scan again
      log.warning("corpus index %s has other fields than this version's scan; scanning again", self._fields)
      return None
    return corpus_type(**values)

  def save(self, corpus) -> None:
    """Saves `corpus` (a dataclass of arrays, tuples of strings or records, and JSON values)."""
    arrays, fields = {}, {}
    for field in dataclasses.fields(corpus):
      value = getattr(corpus, field.name)
      if isinstance(value, np.ndarray):
        arrays[field.name] = value
      elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
        fields[field.name] = ("records", [dataclasses.asdict(r) for r in value])
      elif isinstance(value, tuple):
        fields[field.name] = ("tuple", list(value))
      else:
        fields[field.name] = ("json", value)
    try:
      if corpus.quarantine_path:
        self._quarantine.parent.mkdir(parents=True, exist_ok=True)
        epath.Path(corpus.quarantine_path).copy(self._quarantine, overwrite=True)
      buffer = io.BytesIO()
      np.savez(buffer, **arrays)
      self._arrays.parent.mkdir(parents=True, exist_ok=True)
      self._arrays.write_bytes(buffer.getvalue())
      shards.write_json(self._fields, fields)  # last and atomic: its presence means complete
    except OSError as e:  # a read-only data folder: the next launch scans again
      log.warning("corpus index not saved to %s (%s); set data.index_dir to a writable folder", self._fields.parent, e)

  def restore_quarantine(self, destination: epath.Path) -> str:
    """Copies the saved quarantine file to this run's quarantine path; returns that path."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    self._quarantine.copy(destination, overwrite=True)
    return str(destination)
