"""The runs of a sweep, read from every `summary.json` under a directory (local or a bucket).

`scaling` reads nothing else, so a summary written by another code base fits the same as ours. Only
`method`, `n_params`, `tokens`, `flops` and the fitted metric are required; the optional keys take a
default that the fit states once (see `Runs.defaults`). Paths go through fsspec, so `gs://` works as
a local folder does (with gcsfs installed).
"""
from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

import fsspec
import numpy as np

from ixt_jax.rundir import SUMMARY
REQUIRED = ("method", "n_params", "tokens", "flops")
ACCURACY_METRICS = ("eval.math_em", "eval.code_pass1")
N_KINDS = ("non_embedding", "total")


@dataclasses.dataclass(frozen=True)
class Runs:
  """One row per run, as numpy columns (every column has the same length)."""
  path: np.ndarray  # str: where each summary was read
  method: np.ndarray  # str
  seed: np.ndarray  # int
  n_params: np.ndarray  # float: counts pass 2**31, and the fits take their logarithm
  n_params_non_embedding: np.ndarray
  tokens: np.ndarray
  flops: np.ndarray
  annotation_flops: np.ndarray
  budget: np.ndarray  # object: the summary's `budget` tag, or None
  metric: np.ndarray  # the fitted metric, e.g. eval.loss
  accuracy: dict[str, np.ndarray]  # task metric -> values, NaN where a summary has none
  metric_name: str = "eval.loss"
  defaults: tuple[str, ...] = ()  # one sentence per optional key that was filled in

  def __len__(self) -> int:
    return len(self.method)

  @property
  def methods(self) -> list[str]:
    return sorted(set(self.method.tolist()))

  def select(self, mask: np.ndarray) -> Runs:
    columns = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
    for name, value in columns.items():
      if isinstance(value, np.ndarray):
        columns[name] = value[mask]
    columns["accuracy"] = {k: v[mask] for k, v in self.accuracy.items()}
    return Runs(**columns)

  def of_method(self, method: str) -> Runs:
    return self.select(self.method == method)

  def n(self, kind: str = "non_embedding") -> np.ndarray:
    """Model size N: non-embedding parameters (the default, Kaplan et al.) or all of them."""
    if kind not in N_KINDS:
      raise ValueError(f"unknown n_kind {kind!r}; expected one of {N_KINDS}")
    return self.n_params_non_embedding if kind == "non_embedding" else self.n_params


def find_summaries(sweep_dir: str) -> list[str]:
  """Every `summary.json` at any depth under `sweep_dir`, as URLs fsspec can open, sorted."""
  fs, root = fsspec.core.url_to_fs(str(sweep_dir))
  if not fs.exists(root):
    raise FileNotFoundError(f"{sweep_dir}: no such sweep directory")
  found = [p for p in fs.find(root) if p.rsplit("/", 1)[-1] == SUMMARY]
  if not found:
    raise FileNotFoundError(f"{sweep_dir}: no {SUMMARY} at any depth; has the sweep finished a run?")
  return sorted(fs.unstrip_protocol(p) for p in found)


def load_runs(sweep_dir: str, metric: str = "eval.loss") -> Runs:
  """Reads and validates every summary under `sweep_dir`; bad files are all named in one error."""
  texts = {}
  for url in find_summaries(sweep_dir):
    with fsspec.open(url, "rt") as f:
      texts[url] = f.read()
  return runs_from_summaries(texts, metric)


def runs_from_summaries(summaries: Mapping[str, dict | str], metric: str = "eval.loss") -> Runs:
  """Validates summaries (dicts or JSON text) keyed by where each came from; bad ones are named in one error."""
  rows, problems = [], []
  for where, summary in summaries.items():
    try:
      rows.append(_parse(json.loads(summary) if isinstance(summary, str) else summary, where, metric))
    except (ValueError, TypeError) as e:  # json.JSONDecodeError is a ValueError
      problems.append(f"  {where}: {e}")
  if problems:
    raise ValueError(f"{len(problems)} invalid {SUMMARY} file(s):\n" + "\n".join(problems))
  if not rows:
    raise ValueError("no summaries to fit")
  return _tabulate(rows, metric)


def _parse(summary: Any, where: str, metric: str) -> dict[str, Any]:
  if not isinstance(summary, dict):
    raise ValueError("not a JSON object")
  missing = [k for k in (*REQUIRED, metric) if _lookup(summary, k) is None]
  if missing:
    raise ValueError(f"missing required {', '.join(repr(k) for k in missing)}")
  if not isinstance(summary["method"], str) or not summary["method"]:
    raise ValueError(f"'method' must be a non-empty string, got {summary['method']!r}")
  budget = summary.get("budget")
  if not (budget is None or isinstance(budget, (str, int, float))):
    raise ValueError(f"'budget' must be a string or number tag, got {budget!r}")
  row = {"path": where, "method": summary["method"], "budget": budget}
  for key in ("n_params", "tokens", "flops"):
    row[key] = _number(summary[key], key, positive=True)
  row["metric"] = _number(_lookup(summary, metric), metric)
  for key, positive in (("n_params_non_embedding", True), ("annotation_flops", False), ("seed", False)):
    row[key] = None if summary.get(key) is None else _number(summary[key], key, positive)
  if row["annotation_flops"] is not None and row["annotation_flops"] < 0:
    raise ValueError(f"'annotation_flops' must be >= 0, got {row['annotation_flops']}")
  for key in ACCURACY_METRICS:  # optional task scores: null or absent means not evaluated
    value = _lookup(summary, key)
    row[key] = math.nan if value is None else _number(value, key)
  return row


def _lookup(summary: dict[str, Any], dotted: str) -> Any:
  value = summary
  for part in dotted.split("."):
    if not isinstance(value, dict):
      return None
    value = value.get(part)
  return value


def _number(value: Any, key: str, positive: bool = False) -> float:
  if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
    raise ValueError(f"{key!r} must be a finite number, got {value!r}")
  if positive and value <= 0:
    raise ValueError(f"{key!r} must be positive, got {value!r}")
  return float(value)


def _tabulate(rows: list[dict[str, Any]], metric: str) -> Runs:
  defaults = []
  fallbacks = {
      "seed": (lambda row: 0.0, "those runs count as one seed (0)"),
      "annotation_flops": (lambda row: 0.0, "taken as 0 (no annotation compute)"),
      "n_params_non_embedding": (lambda row: row["n_params"], "taken as n_params"),
  }
  for key, (fallback, meaning) in fallbacks.items():
    absent = [row for row in rows if row[key] is None]
    for row in absent:
      row[key] = fallback(row)
    if absent:
      defaults.append(f"{key}: absent from {len(absent)} of {len(rows)} summaries; {meaning}")
  column = lambda key, dtype=float: np.array([row[key] for row in rows], dtype=dtype)
  return Runs(
      path=column("path", object), method=column("method", object), seed=column("seed", int),
      n_params=column("n_params"), n_params_non_embedding=column("n_params_non_embedding"),
      tokens=column("tokens"), flops=column("flops"), annotation_flops=column("annotation_flops"),
      budget=column("budget", object), metric=column("metric"),
      accuracy={key: column(key) for key in ACCURACY_METRICS}, metric_name=metric, defaults=tuple(defaults))
