"""Writes the built-in corpora as record shards, split by domain, from a corpus config."""
from __future__ import annotations

import collections
from typing import Any

import ml_collections
from etils import epath

from ixt_jax.data import shards
from ixt_jax.data.corpora import DOMAINS, generate

_SIZE_FIELDS = ("count", "shards")  # every other field of a domain's config goes to its generator


def validate(config: ml_collections.ConfigDict) -> None:
  """Fails before any work, naming the first invalid field."""
  if not isinstance(config.seed, int):
    raise ValueError(f"config.seed={config.seed!r}: must be an integer")
  for domain in DOMAINS:
    cfg = config[domain]
    if not isinstance(cfg.count, int) or cfg.count < 0:
      raise ValueError(f"config.{domain}.count={cfg.count!r}: must be an integer >= 0")
    if not isinstance(cfg.shards, int) or cfg.shards < 1 or (cfg.count and cfg.shards > cfg.count):
      raise ValueError(f"config.{domain}.shards={cfg.shards!r}: must be an integer in [1, count]")
    if not 0.0 <= cfg.flaw_fraction <= 1.0:
      raise ValueError(f"config.{domain}.flaw_fraction={cfg.flaw_fraction!r}: must be in [0, 1]")


def replace_shard(path: epath.PathLike, records: list[dict[str, Any]]) -> int:
  """shards.write_shard, also where the file exists (its rename refuses to overwrite one).

  The old file goes first: a crash in between leaves the shard missing, which a re-run redoes.
  """
  path = epath.Path(path)
  if path.exists():
    path.unlink()
  return shards.write_shard(path, records)


def replace_manifest(directory: epath.PathLike, manifest: dict[str, Any]) -> None:
  """shards.write_manifest, also where one exists (the directory reads as unfinished in between)."""
  remove_manifest(directory)
  shards.write_manifest(directory, manifest)


def remove_manifest(directory: epath.PathLike) -> None:
  path = epath.Path(directory) / shards.MANIFEST
  if path.exists():
    path.unlink()


def write_split(out_dir: epath.PathLike, prefix: str, records: list[dict[str, Any]], num_shards: int,
                fmt: str) -> list[dict[str, Any]]:
  """Writes records into num_shards contiguous shards (each atomic); returns their manifest entries."""
  entries = []
  for i in range(num_shards):
    part = records[i * len(records) // num_shards:(i + 1) * len(records) // num_shards]
    name = shards.shard_filename(prefix, i, num_shards, fmt)
    entries.append({"path": name, "records": replace_shard(epath.Path(out_dir) / name, part)})
  return entries


def write_builtin(out_dir: epath.PathLike, config: ml_collections.ConfigDict, fmt: str) -> dict[str, Any]:
  """Generates and writes every domain with count > 0; returns the manifest fields for them."""
  validate(config)
  remove_manifest(out_dir)  # rewriting a corpus: unfinished until the new manifest is written
  entries, domains, flaws = [], {}, {}
  for domain in DOMAINS:
    cfg = config[domain]
    if cfg.count == 0:
      continue
    opts = {k: v for k, v in cfg.items() if k not in _SIZE_FIELDS}
    records = generate(domain, cfg.count, config.seed, **opts)
    entries += write_split(out_dir, domain, records, cfg.shards, fmt)
    domains[domain] = len(records)
    flaws[domain] = dict(collections.Counter(r["meta"]["flaw"] for r in records if r["meta"]["flaw"]))
  return {"shards": entries, "domains": domains, "planted_flaws": flaws}
