"""The held-out split: fixed for a corpus by a hash of each record's content.

Content is the document (and its prompt), never the feedback, so re-annotating a corpus keeps the
split. Records with the same content share a hash, so a training copy of a held-out document is
held out with it: training is deduplicated against the held-out set by construction.
"""
from __future__ import annotations

import hashlib

import numpy as np

from ixt_jax.data import records


def content_hash(record: records.Record) -> int:
  """A 64-bit hash of the record's prompt and document."""
  content = f"{record.prompt or ''}\0{record.text}".encode("utf-8")
  return int.from_bytes(hashlib.sha256(content).digest()[:8], "big")


def heldout_mask(hashes: np.ndarray, domains: np.ndarray, fraction: float, count: int) -> np.ndarray:
  """Which records are held out.

  Args:
    hashes: uint64 content hashes, one per valid record.
    domains: each record's domain (any comparable dtype).
    fraction: share of distinct contents held out (by hash value), used when count == 0.
    count: > 0: hold out the `count` distinct contents with the smallest hashes in each domain.

  Returns:
    A bool mask; a record is held out iff its content hash is in the held-out set.
  """
  hashes = np.asarray(hashes, np.uint64)
  if count <= 0:
    return hashes.astype(np.float64) < fraction * 2.0**64
  chosen = [np.unique(hashes[domains == d])[:count] for d in np.unique(domains)]
  return np.isin(hashes, np.concatenate(chosen) if chosen else np.array([], np.uint64))
