"""Record shards on disk: JSONL or ArrayRecord files plus a manifest, written atomically.

Every stage that reads or writes records (corpus, annotate, pipeline) goes through this file, so
the on-disk contract lives in one place. A shard holds one UTF-8 JSON object per record (a line of a
`.jsonl` file, or one ArrayRecord record). Paths are `etils.epath.Path`, so `gs://` works as local.
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from etils import epath

from ixt_jax import rundir

os.environ.setdefault("EPATH_USE_TF", "false")  # keep TensorFlow off the training path

MANIFEST = "manifest.json"
FORMATS = {"jsonl": ".jsonl", "arrayrecord": ".arrayrecord"}
# JSON-lines files that are not records (annotation failures, the feedback cache) end in these, so a
# reader that globs a dataset folder for `**/*.jsonl` finds records only.
SIDE_FILE_SUFFIXES = (".failures", ".cache")


def shard_filename(prefix: str, index: int, count: int, fmt: str) -> str:
  """Canonical shard name, e.g. `math-00003-of-00008.jsonl`."""
  return f"{prefix}-{index:05d}-of-{count:05d}{_extension(fmt)}"


def format_of(path: epath.PathLike) -> str:
  """The shard format named by a file's extension."""
  suffix = epath.Path(path).suffix
  if suffix in SIDE_FILE_SUFFIXES:
    return "jsonl"
  for fmt, ext in FORMATS.items():
    if suffix == ext:
      return fmt
  raise ValueError(f"{path}: unknown shard extension {suffix!r}; expected one of {sorted(FORMATS.values())}")


def _extension(fmt: str) -> str:
  if fmt not in FORMATS:
    raise ValueError(f"unknown shard format {fmt!r}; expected one of {sorted(FORMATS)}")
  return FORMATS[fmt]


def _temporary_sibling(path: epath.Path) -> epath.Path:
  return path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"


def encode_record(record: dict[str, Any]) -> bytes:
  return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")


def write_shard(path: epath.PathLike, records: Iterable[dict[str, Any] | bytes]) -> int:
  """Writes records to `path` atomically (temp file, then rename); returns how many were written.

  A crash at any moment leaves either no file or the complete one, never a half-written shard.
  """
  path = epath.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fmt = format_of(path)
  tmp = _temporary_sibling(path)
  count = 0
  try:
    if fmt == "jsonl":
      with tmp.open("wb") as f:
        for record in records:
          f.write((record if isinstance(record, bytes) else encode_record(record)) + b"\n")
          count += 1
    else:
      from array_record.python import array_record_module  # pylint: disable=g-import-not-at-top
      writer = array_record_module.ArrayRecordWriter(os.fspath(tmp), "group_size:1")
      for record in records:
        writer.write(record if isinstance(record, bytes) else encode_record(record))
        count += 1
      writer.close()
    tmp.replace(path)
  finally:
    if tmp.exists():
      tmp.unlink()
  return count


def read_shard(path: epath.PathLike) -> Iterator[bytes]:
  """Yields each record's raw bytes in order (undecoded, so a reader can quarantine bad ones)."""
  path = epath.Path(path)
  if format_of(path) == "jsonl":
    with path.open("rb") as f:
      for line in f:
        yield line.rstrip(b"\n")
  else:
    from array_record.python import array_record_module  # pylint: disable=g-import-not-at-top
    reader = array_record_module.ArrayRecordReader(os.fspath(path))
    try:
      for i in range(reader.num_records()):
        yield reader.read([i])[0]
    finally:
      reader.close()


def write_json(path: epath.PathLike, value: Any) -> None:
  """Writes `value` as JSON atomically, non-finite floats as null (the run directory's writer)."""
  rundir.write_json(path, value)


def write_manifest(directory: epath.PathLike, manifest: dict[str, Any]) -> None:
  """Writes `manifest.json` atomically; shards listed there must already exist."""
  write_json(epath.Path(directory) / MANIFEST, manifest)


def read_manifest(directory: epath.PathLike) -> dict[str, Any]:
  path = epath.Path(directory) / MANIFEST
  if not path.exists():
    raise FileNotFoundError(f"{directory}: no {MANIFEST}; write shards with experiments.corpus or experiments.annotate")
  return json.loads(path.read_text())


def list_shards(directory: epath.PathLike) -> list[epath.Path]:
  """The shard files of a directory, in manifest order (or sorted by name if there is no manifest)."""
  directory = epath.Path(directory)
  if (directory / MANIFEST).exists():
    return [directory / s["path"] for s in read_manifest(directory)["shards"]]
  return sorted(p for p in directory.iterdir() if p.suffix in FORMATS.values() and not p.name.startswith("."))
