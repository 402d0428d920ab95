"""The annotation compute a training run is charged: its share of what the critic spent on its data.

`experiments.annotate` writes the critic's compute into the annotated directory's manifest
(`annotation_flops` = 2 x critic params x tokens read and written; 0 for the built-in verifiers). A run
that reads a share of those records pays that share: a record read twice was annotated once, so the
share is at most all of it.
"""
from __future__ import annotations

from collections.abc import Sequence

from etils import epath

from ixt_jax.data import shards


def annotation_flops(train_dirs: Sequence[str], documents_read: int) -> float:
  """The annotation FLOPs of `train_dirs` (from their manifests) times the share of records read."""
  flops, records = 0.0, 0
  for directory in train_dirs:
    if (epath.Path(directory) / shards.MANIFEST).exists():
      manifest = shards.read_manifest(directory)
      flops += float(manifest.get("annotation_flops") or 0.0)
      records += int(manifest.get("records") or 0)
  if not flops or not records:
    return 0.0
  return flops * min(1.0, documents_read / records)
