"""A Hugging Face `datasets` corpus (parquet, arrow, JSONL, CSV, a hub dataset) as the project's raw shards.

Each row becomes `{"id", "text", "domain"}` by a field mapping (config `fields`): the text column; the
id column, or a hash of the text where the corpus has none; a fixed domain, or a domain column. Rows
are streamed (`datasets` builds no cache) into JSONL shards of `records_per_shard` rows, each written
atomically, then the manifest. `datasets` is imported here only, so training never needs it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import ml_collections
import tqdm
from etils import epath

from ixt_jax.data import shards
from ixt_jax.data.corpora import writer
from ixt_jax.errors import ConfigError, DataError


def load_rows(source: ml_collections.ConfigDict) -> Iterable[dict[str, Any]]:
  """The rows `source` names, streamed: `datasets.load_dataset(name, config_name, data_files, split)`."""
  import datasets  # pylint: disable=g-import-not-at-top  # an extra (`pip install -e .[hf]`)
  if not source.name:
    raise ConfigError("config.source.name: a `datasets` builder (parquet, json, arrow, csv) or a dataset path")
  data_files = list(source.data_files) if not isinstance(source.data_files, str) else (
      [f for f in source.data_files.split(",") if f] or None)
  try:
    return datasets.load_dataset(source.name, source.config_name or None, data_files=data_files,
                                 data_dir=source.data_dir or None, split=source.split, streaming=True)
  except (FileNotFoundError, ValueError) as e:  # no such file, no such split: the config's to fix
    raise DataError(f"config.source={source.to_dict()}: {type(e).__name__}: {e}") from None


def _text_hash_id(text: str) -> str:
  return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def to_records(rows: Iterable[dict[str, Any]], fields: ml_collections.ConfigDict) -> Iterator[dict[str, Any]]:
  """Project records from rows; a row lacking a mapped field stops the import naming field and flag."""
  for index, row in enumerate(rows):
    text = row.get(fields.text)
    if not isinstance(text, str):
      raise DataError(f"row {index} has no string field {fields.text!r} (its fields: {sorted(row)}); set "
                      f"--config.fields.text to the column that holds the document")
    if fields.id and row.get(fields.id) is None:
      raise DataError(f"row {index} has no field {fields.id!r} (its fields: {sorted(row)}); set "
                      f"--config.fields.id to the id column, or to '' for an id from the text's hash")
    domain = fields.domain
    if fields.domain_field:
      domain = row.get(fields.domain_field)
      if not isinstance(domain, str) or not domain:
        raise DataError(f"row {index} has no string field {fields.domain_field!r} (its fields: {sorted(row)}); "
                        f"set --config.fields.domain_field to the domain column, or '' and "
                        f"--config.fields.domain=text for one domain")
    if not text.strip():
      continue  # an empty document is no record
    yield {"id": str(row[fields.id]) if fields.id else _text_hash_id(text), "text": text, "domain": domain}


def write_corpus(out_dir: epath.PathLike, config: ml_collections.ConfigDict) -> dict[str, Any]:
  """Streams `config.source` into shards under `out_dir` and writes the manifest; returns it."""
  if config.records_per_shard < 1:
    raise ConfigError(f"config.records_per_shard={config.records_per_shard!r}: must be >= 1")
  if not (config.fields.domain or config.fields.domain_field):
    raise ConfigError("config.fields.domain: a fixed domain (text, math, code) or set config.fields.domain_field")
  out_dir = epath.Path(out_dir)
  writer.remove_manifest(out_dir)
  rows = load_rows(config.source)
  if config.limit:
    rows = (row for row, _ in zip(rows, range(config.limit)))
  entries, domains, batch = [], {}, []

  def flush():
    name = f"{config.prefix}-{len(entries):05d}{shards.FORMATS['jsonl']}"
    entries.append({"path": name, "records": writer.replace_shard(out_dir / name, batch)})
    batch.clear()

  for record in tqdm.tqdm(to_records(rows, config.fields), unit="rec", desc=f"import {config.source.name}"):
    batch.append(record)
    domains[record["domain"]] = domains.get(record["domain"], 0) + 1
    if len(batch) == config.records_per_shard:
      flush()
  if batch:
    flush()
  if not entries:
    raise DataError(f"config.source={config.source.to_dict()}: no rows with text")
  manifest = {"shards": entries, "domains": domains, "records": sum(domains.values()), "format": "jsonl",
              "stage": "corpus", "source": config.source.to_dict(), "fields": config.fields.to_dict()}
  writer.replace_manifest(out_dir, manifest)
  return manifest
