"""Synthetic sweeps drawn from a known law, for tests, the benchmark and a dry run of the notebook.

Every method follows one Chinchilla-like law L(N, D) = E + A/N^alpha + B/D^beta, except that a
method with `data_multiplier` k learns from D tokens what the law gives for k*D: its true
compute-efficiency multiplier is then exactly k at every compute. Task accuracy decays with the
excess loss, a_max * exp(-(L - E) / scale), so it saturates at a_max as compute grows.
"""
from __future__ import annotations

import types
from collections.abc import Iterable, Mapping

import numpy as np

from ixt_jax import rundir
from ixt_jax.scaling import summaries

CHINCHILLA = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}  # Hoffmann et al. (2022)
TASK_SCALES = {"math_em": 1.5, "code_pass1": 2.5}  # excess loss at which accuracy falls to a_max / e
DEFAULT_METHODS = types.MappingProxyType({"baseline": 1.0, "ixt": 2.0})  # IXT truly worth 2x compute
SEED_NOISE = 0.005  # relative seed-to-seed spread of final loss, as seen in small LM sweeps
ACCURACY_NOISE = 0.01


def flops_per_token(n: np.ndarray) -> np.ndarray:
  """6N plus an overhead (attention, output projection) that matters most at small N."""
  return 6.0 * n * (1.0 + np.sqrt(3e6 / n))


def total_params(n: np.ndarray) -> np.ndarray:
  return n + 1000.0 * np.sqrt(n)  # embeddings, a large share only of small models


def true_loss(n, d, law: Mapping[str, float] = CHINCHILLA, data_multiplier: float = 1.0):
  return law["E"] + law["A"] / n**law["alpha"] + law["B"] / (data_multiplier * d)**law["beta"]


def make_summaries(sizes: Iterable[float], *, compute: Iterable[float] = (), tokens: Iterable[float] = (),
                   methods: Mapping[str, float] = DEFAULT_METHODS, seeds: Iterable[int] = (0,),
                   law: Mapping[str, float] = CHINCHILLA, noise: float = SEED_NOISE,
                   accuracy_max: Mapping[str, float] | None = None, annotation_flops_per_token: float = 0.0,
                   required_only: bool = False, noise_seed: int = 0) -> list[dict]:
  """Summaries on an IsoFLOP grid (`compute` budgets) or a sizes x `tokens` grid, one per method x seed.

  `methods` maps each name to its data multiplier; `accuracy_max` (method -> a_max) adds task scores;
  `annotation_flops_per_token` charges the non-baseline methods for their critiques; `required_only`
  writes only the keys `scaling` requires, as another code base would.
  """
  rng = np.random.default_rng(noise_seed)
  points = [(n, c / flops_per_token(n), c) for c in compute for n in sizes]
  points += [(n, d, d * flops_per_token(n)) for d in tokens for n in sizes]
  made = []
  for method, multiplier in methods.items():
    for run_seed in seeds:
      for n, d, c in points:
        loss = true_loss(n, d, law, multiplier)
        summary = {"method": method, "n_params": int(total_params(n)), "tokens": int(d), "flops": float(c),
                   "eval": {"loss": float(loss * np.exp(rng.normal(0.0, noise)))}}
        if not required_only:
          summary.update(seed=run_seed, n_params_non_embedding=int(n),
                         annotation_flops=0.0 if method == "baseline" else annotation_flops_per_token * int(d))
          for task, scale in TASK_SCALES.items() if accuracy_max is not None else ():
            accuracy = accuracy_max[method] * np.exp(-(loss - law["E"]) / scale)
            summary["eval"][task] = float(np.clip(accuracy + rng.normal(0.0, ACCURACY_NOISE), 0.0, 1.0))
        made.append(summary)
  return made


def write_sweep(sweep_dir: str, summary_dicts: list[dict]) -> list[str]:
  """Writes each summary to `<sweep_dir>/<method>/run-<i>/summary.json`; returns the paths."""
  paths = []
  for i, summary in enumerate(summary_dicts):
    path = rundir.path(f"{str(sweep_dir).rstrip('/')}/{summary['method']}/run-{i:04d}", rundir.SUMMARY)
    rundir.write_json(path, summary)
    paths.append(path)
  return paths


def make_runs(sizes: Iterable[float], metric: str = "eval.loss", **kwargs) -> summaries.Runs:
  """`make_summaries` validated into Runs in memory, as if read from a sweep directory."""
  made = make_summaries(sizes, **kwargs)
  return summaries.runs_from_summaries({f"synthetic/{s['method']}/run-{i:04d}": s for i, s in enumerate(made)}, metric)
