"""The tables and study figures of a finished study report folder (experiments.study_report writes it).

Reads only the copied summaries (`OUT/runs`, `OUT/lr_sweep`), `lr_rule.json` and the fits, so the
README's tables can be rebuilt from what is committed.
"""
from __future__ import annotations

import dataclasses
import json

from etils import epath
import matplotlib
import numpy as np

from ixt_jax import rundir
from ixt_jax.scaling import fit, lr_rule, report, summaries

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

# Beside fits.json: N = all parameters (at small scale the choice moves the exponents), and the loss
# every method reaches with no critique at inference.
EXTRA_FITS = {"fits_total_params.json": {"n_kind": "total"},
              "fits_unconditioned.json": {"metric": "eval.loss_unconditioned"}}
PAPER_HEADLINE = "up to 2.8x compute efficiency at 7.5B-12B parameters (the paper's claim; not measured here)"


def fit_study(c, runs_dir: str, n_kind: str = "non_embedding",
              metric: str = "eval.loss") -> tuple[dict, summaries.Runs]:
  """The grid's fit as experiments.study_report commits it and tests/test_study_results.py re-does it:
  the grid's methods, the config's bootstrap, seed 0."""
  runs = summaries.load_runs(runs_dir, metric=metric)
  fits = fit.fit_sweep(runs, n_kind=n_kind, n_bootstrap=c.fit.bootstrap, seed=0, methods=list(c.methods),
                       progress=False)
  return fits, runs


@dataclasses.dataclass(frozen=True)
class Run:
  name: str
  method: str
  size: str
  budget: str  # 'C3e12'
  seed: int
  summary: dict
  learning_rate: float

  @property
  def eval(self) -> dict:
    return self.summary["eval"]


def read_runs(folder: epath.Path) -> list[Run]:
  """Every finished run directly under `folder` (<method>-<size>-<budget>-s<seed>/summary.json + config.json)."""
  runs = []
  for path in sorted(folder.glob(f"*/{rundir.SUMMARY}")):
    method, size, budget, seed = path.parent.name.split("-")  # <method>-<size>-<budget>-s<seed>
    config = rundir.read_config(path.parent).config
    runs.append(Run(path.parent.name, method, size, budget, int(seed[1:]), rundir.read_json(path),
                    float(config["optimizer"]["learning_rate"])))
  return runs


def fit_lr_rule(lr_runs: list[Run]) -> dict:
  """The learning-rate rule (ixt_jax.scaling.lr_rule) of a learning-rate sweep's runs."""
  runs = summaries.runs_from_summaries({f"{r.name} lr={r.learning_rate}": r.summary for r in lr_runs})
  return lr_rule.fit_rule(runs, np.array([r.learning_rate for r in lr_runs]))


def _stats(values: list[float]) -> tuple[float, float]:
  """(mean, sample standard deviation; NaN for one value)."""
  return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def _score(value) -> str:
  return "-" if value is None else f"{value:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
  lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
  return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


@dataclasses.dataclass
class Study:
  config: object
  runs: list[Run]  # grid and controls
  lr_runs: list[Run]
  rule: dict

  @classmethod
  def load(cls, out: epath.Path, config) -> Study:
    lr_runs = [r for lr_dir in sorted((out / "lr_sweep").glob("lr*")) for r in read_runs(lr_dir)]
    return cls(config, read_runs(out / "runs"), lr_runs, json.loads((out / "lr_rule.json").read_text()))

  def select(self, **fields) -> list[Run]:
    return [r for r in self.runs if all(getattr(r, k) == v for k, v in fields.items())]

  def losses(self, **fields) -> list[float]:
    return [r.eval["loss"] for r in self.select(**fields)]

  @property
  def seed_points(self) -> list[tuple[str, str]]:
    """(size, budget) of the grid points run with more than one seed."""
    return sorted({(r.size, r.budget) for r in self.runs if r.seed > 0})

  # Tables.

  def grid_table(self) -> str:
    header = ["size", "N (non-emb.)", "budget", "tokens", "IXT loss (bpb)", "IXT, no critique",
              "IXT-cooldown (positive / none)",
              "baseline loss (bpb)", "IXT vs baseline", "math EM IXT / base", "code pass@1 IXT / base"]
    rows = []
    for size in self.config.sizes:
      for budget in sorted({r.budget for r in self.select(size=size)}, key=lambda b: float(b[1:])):
        ixt, cool, base = (self.select(size=size, budget=budget, method=m, seed=0)[0]
                           for m in ("ixt", "ixt_cooldown", "baseline"))
        gap = ixt.eval["loss"] / base.eval["loss"] - 1
        rows.append([
            size, f"{ixt.summary['n_params_non_embedding']:,}", budget[1:], f"{ixt.summary['tokens']:,}",
            f"{ixt.eval['loss']:.4f} ({ixt.eval['bits_per_byte']:.3f})", f"{ixt.eval['loss_unconditioned']:.4f}",
            f"{cool.eval['loss']:.4f} / {cool.eval['loss_unconditioned']:.4f}",
            f"{base.eval['loss']:.4f} ({base.eval['bits_per_byte']:.3f})", f"{gap:+.2%}",
            f"{_score(ixt.eval['math_em'])} / {_score(base.eval['math_em'])}",
            f"{_score(ixt.eval['code_pass1'])} / {_score(base.eval['code_pass1'])}"])
    return _table(header, rows)

  def same_size_multiplier(self, size: str, budget: str, method: str) -> str:
    """C_baseline / C at one size: the compute the baseline of the same size needs to reach the method's loss
    at `budget`, interpolated in log C between the baseline's measured budgets (seed 0; no law, no
    extrapolation in N). Outside the measured budgets it is a bound."""
    base = sorted(self.select(size=size, method="baseline", seed=0), key=lambda r: r.summary["flops"])
    log_c = np.log([r.summary["flops"] for r in base])
    losses = np.array([r.eval["loss"] for r in base])
    target = self.select(size=size, budget=budget, method=method, seed=0)[0]
    loss, compute = target.eval["loss"], target.summary["flops"]
    if loss > losses[0]:
      return f"< {np.exp(log_c[0]) / compute:.2g}"
    if loss < losses[-1]:
      return f"> {np.exp(log_c[-1]) / compute:.2g}"
    return f"{np.exp(np.interp(-loss, -losses, log_c)) / compute:.2f}"  # baseline loss falls with compute

  def same_size_table(self) -> str:
    budgets = sorted({r.budget for r in self.runs}, key=lambda b: float(b[1:]))
    header = ["size", "method", *(f"at C = {b[1:]}" for b in budgets)]
    rows = [[size, method, *(self.same_size_multiplier(size, b, method) for b in budgets)]
            for size in self.config.sizes for method in self.config.methods if method != "baseline"]
    return _table(header, rows)

  def seed_table(self) -> str:
    header = ["point", "method", "seeds", "loss mean", "loss std", "method - baseline", "in baseline stds"]
    rows = []
    for size, budget in self.seed_points:
      base_mean, base_std = _stats(self.losses(size=size, budget=budget, method="baseline"))
      for method in self.config.methods:
        losses = self.losses(size=size, budget=budget, method=method)
        mean, std = _stats(losses)
        effect = mean - base_mean
        rows.append([f"{size}/{budget}", method, str(len(losses)), f"{mean:.4f}", f"{std:.4f}", f"{effect:+.4f}",
                     "-" if method == "baseline" else f"{effect / base_std:+.1f}"])
    return _table(header, rows)

  def control_effects(self) -> list[dict]:
    """Per method at the study point: its seeds' mean loss, and its gap to the baseline's mean with the
    standard error of that difference (Welch), smallest loss first."""
    size, budget = self.config.study_point.replace("/", " ").split()
    base = self.losses(size=size, budget=budget, method="baseline")
    effects = []
    for method in dict.fromkeys(r.method for r in self.select(size=size, budget=budget)):
      runs = self.select(size=size, budget=budget, method=method)
      mean, std = _stats([r.eval["loss"] for r in runs])
      base_mean, base_std = _stats(base)
      stderr = np.sqrt(std**2 / len(runs) + base_std**2 / len(base))
      effects.append({"method": method, "runs": runs, "mean": mean, "std": std, "effect": mean - base_mean,
                      "stderr": stderr,
                      "mean_of": lambda key, runs=runs: np.mean([r.eval[key] for r in runs])})
    return sorted(effects, key=lambda e: e["mean"])

  def controls_table(self) -> str:
    header = ["method", "seeds", "held-out loss (own condition)", "no critique", "vs baseline", "t (Welch)",
              "documents read", "math EM", "code pass@1"]
    rows = []
    for e in self.control_effects():
      t = "-" if e["method"] == "baseline" else f"{e['effect'] / e['stderr']:+.1f}"
      rows.append([e["method"], str(len(e["runs"])), f"{e['mean']:.4f} ± {e['std']:.4f}",
                   f"{e['mean_of']('loss_unconditioned'):.4f}", f"{e['effect']:+.4f}", t,
                   f"{np.mean([r.summary['documents'] for r in e['runs']]):,.0f}", f"{e['mean_of']('math_em'):.3f}",
                   f"{e['mean_of']('code_pass1'):.3f}"])
    return _table(header, rows)

  def lr_table(self) -> str:
    learning_rates = sorted({r.learning_rate for r in self.lr_runs})
    header = ["size", "N (non-emb.)", "method", *(f"lr {lr:g}" for lr in learning_rates),
              "this method's own best lr"]
    rows = []
    for size in sorted({r.size for r in self.lr_runs}):
      for method in sorted({r.method for r in self.lr_runs}):
        mine = sorted((r for r in self.lr_runs if r.size == size and r.method == method), key=lambda r: r.learning_rate)
        own_best, at_edge = lr_rule.best_learning_rate(np.array([r.learning_rate for r in mine]),
                                                       np.array([r.eval["loss"] for r in mine]))
        rows.append([size, f"{mine[0].summary['n_params_non_embedding']:,}", method,
                     *(f"{r.eval['loss']:.4f}" for r in mine), f"{own_best:.4g}" + (" (edge)" if at_edge else "")])
    rule = self.rule
    best = "; ".join(f"N = {s['n_params']:,}: {s['best_lr']:.4g}" + (" (edge of the range)" if s["at_edge"] else "")
                     for s in rule["sizes"])
    return (_table(header, rows) + f"\n\nBest learning rate (parabola in log lr through the mean over methods): "
            f"{best}.\nRule: lr = {rule['lr_reference']:.4g} x (N / {rule['n_reference']:,})"
            f"^-{rule['lr_exponent']:.3f}")

  def markdown(self, fits: dict, fits_total: dict, fits_unconditioned: dict) -> str:
    return "\n\n".join([
        "## Grid (seed 0; IXT scored with a positive critique, its own inference condition)", self.grid_table(),
        "## Same-size compute multiplier (the baseline's compute for the method's loss / the method's compute; "
        "< 1: the method is worse)", self.same_size_table(),
        "## Seed noise", self.seed_table(),
        f"## Controls and ablations at {self.config.study_point} (mean ± std over seeds)", self.controls_table(),
        "## Learning-rate sweep (held-out loss)", self.lr_table(),
        "## Fits (N = non-embedding parameters)", "```\n" + report.format_fits(fits) + "\n```",
        "## Fits (N = all parameters)", "```\n" + report.format_fits(fits_total) + "\n```",
        "## Fits of the loss with no critique at inference (every method scored unconditioned)",
        "```\n" + report.format_fits(fits_unconditioned) + "\n```",
        f"Paper: {PAPER_HEADLINE}."]) + "\n"

  # Figures.

  def figures(self) -> dict:
    return {"seed_noise": self.seed_noise_figure(), "controls": self.controls_figure(),
            "lr_sweep": self.lr_figure()}

  def seed_noise_figure(self):
    points = self.seed_points
    fig, axes = plt.subplots(1, len(points), figsize=(4.5 * len(points), 3.6), squeeze=False)
    for ax, (size, budget) in zip(axes[0], points):
      for i, method in enumerate(self.config.methods):
        losses = self.losses(size=size, budget=budget, method=method)
        ax.scatter([i] * len(losses), losses, color=f"C{i}", alpha=0.7)
        ax.hlines(np.mean(losses), i - 0.3, i + 0.3, color=f"C{i}")
      ax.set_xticks(range(len(self.config.methods)), list(self.config.methods))
      ax.set_title(f"{size} at C = {budget[1:]} FLOPs: each dot a seed")
      ax.set_ylabel("held-out clean loss (nats/token)")
    fig.tight_layout()
    return fig

  def controls_figure(self):
    effects = self.control_effects()
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(effects) + 1.2))
    ax.barh(range(len(effects)), [e["effect"] for e in effects], xerr=[2 * e["stderr"] for e in effects],
            color=["C2" if e["effect"] < 0 else "C3" for e in effects], capsize=3)
    ax.set_yticks(range(len(effects)), [e["method"] for e in effects])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("mean held-out clean loss minus the baseline's (nats/token; own inference condition)")
    size, budget = self.config.study_point.replace("/", " ").split()
    ax.set_title(f"Controls and ablations at {size}, C = {budget[1:]} FLOPs (error bars: ±2 standard errors)")
    fig.tight_layout()
    return fig

  def lr_figure(self):
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for i, size in enumerate(sorted({r.size for r in self.lr_runs})):
      for method, style in (("baseline", "--"), ("ixt", "-")):
        mine = sorted((r for r in self.lr_runs if r.size == size and r.method == method), key=lambda r: r.learning_rate)
        ax.plot([r.learning_rate for r in mine], [r.eval["loss"] for r in mine], style, marker="o", color=f"C{i}",
                label=f"{size} {method}")
    for i, s in enumerate(self.rule["sizes"]):
      ax.axvline(s["best_lr"], color=f"C{i}", alpha=0.4, linestyle=":")
    ax.set_xscale("log")
    ax.set_xlabel("peak learning rate")
    ax.set_ylabel("held-out clean loss (nats/token)")
    ax.set_title("Learning-rate sweep (dotted: best per size)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
