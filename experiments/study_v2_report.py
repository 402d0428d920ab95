"""Study v2's tables and figures, derived from the committed per-run JSON alone.

RESULTS/runs/<stage>/<arm>/seed<k>/{config,summary,steer}.json (and RESULTS/model_critic.json, the
model critic's agreement with the verifiers, where IXT trained on its annotation) -> RESULTS/study.json,
tables.txt, flaw_rates.png, endpoints.png, dose_response.png. tests/test_study_v2_results.py
re-derives study.json from them.
"""
from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
from etils import epath

from configs.sweeps.study_v2 import MODEL_CRITIC, dose_annotation
from ixt_jax import rundir
from ixt_jax.evaluate import endpoints
from ixt_jax.evaluate.steer import STEER_FILE
from ixt_jax.feedback import critic_card

STUDY_FILE, TABLES_FILE = "study.json", "tables.txt"
MODEL_CRITIC_FILE = "model_critic.json"  # experiments.study_v2_runs.model_critic_record
MID = "mid"  # the mid-training stage's directory (experiments.study_v2)
ARM_LABELS = {
    "baseline": "baseline",
    "baseline_filtered": "filtered baseline (flawless documents only)",
    "ixt_quality_token": "IXT, one-token verdict",
    "ixt_quality_token_shuffled": "IXT verdict trained on shuffled verdicts",
    "ixt_critique": "IXT, written critique",
    "ixt_critique_shuffled": "IXT critique trained on shuffled critiques",
    "ixt_giveaway": "give-away control (critique quotes the flaw)",
}


def arm_label(arm: str) -> str:
  """An arm in words; a dose-response arm is '<arm>_flip<percent>'."""
  base, _, flip = arm.rpartition("_flip")
  if base and flip.isdigit():
    return f"{ARM_LABELS.get(base, base)}, {flip}% of verdicts reversed"
  base = arm.removesuffix(f"_{MODEL_CRITIC}")
  if base != arm:
    return f"{ARM_LABELS.get(base, base)}, annotated by the model critic"
  return ARM_LABELS.get(arm, arm)


CONDITION_LABELS = {"none": "no critique", "positive": "shown a 'flawless' critique",
                    "negative": "shown a 'flawed' critique"}
ENDPOINT_LABELS = {
    "delta": "flaw rate when shown 'flawed' minus when shown 'flawless'",
    "delta_vs_twin": "(1) that difference beyond its shuffled-trained twin's",
    "twin_minus_arm": "(2) twin's flaw rate minus the arm's, both shown 'flawless'",
    "arm_minus_baseline": "(3) arm shown 'flawless' minus the baseline",
    "arm_minus_filtered": "arm shown 'flawless' minus the filtered baseline",
}
_CONDITION_COLOURS = {"none": "0.6", "positive": "tab:blue", "negative": "tab:red"}


def read_runs(results: epath.PathLike) -> dict[str, list[dict[str, Any]]]:
  """{stage: [{"arm", "seed", "summary", "steer"}]}, stages and runs in a fixed order."""
  stages: dict[str, list[dict[str, Any]]] = {}
  for run_dir in sorted(epath.Path(results).glob("runs/*/*/seed*")):
    stage, arm = run_dir.parent.parent.name, run_dir.parent.name
    stages.setdefault(stage, []).append({
        "arm": arm, "seed": int(run_dir.name.removeprefix("seed")),
        "summary": rundir.read_json(run_dir / rundir.SUMMARY), "steer": rundir.read_json(run_dir / STEER_FILE)})
  return stages


def _stage(runs: list[dict[str, Any]], domains: list[str], bootstrap: int) -> dict[str, Any]:
  steered = [{"method": r["arm"], "seed": r["seed"], "steer": r["steer"]} for r in runs]
  table = endpoints.Runs(steered)
  by_arm: dict[str, list[dict[str, Any]]] = {}
  for r in runs:
    by_arm.setdefault(r["arm"], []).append(r["summary"])
  return {
      "n_params_non_embedding": runs[0]["summary"]["n_params_non_embedding"],
      "seeds": {arm: len(s) for arm, s in by_arm.items()},
      "compute": {arm: {"flops": sorted({s["flops"] for s in ss}), "tokens": sorted({s["tokens"] for s in ss}),
                        "steps": sorted({s["steps"] for s in ss})} for arm, ss in by_arm.items()},
      "flaw_rates": endpoints.rate_intervals(table, domains, bootstrap),
      "well_formed": {arm: _well_formed([r["steer"] for r in runs if r["arm"] == arm], domains) for arm in by_arm},
      "endpoints": endpoints.endpoints(table, domains, bootstrap),
      "flawed_line_loss": endpoints.flawed_line_endpoints(steered, bootstrap),
      "clean_heldout_loss": {arm: sum(s["eval"]["loss"] for s in ss) / len(ss) for arm, ss in by_arm.items()},
      "critique_token_share": {arm: ss[0]["feedback_token_share"] for arm, ss in by_arm.items()},
      "annotation_flops": {arm: sum(s["annotation_flops"] for s in ss) / len(ss) for arm, ss in by_arm.items()},
      "train_seconds": sum(s["wall_seconds"] for ss in by_arm.values() for s in ss),
      "steer_seconds": sum(r["steer"]["seconds"] for r in runs),
  }


def _well_formed(steers: list[dict[str, Any]], domains: list[str]) -> dict[str, float]:
  """{condition: well-formed rate}, the mean over seeds and domains."""
  return {c: sum(st["rates"][c][d]["well_formed_rate"] for st in steers for d in domains) / (len(steers) * len(domains))
          for c in steers[0]["rates"]}


def derive(results: epath.PathLike, config: dict[str, Any], wall_seconds: float | None = None) -> dict[str, Any]:
  """Every table of the study from RESULTS/runs alone (config: the study config, for the steer
  domains and the bootstrap; wall_seconds: the study's own clock, not derivable from the runs)."""
  domains, bootstrap = list(config["domains"]), config["bootstrap"]
  stages = {stage: _stage(runs, domains, bootstrap) for stage, runs in read_runs(results).items()}
  critic_file = epath.Path(results) / MODEL_CRITIC_FILE
  model_critic = _model_critic(stages, config, rundir.read_json(critic_file)) if critic_file.exists() else None
  return {"config": config, "domains": domains, "stages": stages, "dose_response": _dose_response(stages, config),
          "model_critic": model_critic, "wall_seconds": wall_seconds}


def _model_critic(stages: dict[str, Any], config: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
  """The model critic on the dose-response curve: its agreement with the verifiers over the corpus
  (the x), and the endpoints and compute of each arm trained on its annotation."""
  size = config["model_critic"]["size"]
  stage = stages.get(size, {})
  points = {}
  for arm in config["model_critic"]["arms"]:
    name = f"{arm}_{MODEL_CRITIC}"
    if name in stage.get("endpoints", {}):
      compute = stage["compute"][name]
      points[arm] = {"arm": name, **stage["endpoints"][name], "seeds": stage["seeds"][name],
                     "annotation_flops": stage["annotation_flops"][name],
                     "annotation_share_of_training_flops": stage["annotation_flops"][name] / compute["flops"][0]}
  verdicts = record["corpus_verdicts"]
  card = record["heldout_card"]
  # The x is its agreement on the domains the endpoints sample: a reversed share is spread over every
  # domain alike, a model critic's errors are not (it may fail on math and not on text).
  steered = [verdicts["domains"][d]["critic"] for d in config["domains"] if d in verdicts["domains"]]
  agreement = sum(a["accuracy"] * a["records"] for a in steered) / sum(a["records"] for a in steered)
  return {"agreement": agreement, "agreement_whole_corpus": verdicts["all"]["accuracy"], "corpus_verdicts": verdicts,
          "critic": {k: record["summary"][k] for k in ("model", "n_params", "tokens", "wall_seconds")},
          "annotation": record["annotation"],
          "heldout": card["verdicts"]["domains"] if card else None, "points": points}


def _dose_response(stages: dict[str, Any], config: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
  """{dose arm: its endpoints at each share of flipped verdicts (0: the arm itself)}, where they ran."""
  dose = config["dose"]
  endpoints_by_arm = stages.get(dose["size"], {}).get("endpoints", {})
  curves = {}
  for dose_arm in dose["arms"]:
    points = []
    for fraction in (0.0, *dose["fractions"]):
      arm = dose_arm if fraction == 0 else f"{dose_arm}_{dose_annotation(fraction)}"
      if arm in endpoints_by_arm:
        points.append({"flip_fraction": fraction, "arm": arm, "delta": endpoints_by_arm[arm]["delta"],
                       "arm_minus_baseline": endpoints_by_arm[arm].get("arm_minus_baseline")})
    if len(points) > 1:
      curves[dose_arm] = points
  return curves


def write(study: dict[str, Any], results: epath.PathLike) -> None:
  results = epath.Path(results)
  rundir.write_json(results / STUDY_FILE, study)
  (results / TABLES_FILE).write_text(summary_text(study) + "\n")
  write_figures(study, results)


def stage_title(stage: str, s: dict[str, Any], config: dict[str, Any]) -> str:
  if stage == MID:
    mid = config["mid"]
    return (f"mid-training: {mid['size']}'s pre-trained baseline continued {mid['steps']} steps "
            f"({s['n_params_non_embedding']:,} non-embedding parameters)")
  return f"{stage}: {s['n_params_non_embedding']:,} non-embedding parameters, {config['steps']} steps"


def _interval(v: dict[str, Any], sign: str = "+") -> str:
  """'value [lo, hi]', and value / SE where there is one; sign '+' for differences, '' for rates."""
  if v["value"] is None:
    return "n/a (no well-formed samples)"
  se = v.get("se")
  ratio = "" if se is None else (f"  ({v['value'] / se:+.1f} SE)" if se > 0 else "  (no spread)")
  return f"{v['value']:{sign}.3f} [{v['lo']:{sign}.3f}, {v['hi']:{sign}.3f}]{ratio}"


def summary_text(study: dict[str, Any]) -> str:
  config, lines = study["config"], []
  lines.append(f"Study v2: flaw rate of well-formed samples on {', '.join(study['domains'])} "
               f"({config['prompts']} fresh prompts x {config['samples']} samples, 95% bootstrap intervals "
               f"over seeds and prompts, {config['bootstrap']} draws)")
  for stage, s in study["stages"].items():
    lines += ["", f"== {stage_title(stage, s, config)}"]
    lines.append("flaw rate by arm and condition (well-formed rate); seeds; clean held-out loss; "
                 "critique token share:")
    for arm, by_condition in s["flaw_rates"].items():
      for condition, v in by_condition.items():
        lines.append(f"  {arm:<28} {condition:<9} {_interval(v, sign=''):<22} ({s['well_formed'][arm][condition]:.2f})  "
                     f"seeds {s['seeds'][arm]}  loss {s['clean_heldout_loss'][arm]:.4f}  "
                     f"share {s['critique_token_share'][arm]:.3f}")
    lines.append("endpoints (difference in flaw rate):")
    for arm, values in s["endpoints"].items():
      for name, v in values.items():
        lines.append(f"  {arm:<28} {name:<20} {_interval(v):<40} {ENDPOINT_LABELS[name]}")
    if s["flawed_line_loss"]:
      lines.append("flawed-line loss (nats/token of the planted flaw's line):")
      for arm, v in s["flawed_line_loss"].items():
        twin = v.get("twin_minus_arm")
        versus = f"; twin - arm {_interval(twin)}" if twin else ""
        lines.append(f"  {arm:<28} under {v['condition']:<5} {v['loss']:.3f} ({v['records']} records){versus}")
    compute = {arm: (c["flops"], c["tokens"]) for arm, c in s["compute"].items()}
    matched = len({str(v) for v in compute.values()}) == 1
    first = next(iter(s["compute"].values()))
    lines.append(f"compute: {'every arm' if matched else 'NOT every arm'} {first['steps']} steps, "
                 f"{first['tokens']} tokens, {first['flops']} FLOPs; train {s['train_seconds']:.0f} s, "
                 f"sampling {s['steer_seconds']:.0f} s (sums over runs)")
  if study["dose_response"]:
    dose = config["dose"]
    lines += ["", f"== critic quality at {dose['size']}: annotations with a share of the verdicts reversed "
                  f"(agreement with the verifiers = 1 - share; {len(dose['seeds'])} seed(s) per share, 0: the arm's own)"]
    for dose_arm, points in study["dose_response"].items():
      for point in points:
        lines.append(f"  {dose_arm:<20} flipped {point['flip_fraction']:>4.0%}  Delta {_interval(point['delta']):<40} "
                     f"arm - baseline {_interval(point['arm_minus_baseline']) if point['arm_minus_baseline'] else 'n/a'}")
  if study.get("model_critic"):
    lines += ["", *_model_critic_lines(study["model_critic"], config)]
  if study["wall_seconds"] is not None:
    lines += ["", f"study wall time: {study['wall_seconds'] / 60:.1f} min ({config['jobs']} runs at a time)"]
  return "\n".join(lines)


def _model_critic_lines(critic: dict[str, Any], config: dict[str, Any]) -> list[str]:
  model, annotation = critic["critic"], critic["annotation"]
  lines = [f"== IXT on the model critic's annotation at {config['model_critic']['size']}: critic {model['model']} "
           f"({model['n_params']:,} parameters, {model['tokens']:,} training tokens, {model['wall_seconds']:.0f} s), "
           f"served, {annotation['records_per_s']:.2f} records/s at concurrency {annotation['concurrency']}, "
           f"{critic_card.figure(annotation['parse_failure_rate'], '.1%')} parse failures, "
           f"{annotation['annotation_flops']:.3g} annotation FLOPs",
           f"agreement with the verifiers on {', '.join(config['domains'])} (the sampled domains: the dose-response's "
           f"x) {critic['agreement']:.3f}, over the whole corpus {critic['agreement_whole_corpus']:.3f}; "
           "flawed vs the verifiers, precision / recall:"]
  for domain, d in critic["corpus_verdicts"]["domains"].items():
    heldout = (critic["heldout"] or {}).get(domain)
    held = (f"; held out (never trained on) {_ratio(heldout['critic'])}, n={heldout['critic']['records']}"
            if heldout else "")
    lines.append(f"  {domain:<6} corpus {_ratio(d['critic'])}, n={d['critic']['records']}{held}")
  for arm, point in critic["points"].items():
    lines.append(f"  {arm:<20} {point['seeds']} seeds  Delta {_interval(point['delta'])}  "
                 f"arm - baseline {_interval(point['arm_minus_baseline'])}  annotation FLOPs "
                 f"{point['annotation_flops']:.3g} = {point['annotation_share_of_training_flops']:.1%} of training's")
  return lines


def _ratio(agreement: dict[str, Any]) -> str:
  return " / ".join(critic_card.figure(agreement[k]) for k in ("precision", "recall"))


def write_figures(study: dict[str, Any], out: epath.Path) -> None:
  """flaw_rates.png: flaw rate by arm and condition with 95% intervals, one panel per stage;
  endpoints.png: every endpoint with its interval, one panel per stage; dose_response.png: the
  endpoints against the critic's agreement with the verifiers."""
  if study["dose_response"]:
    _dose_figure(study, out)
  stages = study["stages"]
  fig, axes = plt.subplots(1, len(stages), figsize=(6 * len(stages), 5), sharey=True, squeeze=False)
  for ax, (stage, s) in zip(axes[0], stages.items()):
    x, ticks, labels = 0.0, [], []
    for arm, by_condition in s["flaw_rates"].items():
      start = x
      for condition in sorted(by_condition, key=list(CONDITION_LABELS).index):
        v = by_condition[condition]
        if v["value"] is not None:
          ax.bar(x, v["value"], color=_CONDITION_COLOURS[condition], yerr=[[v["value"] - v["lo"]], [v["hi"] - v["value"]]],
                 capsize=2, label=CONDITION_LABELS[condition])
        x += 1
      ticks.append((start + x - 1) / 2)
      labels.append(arm_label(arm))
      x += 0.8
    ax.set_xticks(ticks, labels, rotation=35, ha="right", fontsize=7)
    ax.set_title(stage_title(stage, s, study["config"]), fontsize=8)
    ax.set_ylim(0, 1)
    handles = dict(zip(*reversed(ax.get_legend_handles_labels())))
    ax.legend(handles.values(), handles.keys(), fontsize=7)
  axes[0][0].set_ylabel(f"flaw rate of well-formed {'/'.join(study['domains'])} samples")
  fig.tight_layout()
  fig.savefig(out / "flaw_rates.png", dpi=130)
  plt.close(fig)

  fig, axes = plt.subplots(len(stages), 1, figsize=(9, 0.3 * sum(
      len(v) for s in stages.values() for v in s["endpoints"].values()) + 1.5 * len(stages)), squeeze=False)
  for ax, (stage, s) in zip(axes[:, 0], stages.items()):
    rows = [(arm, name, v) for arm, values in s["endpoints"].items() for name, v in values.items()
            if v["value"] is not None]
    for i, (_, _, v) in enumerate(rows):
      ax.errorbar(v["value"], i, xerr=[[v["value"] - v["lo"]], [v["hi"] - v["value"]]], fmt="o", color="k", ms=3)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(range(len(rows)), [f"{arm_label(a)}: {ENDPOINT_LABELS[n]}" for a, n, _ in rows],
                  fontsize=6)
    ax.invert_yaxis()
    ax.set_title(stage_title(stage, s, study["config"]), fontsize=8)
  axes[-1, 0].set_xlabel("difference in flaw rate (95% bootstrap interval)")
  fig.tight_layout()
  fig.savefig(out / "endpoints.png", dpi=130)
  plt.close(fig)


def _dose_figure(study: dict[str, Any], out: epath.Path) -> None:
  curves = study["dose_response"]
  fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 4), sharey=True, squeeze=False)
  for ax, (dose_arm, curve) in zip(axes[0], curves.items()):
    for key, label, colour in (("delta", ENDPOINT_LABELS["delta"], "k"),
                               ("arm_minus_baseline", ENDPOINT_LABELS["arm_minus_baseline"], "tab:blue")):
      points = [p for p in curve if p[key] and p[key]["value"] is not None]
      x = [1 - p["flip_fraction"] for p in points]
      y = [p[key]["value"] for p in points]
      err = [[p[key]["value"] - p[key]["lo"] for p in points], [p[key]["hi"] - p[key]["value"] for p in points]]
      ax.errorbar(x, y, yerr=err, fmt="o-", color=colour, capsize=3, label=label)
    point = (study.get("model_critic") or {}).get("points", {}).get(dose_arm)
    for key, colour in (("delta", "k"), ("arm_minus_baseline", "tab:blue")):
      v = point and point.get(key)
      if v and v["value"] is not None:
        ax.errorbar([study["model_critic"]["agreement"]], [v["value"]], capsize=3, color=colour, fmt="*", ms=12,
                    yerr=[[v["value"] - v["lo"]], [v["hi"] - v["value"]]],
                    label=f"model critic's annotation, {point['seeds']} seeds" if key == "delta" else None)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("critic's agreement with the verifiers (share of verdicts kept)")
    ax.set_title(f"Critic quality: {arm_label(dose_arm)} at {study['config']['dose']['size']}", fontsize=9)
    ax.legend(fontsize=7)
  axes[0][0].set_ylabel("difference in flaw rate (95% interval)")
  fig.tight_layout()
  fig.savefig(out / "dose_response.png", dpi=130)
  plt.close(fig)
