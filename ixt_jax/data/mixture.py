"""A training mixture: which records each source (`config.data.sources`) owns, and what it got.

The pipeline draws documents from the sources' record orders with Grain's `MapDataset.mix` (a
stateless interleave in proportion to the weights, so the iterator's position alone resumes it).
Every packed row counts, per source, the documents it begins and the tokens it holds
(`SOURCE_COUNTERS`, [S] a row); the train step sums them over the global batch and the run's
counters over steps, and summary.json reports the realised mix (`realised_mix`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ixt_jax.data import config
from ixt_jax.data import corpus as corpus_lib
from ixt_jax.errors import DataError

SOURCE_KEY = "source"  # an element's source, an index into the config's sources
# Per row, per source: documents begun, and tokens (critiques included, padding not).
SOURCE_COUNTERS = ("source_documents", "source_tokens")


def source_rows(corpus: corpus_lib.Corpus, sources: Sequence[config.Source]) -> list[np.ndarray]:
  """The training rows (indices into `corpus.train_refs`) of each source, by its shards' directories."""
  shard_source = np.full(len(corpus.shard_paths), -1, np.int64)
  for index, source in enumerate(sources):
    owned = {str(p) for p in corpus_lib.corpus_shards(source.dirs)}
    shard_source[[i for i, path in enumerate(corpus.shard_paths) if path in owned]] = index
  of_row = shard_source[corpus.train_refs[:, 0]]
  rows = [np.flatnonzero(of_row == index) for index in range(len(sources))]
  for source, owned_rows in zip(sources, rows):
    if not len(owned_rows):
      raise DataError(f"config.data.sources: source {source.name!r} ({list(source.dirs)}) has no training records")
  return rows


def row_counts(sources: np.ndarray, segment_ids: np.ndarray, documents: np.ndarray,
               num_sources: int) -> dict[str, np.ndarray]:
  """SOURCE_COUNTERS of one packed row, from its elements' sources and documents (element i is
  segment i + 1: Grain's packer numbers segments in the order it lists their meta features)."""
  tokens = np.bincount(segment_ids, minlength=len(sources) + 1)[1:len(sources) + 1]
  return {"source_documents": np.bincount(sources, weights=documents, minlength=num_sources).astype(np.int32),
          "source_tokens": np.bincount(sources, weights=tokens, minlength=num_sources).astype(np.int32)}


def realised_mix(sources: Sequence[config.Source], progress: dict[str, Any]) -> dict[str, dict[str, Any]]:
  """Per source: its weight and feedback setting, and the documents and tokens it gave the run."""
  documents = progress.get("source_documents", [0] * len(sources))
  tokens = progress.get("source_tokens", [0] * len(sources))
  total_weight, total_documents, total_tokens = sum(s.weight for s in sources), sum(documents), sum(tokens)
  return {s.name: {"weight": s.weight / total_weight, "feedback": s.feedback,
                   "documents": int(d), "tokens": int(t),
                   "document_share": d / total_documents if total_documents else None,
                   "token_share": t / total_tokens if total_tokens else None}
          for s, d, t in zip(sources, documents, tokens)}
