"""Figures and a plain-text summary of experiments.pilot's pilot.json."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
from etils import epath

_CONDITION_COLOURS = {"none": "0.6", "positive": "tab:blue", "negative": "tab:red"}


def write_figures(pilot: dict, out: epath.PathLike) -> None:
  """flaw_rates.png (flaw rate by arm, condition and domain) and endpoints.png (with 95% intervals),
  of the last budget tried."""
  out = epath.Path(out)
  result = pilot["budgets"][-1]["result"]
  rates = result["rates"]
  domains = list(next(iter(rates.values()))["none" if "none" in next(iter(rates.values())) else "positive"])
  fig, axes = plt.subplots(1, len(domains), figsize=(4.5 * len(domains), 4), sharey=True, squeeze=False)
  for ax, domain in zip(axes[0], domains):
    x = 0
    ticks, labels = [], []
    for arm, by_condition in rates.items():
      start = x
      for condition, by_domain in by_condition.items():
        value = by_domain[domain]
        ax.bar(x, 0 if value is None else value, color=_CONDITION_COLOURS.get(condition, "k"),
               label=condition if domain == domains[0] and condition not in ax.get_legend_handles_labels()[1] else None)
        x += 1
      ticks.append((start + x - 1) / 2)
      labels.append(arm.replace("_", "\n"))
      x += 0.8
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_title(f"{domain}")
    ax.set_ylim(0, 1)
  axes[0][0].set_ylabel("flaw rate of well-formed samples")
  axes[0][0].legend(title="condition", fontsize=8)
  fig.suptitle(f"Pilot at {pilot['budgets'][-1]['steps']} steps: flaw rate by arm and condition")
  fig.tight_layout()
  fig.savefig(out / "flaw_rates.png", dpi=120)
  plt.close(fig)

  rows = [(arm, name, v) for arm, values in result["endpoints"].items() for name, v in values.items()
          if v["value"] is not None]
  if not rows:
    return
  fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1))
  for i, (arm, name, v) in enumerate(rows):
    ax.errorbar(v["value"], i, xerr=[[v["value"] - v["lo"]], [v["hi"] - v["value"]]], fmt="o", color="k")
  ax.axvline(0, color="0.5", lw=0.8)
  ax.set_yticks(range(len(rows)), [f"{arm}: {name}" for arm, name, _ in rows], fontsize=7)
  ax.set_xlabel("difference in flaw rate (95% bootstrap interval)")
  ax.set_title(f"Endpoints over {', '.join(result['domains_used'])}")
  fig.tight_layout()
  fig.savefig(out / "endpoints.png", dpi=120)
  plt.close(fig)


def _endpoint_lines(values_by_arm: dict, indent: str = "  ") -> list[str]:
  lines = []
  for arm, values in values_by_arm.items():
    for name, v in values.items():
      if v["value"] is not None:
        ratio = f"{v['value'] / v['se']:+.1f} SE" if v["se"] else "no spread: every sample alike"
        lines.append(f"{indent}{arm:<28} {name:<20} {v['value']:+.3f} [{v['lo']:+.3f}, {v['hi']:+.3f}] "
                     f"SE {v['se']:.3f} ({ratio})")
  return lines


def summary_text(pilot: dict) -> str:
  """Every budget tried: criteria, flaw and well-formed rates, endpoints, flawed-line loss, rates."""
  lines = []
  for t in pilot["budgets"]:
    r = t["result"]
    lines.append(f"== {t['steps']} steps: domains with the baseline's flaw rate in "
                 f"{pilot['config']['baseline_flaw']}: {t['domains_used']}; give-away Delta/SE over them "
                 f"{t['giveaway_delta_over_se']}; passed {t['passed']}")
    lines.append("flaw rate among well-formed samples (well-formed rate) by arm, condition, domain:")
    for arm, by_condition in r["rates"].items():
      for condition, by_domain in by_condition.items():
        cells = [f"{d} {'n/a' if v is None else f'{v:.3f}'} ({r['well_formed'][arm][condition][d]:.2f})"
                 for d, v in by_domain.items()]
        lines.append(f"  {arm:<28} {condition:<9} " + "  ".join(cells))
    lines.append(f"endpoints over the domains used {r['domains_used']}:")
    lines += _endpoint_lines(r["endpoints"])
    for domain, values in r["endpoints_per_domain"].items():
      lines.append(f"endpoints, {domain} alone:")
      lines += _endpoint_lines(values)
    if r.get("flawed_line_loss"):
      lines.append("flawed-line loss (nats/token of the planted flaw's line; twin - arm > 0: the critique is read):")
      for arm, v in r["flawed_line_loss"].items():
        twin = v.get("twin_minus_arm")
        versus = f"; twin - arm {twin['value']:+.3f} [{twin['lo']:+.3f}, {twin['hi']:+.3f}]" if twin else ""
        lines.append(f"  {arm:<28} under {v['condition']:<5} {v['loss']:.3f} ({v['records']} records){versus}")
    lines.append("rates the study is sized from (this machine, shared):")
    for arm, seconds in r["train_seconds"].items():
      lines.append(f"  {arm:<28} train {seconds:7.0f} s ({1 / seconds:.2e} runs/s); sampling "
                   f"{r['samples_per_s'][arm]:.1f} samples/s")
  lines.append(f"chosen budget: {pilot['chosen']} steps")
  return "\n".join(lines)
