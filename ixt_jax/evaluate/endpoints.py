"""The primary endpoints of information use, from the steer.json of a set of runs (numpy only).

For an arm A with its shuffled-trained twin T (method `<A>_shuffled`), a baseline B and a filtered
baseline F, with flaw = flaw rate among well-formed samples and Delta(X) = flaw(X, negative) -
flaw(X, positive):
  1. delta_vs_twin      Delta(A) - Delta(T): reading the critique beyond what its format teaches
  2. twin_minus_arm     flaw(T, positive) - flaw(A, positive): cleaner writing from real critiques
  3. arm_minus_baseline flaw(A, positive) - flaw(B, none); arm_minus_filtered the same against F
and Delta(A) itself (the give-away control must show Delta > 5 standard errors). Every number names
its conditions. Intervals: bootstrap over seeds (each method's runs resampled), then over prompts
(one resample shared by every run and condition: the prompts and sampling keys are shared too);
95% percentile intervals and the bootstrap standard error. Rates are pooled over the domains asked
for as the mean of the per-domain rates.
"""
from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

BASELINE, FILTERED = "baseline", "baseline_filtered"
TWIN_SUFFIX = "_shuffled"
ENDPOINTS = ("delta", "delta_vs_twin", "twin_minus_arm", "arm_minus_baseline", "arm_minus_filtered")
DESCRIPTIONS = {
    "delta": "Delta(arm) = flaw(arm, negative) - flaw(arm, positive)",
    "delta_vs_twin": "Delta(arm) - Delta(shuffled twin)",
    "twin_minus_arm": "flaw(twin, positive) - flaw(arm, positive)",
    "arm_minus_baseline": "flaw(arm, positive) - flaw(baseline, none)",
    "arm_minus_filtered": "flaw(arm, positive) - flaw(filtered baseline, none)",
}


def twin_of(method: str) -> str:
  return method + TWIN_SUFFIX


def prompt_rates(steer: Mapping[str, Any], condition: str) -> np.ndarray:
  """Per prompt, the flaw rate among its well-formed samples (nan where none is)."""
  judged = steer["conditions"][condition]
  well = np.asarray(judged["well_formed"], bool)
  flawed = np.asarray([[bool(f) for f in row] for row in judged["flawed"]]) & well
  with np.errstate(invalid="ignore", divide="ignore"):
    return np.where(well.sum(1) > 0, flawed.sum(1) / np.maximum(well.sum(1), 1), np.nan)


class Runs:
  """Per-prompt flaw rates of many runs: method -> [seed runs] -> condition -> rates [prompts]."""

  def __init__(self, runs: Sequence[Mapping[str, Any]]):
    """`runs`: {"method", "seed", "steer": steer.json contents}, all sampled on the same prompts."""
    if not runs:
      raise ValueError("no runs with steer results")
    first = runs[0]["steer"]
    self.prompts, self.domains = list(first["prompts"]), np.asarray(first["domains"])
    self.by_method: dict[str, list[dict[str, np.ndarray]]] = collections.defaultdict(list)
    for run in sorted(runs, key=lambda r: (r["method"], r["seed"])):
      if list(run["steer"]["prompts"]) != self.prompts:
        raise ValueError(f"{run['method']} seed {run['seed']} was sampled on other prompts; rerun its steer")
      self.by_method[run["method"]].append({c: prompt_rates(run["steer"], c) for c in run["steer"]["conditions"]})

  def rate(self, method: str, condition: str, domains: Sequence[str], seeds: np.ndarray,
           prompts: np.ndarray) -> float:
    """Mean over `domains` of the flaw rate of (method, condition), over resampled seeds and prompts."""
    per_domain = []
    for domain in domains:
      picked = prompts[self.domains[prompts] == domain]
      per_seed = [_nanmean(self.by_method[method][s][condition][picked]) for s in seeds]
      per_domain.append(_nanmean(per_seed))
    return float(np.mean(per_domain))


def _values(runs: Runs, arm: str, domains, draw) -> dict[str, float]:
  """Every endpoint of `arm` that its runs allow, for one draw (seeds per method, prompts)."""
  seeds, prompts = draw

  def flaw(method, condition):
    return runs.rate(method, condition, domains, seeds[method], prompts)

  out = {"delta": flaw(arm, "negative") - flaw(arm, "positive")}
  twin = twin_of(arm)
  if twin in runs.by_method:
    out["delta_vs_twin"] = out["delta"] - (flaw(twin, "negative") - flaw(twin, "positive"))
    out["twin_minus_arm"] = flaw(twin, "positive") - flaw(arm, "positive")
  for name, baseline in (("arm_minus_baseline", BASELINE), ("arm_minus_filtered", FILTERED)):
    if baseline in runs.by_method:
      out[name] = flaw(arm, "positive") - flaw(baseline, "none")
  return out


def endpoints(runs: Runs, domains: Sequence[str], bootstrap: int = 1000, seed: int = 0) -> dict[str, Any]:
  """{arm: {endpoint: {"value", "lo", "hi", "se", "seeds"}}} for every arm sampled under negative."""
  (all_seeds, all_prompts), draws = _everything(runs), _draws(runs, bootstrap, seed)
  arms = [m for m, r in runs.by_method.items() if "negative" in r[0]]
  out = {}
  for arm in arms:
    point = _values(runs, arm, domains, (all_seeds, all_prompts))
    samples = [_values(runs, arm, domains, d) for d in draws]
    out[arm] = {}
    for name, value in point.items():
      out[arm][name] = {**_interval(value, [s[name] for s in samples]), "seeds": len(all_seeds[arm])}
  return out


def _interval(point: float, samples) -> dict[str, float | None]:
  """{"value", "lo", "hi", "se"}: the 95% percentile interval and standard error of the finite bootstrap
  samples; all None where nothing was well formed to judge."""
  values = np.asarray(samples, float)
  values = values[np.isfinite(values)]
  if not np.isfinite(point) or len(values) < 2:
    return {"value": None, "lo": None, "hi": None, "se": None}
  lo, hi = np.percentile(values, [2.5, 97.5])
  return {"value": point, "lo": float(lo), "hi": float(hi), "se": float(values.std(ddof=1))}


def _everything(runs: Runs) -> tuple[dict[str, np.ndarray], np.ndarray]:
  """The point estimate's "draw": every seed of every method, every prompt."""
  return {m: np.arange(len(r)) for m, r in runs.by_method.items()}, np.arange(len(runs.prompts))


def _draws(runs: Runs, bootstrap: int, seed: int) -> list[tuple[dict[str, np.ndarray], np.ndarray]]:
  """Bootstrap draws: each method's seeds resampled, then one prompt resample shared by every run."""
  rng = np.random.default_rng(seed)
  all_seeds, all_prompts = _everything(runs)
  return [({m: rng.choice(s, len(s)) for m, s in all_seeds.items()}, rng.choice(all_prompts, len(all_prompts)))
          for _ in range(bootstrap)]


def rate_intervals(runs: Runs, domains: Sequence[str], bootstrap: int = 1000,
                   seed: int = 0) -> dict[str, dict[str, dict[str, float | None]]]:
  """{method: {condition: {"value", "lo", "hi"}}}: the flaw rate pooled over `domains` with its 95%
  bootstrap interval (the same draws as the endpoints'); None where no sample is well formed."""
  everything, draws = _everything(runs), _draws(runs, bootstrap, seed)
  out = {}
  for method, seed_runs in runs.by_method.items():
    out[method] = {}
    for condition in seed_runs[0]:
      point = runs.rate(method, condition, domains, everything[0][method], everything[1])
      interval = _interval(point, [runs.rate(method, condition, domains, s[method], p) for s, p in draws])
      out[method][condition] = {k: interval[k] for k in ("value", "lo", "hi")}
  return out


def _nanmean(values) -> float:
  """The mean of the finite values (nan where none is), without numpy's empty-slice warning."""
  values = np.asarray(values, float)
  return float(values[np.isfinite(values)].mean()) if np.isfinite(values).any() else float("nan")


def rate_table(runs: Runs, domains: Sequence[str]) -> dict[str, dict[str, dict[str, float]]]:
  """{method: {condition: {domain: flaw rate (mean over seeds; None without well-formed samples)}}}."""
  table = {}
  prompts = np.arange(len(runs.prompts))
  for method, seed_runs in runs.by_method.items():
    seeds = np.arange(len(seed_runs))
    rates = {c: {d: runs.rate(method, c, [d], seeds, prompts) for d in domains} for c in seed_runs[0]}
    table[method] = {c: {d: r if np.isfinite(r) else None for d, r in by_d.items()} for c, by_d in rates.items()}
  return table


def format_endpoints(result: Mapping[str, Any]) -> str:
  """A plain-text table: one line per arm and endpoint, with its interval and standard error."""
  lines = [f"{'arm':<24} {'endpoint':<20} {'value':>8} {'95% interval':>20} {'SE':>7} {'value/SE':>8}  definition"]
  for arm, values in result.items():
    for name, v in values.items():
      if v["value"] is None:
        lines.append(f"{arm:<24} {name:<20} {'n/a':>8}  (no well-formed samples)  {DESCRIPTIONS[name]}")
        continue
      ratio = v["value"] / v["se"] if v["se"] > 0 else float("inf")
      lines.append(f"{arm:<24} {name:<20} {v['value']:>8.3f} [{v['lo']:>8.3f}, {v['hi']:>8.3f}] {v['se']:>7.3f} "
                   f"{ratio:>8.1f}  {DESCRIPTIONS[name]}")
  return "\n".join(lines)


def flawed_line_endpoints(runs: Sequence[Mapping[str, Any]], bootstrap: int = 1000,
                          seed: int = 0) -> dict[str, Any]:
  """Flawed-line loss (nats per token of the planted flaw's line) of each arm under its condition
  (`true` for conditioned arms) and, where its twin ran, twin minus arm (> 0: the arm predicts its
  flaws better from their critiques); intervals by bootstrap over seeds, then records."""
  by_method: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
  for run in runs:
    if run["steer"].get("flawed_line"):
      by_method[run["method"]].append(run["steer"]["flawed_line"])
  if not by_method:
    return {}
  ids = by_method[next(iter(by_method))][0]["ids"]
  per_method = {}
  for method, seed_runs in by_method.items():
    if any(r["ids"] != ids for r in seed_runs):
      raise ValueError(f"{method}: scored on other held-out records than the other runs")
    per_method[method] = np.asarray([[r["nats"], r["tokens"]] for r in seed_runs])  # [seeds, 2, records]
  rng = np.random.default_rng(seed)

  def loss(method, seeds, records):
    sums = per_method[method][seeds][:, :, records].sum(axis=(0, 2))
    return sums[0] / max(sums[1], 1e-9)

  everything = {m: np.arange(len(v)) for m, v in per_method.items()}
  records = np.arange(len(ids))
  draws = [({m: rng.choice(s, len(s)) for m, s in everything.items()}, rng.choice(records, len(records)))
           for _ in range(bootstrap)]
  out = {}
  for method in per_method:
    entry = {"condition": by_method[method][0]["condition"], "loss": loss(method, everything[method], records),
             "records": len(ids)}
    twin = twin_of(method)
    if twin in per_method:
      point = loss(twin, everything[twin], records) - entry["loss"]
      values = np.asarray([loss(twin, s[twin], r) - loss(method, s[method], r) for s, r in draws])
      lo, hi = np.percentile(values, [2.5, 97.5])
      entry["twin_minus_arm"] = {"value": float(point), "lo": float(lo), "hi": float(hi),
                                 "se": float(values.std(ddof=1))}
    out[method] = entry
  return out
