"""The tables and study figures of a finished study report folder (experiments.study_report writes it).

Reads only the copied summaries (`OUT/runs`, `OUT/lr_sweep`), `lr_rule.json` and the fits, so the
README's tables can be rebuilt from what is committed. What a reviewer would reject stays out of the
tables: runs of fewer than MIN_STEPS steps, a loss or multiplier under a condition the arm never trained
with (marked where a probe is shown), the extrapolation (it stays in fits.json, labelled), and IsoFLOP
optima the measured sizes do not bracket are marked as such.
"""
from __future__ import annotations

import dataclasses
import json

from etils import epath
import matplotlib
import ml_collections
import numpy as np

from ixt_jax import rundir
from ixt_jax.data import conditions
from ixt_jax.scaling import fit, isoflop, lr_rule, multiplier, plots, report, summaries

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

# A run of fewer optimizer steps is mostly warmup (10% of the steps) and its loss mostly the start of
# the curve: left out of every table. Its summary stays in OUT/runs and in the committed fits.
MIN_STEPS = 100

# Beside fits.json, by file name: (fit_study's arguments, what the file is; written into it as "label").
EXTRA_FITS = {
    "fits_total_params.json": (
        {"n_kind": "total"},
        "the grid's fit with N = all parameters instead of non-embedding ones (at this scale the choice moves "
        "the exponents)"),
    "fits_unconditioned.json": (
        {"metric": "eval.loss_unconditioned"},
        "the grid's fit of the held-out loss with no critique at inference: the trained condition of the "
        "baseline and of the conditioning-cooldown arm (ixt_cooldown); plain IXT (ixt) never trained without "
        "a critique, so its curves here are a probe of an untrained condition, not a result"),
}
# The v1 summaries score `loss` under a positive critique for every arm trained with a prefix critique (the
# cooldown arm too) and `loss_unconditioned` under none (both equal for an arm without a prefix).
METRIC_CONDITION = {"eval.loss": "positive", "eval.loss_unconditioned": "none"}
CONDITION_LABELS = {"positive": "positive critique", "none": "no critique"}
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
  trained: tuple[str, ...]  # the conditions its training showed it (conditions.trained_conditions)
  own: str  # the condition it is scored under (conditions.own_condition)

  @property
  def eval(self) -> dict:
    return self.summary["eval"]

  @property
  def short(self) -> bool:
    return self.summary["steps"] < MIN_STEPS

  def loss(self, condition: str | None = None) -> float:
    """Held-out clean loss under `condition` (its own condition by default)."""
    return self.eval["loss_unconditioned" if (condition or self.own) == "none" else "loss"]


def read_runs(folder: epath.Path) -> list[Run]:
  """Every finished run directly under `folder` (<method>-<size>-<budget>-s<seed>/summary.json + config.json)."""
  runs = []
  for path in sorted(folder.glob(f"*/{rundir.SUMMARY}")):
    method, size, budget, seed = path.parent.name.split("-")  # <method>-<size>-<budget>-s<seed>
    config = ml_collections.ConfigDict(rundir.read_config(path.parent).config)
    trained, own = conditions.trained_conditions(config), conditions.own_condition(config)
    # A suffix arm's critique follows the document it is scored on: no critique precedes it.
    own = own if own in trained else "none"
    runs.append(Run(path.parent.name, method, size, budget, int(seed[1:]), rundir.read_json(path),
                    float(config.optimizer.learning_rate), trained, own))
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


def _multiplier_cell(curve: dict, i: int) -> str:
  return f"{multiplier.display(curve['value'][i], curve['bound'][i])} {report.bracket(curve['lo'][i], curve['hi'][i])}"


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
    """Each selected run's held-out loss under its own condition."""
    return [r.loss() for r in self.select(**fields)]

  def arm(self, method: str) -> Run:
    """A run of `method` (seed 0), for what every run of it shares: its trained and own conditions."""
    return self.select(method=method, seed=0)[0]

  @property
  def seed_points(self) -> list[tuple[str, str]]:
    """(size, budget) of the grid points run with more than one seed."""
    return sorted({(r.size, r.budget) for r in self.runs if r.seed > 0})

  @property
  def budgets(self) -> list[str]:
    return sorted({r.budget for r in self.runs}, key=lambda b: float(b[1:]))

  @property
  def short_points(self) -> list[Run]:
    """One seed-0 grid run per (size, budget) shorter than MIN_STEPS (its methods are compute-matched)."""
    return [r for r in self.runs if r.short and r.seed == 0 and r.method == "baseline"]

  def short_note(self) -> str:
    points = ", ".join(f"{r.size} at {r.budget[1:]} ({r.summary['steps']} steps)" for r in self.short_points)
    return (f"Left out: grid points of fewer than {MIN_STEPS} optimizer steps (rows of "
            f"{self.short_points[0].summary['batch_size']} x {self.short_points[0].summary['seq_len']} tokens), "
            f"mostly warmup: {points}. Their summaries stay in runs/ and in the committed fits."
            if self.short_points else f"Every grid point has at least {MIN_STEPS} optimizer steps.")

  # Tables.

  def grid_table(self) -> str:
    header = ["size", "N (non-emb.)", "budget", "tokens", "steps", "IXT loss, positive critique (bpb)",
              "IXT + cooldown loss, no critique / positive", "baseline loss (bpb)", "IXT vs baseline",
              "IXT + cooldown vs baseline", "math EM IXT / base", "code pass@1 IXT / base"]
    rows = []
    for size in self.config.sizes:
      for budget in sorted({r.budget for r in self.select(size=size)}, key=lambda b: float(b[1:])):
        ixt, cool, base = (self.select(size=size, budget=budget, method=m, seed=0)[0]
                           for m in ("ixt", "ixt_cooldown", "baseline"))
        if base.short:
          continue
        rows.append([
            size, f"{ixt.summary['n_params_non_embedding']:,}", budget[1:], f"{ixt.summary['tokens']:,}",
            str(ixt.summary["steps"]), f"{ixt.loss('positive'):.4f} ({ixt.eval['bits_per_byte']:.3f})",
            f"{cool.loss('none'):.4f} / {cool.loss('positive'):.4f}",
            f"{base.loss():.4f} ({base.eval['bits_per_byte']:.3f})", f"{ixt.loss() / base.loss() - 1:+.2%}",
            f"{cool.loss() / base.loss() - 1:+.2%}",
            f"{_score(ixt.eval['math_em'])} / {_score(base.eval['math_em'])}",
            f"{_score(ixt.eval['code_pass1'])} / {_score(base.eval['code_pass1'])}"])
    return _table(header, rows) + "\n\n" + self.short_note()

  def same_size_multiplier(self, size: str, budget: str, method: str) -> str:
    """C_baseline / C at one size: the compute the baseline of the same size needs to reach the method's loss
    (under its own condition) at `budget`, interpolated in log C between the baseline's measured budgets
    (seed 0; runs of at least MIN_STEPS steps; no law, no extrapolation in N). Outside them it is a bound."""
    target = self.select(size=size, budget=budget, method=method, seed=0)[0]
    if target.short:
      return f"left out ({target.summary['steps']} steps)"
    base = sorted((r for r in self.select(size=size, method="baseline", seed=0) if not r.short),
                  key=lambda r: r.summary["flops"])
    log_c = np.log([r.summary["flops"] for r in base])
    losses = np.array([r.loss() for r in base])
    loss, compute = target.loss(), target.summary["flops"]
    if loss > losses[0]:
      return f"< {np.exp(log_c[0]) / compute:.2g}"
    if loss < losses[-1]:
      return f"> {np.exp(log_c[-1]) / compute:.2g}"
    return f"{np.exp(np.interp(-loss, -losses, log_c)) / compute:.2f}"  # baseline loss falls with compute

  def _arm_label(self, method: str) -> str:
    return f"{plots.method_label(method)} ({CONDITION_LABELS[self.arm(method).own]})"

  def same_size_table(self) -> str:
    header = ["size", "method (its own condition)", *(f"at C = {b[1:]}" for b in self.budgets)]
    rows = [[size, self._arm_label(method), *(self.same_size_multiplier(size, b, method) for b in self.budgets)]
            for size in self.config.sizes for method in self.config.methods if method != "baseline"]
    return _table(header, rows)

  def multiplier_entries(self, fits_files: dict[str, dict]) -> tuple[list, list]:
    """(kept, left out): (method, condition, file name, the multiplier entry) for each non-baseline method and
    each loss fit (file name -> fits dict), kept where the method trained under the fit's condition."""
    kept, left_out = [], []
    for method in self.config.methods:
      if method == "baseline":
        continue
      for name, fits in fits_files.items():
        metric = fits["multiplier"]["sweep"]["metric"]
        entry = (method, METRIC_CONDITION[metric], name, fits["multiplier"]["methods"][method][metric])
        (kept if entry[1] in self.arm(method).trained else left_out).append(entry)
    own = lambda e: e[1] != self.arm(e[0]).own  # its own condition first
    return sorted(kept, key=lambda e: (list(self.config.methods).index(e[0]), own(e))), left_out

  def multiplier_table(self, fits: dict, fits_unconditioned: dict) -> str:
    """The fitted multiplier of each arm under each condition it trained with, at both ends of the measured
    compute range (95% bootstrap intervals); the extrapolation is in no table."""
    kept, left_out = self.multiplier_entries({"fits.json": fits, "fits_unconditioned.json": fits_unconditioned})
    measured = kept[0][3]["without_annotation"]["measured"]
    header = ["method", "condition", "fit", f"at C = {measured['compute'][0]:.2g}",
              f"at C = {measured['compute'][-1]:.2g}"]
    rows = []
    for method, condition, name, entry in kept:
      curve = entry["without_annotation"]["measured"]
      own = " (its own)" if condition == self.arm(method).own else ""
      rows.append([plots.method_label(method), CONDITION_LABELS[condition] + own, name, _multiplier_cell(curve, 0),
                   _multiplier_cell(curve, -1)])
    notes = [f"Left out: {plots.method_label(m)} under {CONDITION_LABELS[c]}, a condition it never trained with "
             f"({n} keeps that curve as a probe, not a result)." for m, c, n, _ in left_out]
    smallest = min(r.summary["n_params_non_embedding"] for r in self.select(method="baseline"))
    below = max(c for f in (fits, fits_unconditioned) for m in f["methods"].values()
                for c, n in zip(m["parametric"]["frontier"]["compute"], m["parametric"]["frontier"]["n_opt"])
                if n < smallest)
    notes.append(f"Up to C = {below:.2g} some fitted compute-optimal size lies below the smallest size measured "
                 f"(N = {smallest:,}): there the multiplier extrapolates the laws in N.")
    extrapolation = fits["multiplier"]["methods"][kept[0][0]][fits["multiplier"]["sweep"]["metric"]]
    label = extrapolation["without_annotation"]["extrapolation"]["label"]
    notes.append(f"The extrapolation to C = {fits['multiplier']['extrapolate_to']:.2g} FLOPs stays in fits.json "
                 f"(`extrapolation`, labelled \"{label}\") and is in no table or figure.")
    return _table(header, rows) + "\n\n" + "\n".join(notes)

  def isoflop_table(self, fits: dict) -> str:
    """Each method's IsoFLOP optimum per budget (fits.json), marked where the measured sizes do not bracket it."""
    header = ["method", "budget", "sizes (runs)", "parabola's N_opt", "best measured size", "bracketed",
              f"runs under {MIN_STEPS} steps"]
    rows, laws = [], []
    for method in self.config.methods:
      iso = fits["methods"][method]["isoflop"]
      loose = 0
      for budget in iso["budgets"]:
        mine = [r for r in self.select(method=method) if r.summary["budget"] == budget["budget"]]
        n = np.array([r.summary["n_params_non_embedding"] for r in mine], dtype=float)
        reason = isoflop.unbracketed(budget, n, np.array([r.eval["loss"] for r in mine]))
        loose += reason is not None
        sizes = {r.summary["n_params_non_embedding"]: r.size for r in mine}
        best = min(sizes, key=lambda k: np.mean([r.eval["loss"] for r in mine if r.size == sizes[k]]))
        short = sorted({f"{r.size} ({r.summary['steps']})" for r in mine if r.short})
        rows.append([plots.method_label(method), budget["budget"], f"{budget['sizes']} ({budget['runs']})",
                     f"{budget['n_opt']:,.0f}" if "n_opt" in budget else "-", f"{sizes[best]} ({best:,})",
                     "yes" if reason is None else f"**no**: {reason}", ", ".join(short) or "-"])
      laws.append(f"{plots.method_label(method)}: N_opt ~ C^{iso['n_opt']['exponent']:.3f}, "
                  f"D_opt ~ C^{iso['d_opt']['exponent']:.3f} over {len(iso['budgets'])} budgets"
                  + (f", {loose} of them not bracketed: not a measured exponent" if loose else ""))
    return _table(header, rows) + "\n\nFitted through these optima: " + "; ".join(laws) + "."

  def seed_table(self) -> str:
    header = ["point", "method (its own condition)", "seeds", "loss mean", "loss std", "method - baseline",
              "in baseline stds"]
    rows = []
    for size, budget in self.seed_points:
      base_mean, base_std = _stats(self.losses(size=size, budget=budget, method="baseline"))
      for method in self.config.methods:
        losses = self.losses(size=size, budget=budget, method=method)
        mean, std = _stats(losses)
        effect = mean - base_mean
        rows.append([f"{size}/{budget}", self._arm_label(method), str(len(losses)), f"{mean:.4f}", f"{std:.4f}",
                     f"{effect:+.4f}", "-" if method == "baseline" else f"{effect / base_std:+.1f}"])
    return _table(header, rows)

  def control_effects(self) -> list[dict]:
    """Per method at the study point: its seeds' mean loss (own condition), and its gap to the baseline's
    mean with the standard error of that difference (Welch), smallest loss first."""
    size, budget = self.config.study_point.replace("/", " ").split()
    base = self.losses(size=size, budget=budget, method="baseline")
    effects = []
    for method in dict.fromkeys(r.method for r in self.select(size=size, budget=budget)):
      runs = self.select(size=size, budget=budget, method=method)
      mean, std = _stats([r.loss() for r in runs])
      base_mean, base_std = _stats(base)
      stderr = np.sqrt(std**2 / len(runs) + base_std**2 / len(base))
      effects.append({"method": method, "runs": runs, "mean": mean, "std": std, "effect": mean - base_mean,
                      "stderr": stderr,
                      "mean_of": lambda key, runs=runs: np.mean([r.eval[key] for r in runs])})
    return sorted(effects, key=lambda e: e["mean"])

  def controls_table(self) -> str:
    header = ["method", "own condition", "seeds", "held-out loss (own condition)", "no critique", "vs baseline",
              "t (Welch)", "documents read", "math EM", "code pass@1"]
    rows = []
    for e in self.control_effects():
      t = "-" if e["method"] == "baseline" else f"{e['effect'] / e['stderr']:+.1f}"
      untrained = "none" not in e["runs"][0].trained
      rows.append([e["method"], CONDITION_LABELS[e["runs"][0].own], str(len(e["runs"])),
                   f"{e['mean']:.4f} ± {e['std']:.4f}",
                   f"{e['mean_of']('loss_unconditioned'):.4f}" + (" *" if untrained else ""), f"{e['effect']:+.4f}", t,
                   f"{np.mean([r.summary['documents'] for r in e['runs']]):,.0f}", f"{e['mean_of']('math_em'):.3f}",
                   f"{e['mean_of']('code_pass1'):.3f}"])
    return _table(header, rows) + ("\n\n\\* a condition the arm never trained with: a probe of what it learned "
                                   "(the format or the verdict), not a score.")

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

  def _fit_block(self, fits: dict, methods=None) -> str:
    """A fit's laws and measured-range multipliers (its IsoFLOP optima are in their own table)."""
    return "```\n" + "\n\n".join([report.header(fits), report.laws(fits, methods),
                                  report.multipliers(fits, methods, extrapolation=False)]) + "\n```"

  def markdown(self, fits: dict, fits_total: dict, fits_unconditioned: dict) -> str:
    trained_none = [m for m in self.config.methods if "none" in self.arm(m).trained]
    return "\n\n".join([
        "## Compute multiplier (fitted; the baseline's compute for the method's loss / the method's compute; "
        "< 1: the method needs more compute)", self.multiplier_table(fits, fits_unconditioned),
        "## Grid (seed 0; each arm scored under the conditions it trained with)", self.grid_table(),
        "## Same-size compute multiplier (model-free: interpolated between the same size's baseline runs; "
        "< 1: the method is worse)", self.same_size_table(),
        "## IsoFLOP optima (fits.json; an optimum counts only where the measured sizes bracket it)",
        self.isoflop_table(fits),
        "## Seed noise", self.seed_table(),
        f"## Controls and ablations at {self.config.study_point} (mean ± std over seeds)", self.controls_table(),
        "## Learning-rate sweep (held-out loss)", self.lr_table(),
        "## Fits (N = non-embedding parameters; fits.json, over every grid run)", self._fit_block(fits),
        f"## Fits (fits_total_params.json: {EXTRA_FITS['fits_total_params.json'][1]})", self._fit_block(fits_total),
        f"## Fits (fits_unconditioned.json: {EXTRA_FITS['fits_unconditioned.json'][1]}); shown for the arms "
        f"trained without a critique: {', '.join(trained_none)}", self._fit_block(fits_unconditioned, trained_none),
        f"Paper: {PAPER_HEADLINE}."]) + "\n"

  # Figures.

  def figures(self, fits: dict, fits_unconditioned: dict) -> dict:
    return {"seed_noise": self.seed_noise_figure(), "controls": self.controls_figure(),
            "lr_sweep": self.lr_figure(), "multiplier": self.multiplier_figure(fits, fits_unconditioned)}

  def multiplier_figure(self, fits: dict, fits_unconditioned: dict):
    """The fitted multiplier of each arm under its own condition over the measured compute range: held-out
    loss, and code pass@1 (math exact match is at the floor for every run, so its multiplier is noise)."""
    kept, _ = self.multiplier_entries({"fits.json": fits, "fits_unconditioned.json": fits_unconditioned})
    colors = {m: f"C{i}" for i, m in enumerate(self.config.methods)}
    own = [(m, c) for m, c, _, _ in kept if c == self.arm(m).own]
    loss = [(f"{plots.method_label(m)} ({CONDITION_LABELS[c]})", e, colors[m]) for m, c, _, e in kept if (m, c) in own]
    code = [(f"{plots.method_label(m)} (positive critique)", fits["multiplier"]["methods"][m]["eval.code_pass1"],
             colors[m]) for m, _ in own]
    return plots.multiplier_figure({"eval.loss": loss, "eval.code_pass1": code}, fits["multiplier"]["reference"])

  def seed_noise_figure(self):
    points = self.seed_points
    fig, axes = plt.subplots(1, len(points), figsize=(5.5 * len(points), 3.8), squeeze=False)
    for ax, (size, budget) in zip(axes[0], points):
      for i, method in enumerate(self.config.methods):
        losses = self.losses(size=size, budget=budget, method=method)
        ax.scatter([i] * len(losses), losses, color=f"C{i}", alpha=0.7)
        ax.hlines(np.mean(losses), i - 0.3, i + 0.3, color=f"C{i}")
      ax.set_xticks(range(len(self.config.methods)),
                    [self._arm_label(m).replace(" (", "\n(") for m in self.config.methods], fontsize=8)
      ax.set_title(f"{size} at C = {budget[1:]} FLOPs: each dot a seed")
      ax.set_ylabel("held-out clean loss (nats per token)")
    fig.tight_layout()
    return fig

  def controls_figure(self):
    effects = self.control_effects()
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(effects) + 1.2))
    ax.barh(range(len(effects)), [e["effect"] for e in effects], xerr=[2 * e["stderr"] for e in effects],
            color=["C2" if e["effect"] < 0 else "C3" for e in effects], capsize=3)
    ax.set_yticks(range(len(effects)), [plots.method_label(e["method"]) for e in effects])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("mean held-out clean loss minus the baseline's (nats per token; each arm's own condition)")
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
                label=f"{size} {plots.method_label(method)}")
    for i, s in enumerate(self.rule["sizes"]):
      ax.axvline(s["best_lr"], color=f"C{i}", alpha=0.4, linestyle=":")
    ax.set_xscale("log")
    ax.set_xlabel("peak learning rate")
    ax.set_ylabel("held-out clean loss (nats per token)")
    ax.set_title("Learning-rate sweep (dotted: best per size)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
