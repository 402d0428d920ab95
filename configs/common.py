"""What the run config files share: big_vision-style variants, and overrides applied to a built config.

A run config's `get_config(arg)` takes its variant as `config_flags` passes it, the text after the
file name (`--config=configs/base.py:method=baseline,size=3m`; a comma inside a value is written
`\\,`), or as a dict from a program that builds configs itself (experiments.sweep).
"""
from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping, Sequence

import ml_collections
from absl import flags

from ixt_jax.errors import ConfigError

# The keys a run config's variant may set, and their types.
VARIANT_KEYS = {"method": str, "size": str, "steps": int, "seed": int, "batch": int, "data": str,
                "vocab": str, "seq_len": int}
# How `--config.a.b=value` reads each field type (absl's parsers, as config_flags uses them).
_PARSERS = {float: flags.FloatParser(), bool: flags.BooleanParser(), int: flags.IntegerParser(),
            str: flags.ArgumentParser()}


def parse_variant(arg: str | Mapping | None) -> dict:
  """'a=1,b=x' (or {'a': 1, 'b': 'x'}) -> {'a': 1, 'b': 'x'}, typed and checked against VARIANT_KEYS."""
  if isinstance(arg, Mapping):
    items = [(key, str(value)) for key, value in arg.items()]
  else:
    items = [item.replace("\\,", ",").partition("=")[::2] for item in re.split(r"(?<!\\),", arg or "") if item]
  variant = {}
  for key, value in items:
    if key not in VARIANT_KEYS:
      raise ConfigError(f"config variant {key!r}: expected one of {sorted(VARIANT_KEYS)}")
    variant[key] = VARIANT_KEYS[key](value)
  return variant


def format_variant(variant: Mapping) -> str:
  """The text `parse_variant` reads back as `variant` (for a command line)."""
  return ",".join(f"{key}={str(value).replace(',', chr(92) + ',')}" for key, value in variant.items())


def apply_overrides(c: ml_collections.ConfigDict, overrides: Sequence[str]) -> ml_collections.ConfigDict:
  """Sets each 'a.b=value' in `c`, the value read by the field's type as `--config.a.b=value` reads it."""
  for override in overrides:
    dotted, sep, text = override.partition("=")
    *parents, leaf = dotted.split(".")
    node = c
    try:
      for part in parents:
        node = node[part]
      field_type = node.get_type(leaf)
    except (KeyError, AttributeError):
      raise ConfigError(f"override {override!r}: the config has no field {dotted!r}") from None
    if not sep or field_type not in _PARSERS:
      raise ConfigError(f"override {override!r}: expected 'a.b=value' for a field of type int, float, bool or str")
    try:
      node[leaf] = _PARSERS[field_type].parse(text)
    except ValueError as e:
      raise ConfigError(f"override {override!r}: {e}") from None
  return c


def load_config(path: str, variant: Mapping | None = None) -> ml_collections.ConfigDict:
  """`get_config(variant)` of the config file at `path` (relative to the repository root), locked."""
  spec = importlib.util.spec_from_file_location("_run_config", path)
  if spec is None:
    raise ConfigError(f"{path}: no such config file (paths are relative to the repository root)")
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except FileNotFoundError:
    raise ConfigError(f"{path}: no such config file (paths are relative to the repository root)") from None
  c = module.get_config(dict(variant or {}))
  c.lock()
  return c
