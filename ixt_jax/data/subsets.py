"""Derived record sets for later training stages: a domain subset (mid-training) and
prompt/response pairs (supervised fine-tuning), written as ordinary shards + manifest."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from etils import epath

from ixt_jax.data import shards

SOLUTION_MARKER = "Solution:"  # built-in math documents: "Problem: ...\n\nSolution:\n..."


def to_prompt_response(record: dict[str, Any], marker: str = SOLUTION_MARKER) -> dict[str, Any] | None:
  """A document "<problem> <marker> <solution>" as an SFT record: the problem becomes the prompt
  and the response (`text`) starts at the marker; None when the document has no marker."""
  cut = record["text"].find(marker)
  if cut <= 0:
    return None
  return {**record, "prompt": record["text"][:cut], "text": record["text"][cut:]}


def derive(source_dirs: Sequence[str], out_dir: epath.PathLike,
           transform: Callable[[dict[str, Any]], dict[str, Any] | None], fmt: str = "jsonl") -> int:
  """Writes transform(record) for every record of `source_dirs` (None drops it); returns the count.

  Cached: a directory that already has a manifest is left as it is.
  """
  out_dir = epath.Path(out_dir)
  if (out_dir / shards.MANIFEST).exists():
    return shards.read_manifest(out_dir)["records"]
  entries = []
  for source in source_dirs:
    for path in shards.list_shards(source):
      kept = (transform(json.loads(raw)) for raw in shards.read_shard(path))
      name = path.name.rsplit(".", 1)[0] + shards.FORMATS[fmt]
      count = shards.write_shard(out_dir / name, _present(kept))
      if count:
        entries.append({"path": name, "records": count})
  total = sum(e["records"] for e in entries)
  shards.write_manifest(out_dir, {"format": fmt, "records": total, "shards": entries,
                                  "derived_from": [str(s) for s in source_dirs]})
  return total


def _present(records: Iterable[dict[str, Any] | None]) -> Iterable[dict[str, Any]]:
  return (r for r in records if r is not None)


def domain_filter(domains: Sequence[str]) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
  return lambda record: record if record.get("domain") in domains else None
