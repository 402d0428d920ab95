"""Information use of a set of runs: steer every run (resumably), then the endpoints over all of them.

Each run directory gets `steer.json` (skipped when one with the same settings exists) and its
summary.json gets `eval.steer` (flaw and well-formed rates per condition and domain).
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from etils import epath

from ixt_jax.data import formatting, shards
from ixt_jax.errors import ConfigError, DataNotFoundError
from ixt_jax.evaluate import endpoints
from ixt_jax import rundir
from ixt_jax.evaluate.run_dir import load_run
from ixt_jax.evaluate.run_eval import run_positive_critique
from ixt_jax.evaluate import steer
from ixt_jax.evaluate.steer import STEER_FILE, SteerSettings, steer_run


def steered(run_dir: epath.PathLike, settings: SteerSettings) -> dict[str, Any]:
  """The run's steer.json for `settings`, sampled now unless it exists."""
  path = epath.Path(run_dir)
  if (path / STEER_FILE).exists():
    done = json.loads((path / STEER_FILE).read_text())
    if done["settings"] == json.loads(json.dumps(dataclasses.asdict(settings))):
      if "flawed_line" not in done:  # sampled before flawed-line losses were measured: add them only
        run = load_run(path)
        done["flawed_line"] = steer.flawed_line_losses(run, formatting.FeedbackSettings.from_config(run.config.data),
                                                       steer.run_sources(run))
        shards.write_json(path / STEER_FILE, done)
      return done
  run = load_run(path)
  result = steer_run(run, run_positive_critique(run.config), settings)
  rundir.update_summary_eval(path, {"steer": result["rates"]})
  return result


def measure(run_dirs: Sequence[str], settings: SteerSettings, bootstrap: int = 1000,
            out: str | None = None) -> dict[str, Any]:
  """Steers every run, then {"endpoints", "rates", "well_formed", "runs", "samples_per_s"}."""
  if not run_dirs:
    raise ConfigError("--runs matched no run directory")
  runs = []
  for run_dir in run_dirs:
    path = epath.Path(run_dir)
    if not rundir.exists(rundir.path(path, rundir.CONFIG)):
      raise DataNotFoundError(f"{path}: no {rundir.CONFIG}; is this a run directory written by experiments.launch?")
    c = rundir.read_config(path).config
    runs.append({"method": c["method"], "seed": c["seed"], "dir": str(path), "steer": steered(path, settings)})
  table = endpoints.Runs(runs)
  result = {
      "settings": dataclasses.asdict(settings),
      "endpoints": endpoints.endpoints(table, settings.domains, bootstrap),
      "flawed_line_loss": endpoints.flawed_line_endpoints(runs, bootstrap),
      "rates": endpoints.rate_table(table, settings.domains),
      "well_formed": {r["method"]: {c: {d: v["well_formed_rate"] for d, v in by_d.items()}
                                    for c, by_d in r["steer"]["rates"].items()} for r in runs},
      "runs": [{k: r[k] for k in ("method", "seed", "dir")} for r in runs],
      "samples_per_s": [r["steer"]["samples_per_s"] for r in runs],
  }
  if out:
    shards.write_json(epath.Path(out) / "endpoints.json", result)
  return result


def format_report(result: dict[str, Any]) -> str:
  """Rates per method, condition and domain, then the endpoints table."""
  domains = result["settings"]["domains"]
  lines = ["flaw rate among well-formed samples (well-formed rate), per condition:",
           f"{'method':<26} {'condition':<10} " + " ".join(f"{d:>15}" for d in domains)]
  for method, by_condition in result["rates"].items():
    for condition, by_domain in by_condition.items():
      cells = []
      for d in domains:
        well = result["well_formed"][method][condition][d]
        rate = "n/a" if by_domain[d] is None else f"{by_domain[d]:.3f}"
        cells.append(f"{rate:>6} ({well:.2f})".rjust(15))
      lines.append(f"{method:<26} {condition:<10} " + " ".join(cells))
  lines += ["", f"endpoints over {', '.join(domains)} (mean of per-domain rates):",
            endpoints.format_endpoints(result["endpoints"]), "",
            "flawed-line loss (nats per token of the planted flaw's line; twin - arm > 0: the critique is read):"]
  for method, v in result["flawed_line_loss"].items():
    twin = v.get("twin_minus_arm")
    versus = f"; twin - arm {twin['value']:+.3f} [{twin['lo']:+.3f}, {twin['hi']:+.3f}]" if twin else ""
    lines.append(f"  {method:<26} under {v['condition']:<5} {v['loss']:.3f} over {v['records']} records{versus}")
  return "\n".join(lines)
