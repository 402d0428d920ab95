"""Statistics of an annotation run: per shard as it is written, merged into the summary at the end.

Shard stats live beside the output (`stats/<shard>.json`), so the summary covers every shard however
many runs, resumes and workers it took: score histogram, critique lengths, failures by reason,
records per second (per domain), and annotation compute (2 x critic params x tokens read and
written; 0 for the built-in verifiers, which are not models).
"""
from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

BINS = 10


def shard_stats(annotated: list[dict[str, Any]], failures: list[dict[str, Any]], *, seconds: float,
                judged_by_domain: dict[str, int], tokens: int, generated_tokens: int, tokens_unknown: int,
                kept: int, cached: int) -> dict[str, Any]:
  """Stats of one output shard. `judged_by_domain` counts records the critic was called on."""
  scores = [r["feedback"]["score"] for r in annotated]
  lengths = [len(r["feedback"]["critique"]) for r in annotated]
  histogram = [0] * BINS
  for score in scores:
    histogram[min(int(score * BINS), BINS - 1)] += 1
  domains: dict[str, dict[str, Any]] = collections.defaultdict(lambda: {"records": 0, "flawless": 0, "score_sum": 0.0})
  for record in annotated:
    d = domains[record.get("domain", "")]
    d["records"] += 1
    d["flawless"] += record["feedback"]["score"] == 1.0
    d["score_sum"] += record["feedback"]["score"]
  judged = sum(judged_by_domain.values())
  for domain, count in judged_by_domain.items():  # time split by records judged
    domains[domain]["judged"] = count
    domains[domain]["seconds"] = seconds * count / judged
  return {
      "records": len(annotated) + len(failures), "annotated": len(annotated), "failed": len(failures),
      "kept": kept, "cached": cached, "judged": judged, "seconds": seconds, "tokens": tokens,
      "generated_tokens": generated_tokens,
      "tokens_unknown": tokens_unknown, "score_histogram": histogram,
      "critique_chars": {"count": len(lengths), "sum": sum(lengths), "min": min(lengths, default=0),
                         "max": max(lengths, default=0)},
      "failure_reasons": dict(collections.Counter(f["reason"] for f in failures)),
      "domains": dict(domains),
  }


def merge(stats: Iterable[dict[str, Any]], critic: dict[str, Any]) -> dict[str, Any]:
  """The run summary from every shard's stats."""
  total = collections.Counter()
  histogram = [0] * BINS
  reasons = collections.Counter()
  domains = collections.defaultdict(collections.Counter)
  chars = {"count": 0, "sum": 0, "min": None, "max": 0}
  for s in stats:
    total.update({k: s[k] for k in ("records", "annotated", "failed", "kept", "cached", "judged", "seconds",
                                    "tokens", "tokens_unknown")})
    total["generated_tokens"] += s.get("generated_tokens", 0)  # stats written before it was counted
    histogram = [a + b for a, b in zip(histogram, s["score_histogram"])]
    reasons.update(s["failure_reasons"])
    for domain, d in s["domains"].items():
      domains[domain].update(d)
    c = s["critique_chars"]
    if c["count"]:
      chars["min"] = c["min"] if chars["min"] is None else min(chars["min"], c["min"])
      chars["max"] = max(chars["max"], c["max"])
      chars["count"] += c["count"]
      chars["sum"] += c["sum"]
  n_params = critic.get("n_params", 0)
  return {
      "critic": critic,
      "records": total["records"], "annotated": total["annotated"], "kept_existing_feedback": total["kept"],
      "cache_hits": total["cached"], "judged": total["judged"],
      "failures": {"count": total["failed"], "by_reason": dict(reasons), "files": "failures/*.failures"},
      "seconds": total["seconds"],
      "records_per_s": total["judged"] / total["seconds"] if total["seconds"] else None,
      "domains": {domain: {
          "records": d["records"], "flawless": d["flawless"],
          "mean_score": d["score_sum"] / d["records"] if d["records"] else None,
          "records_per_s": d["judged"] / d["seconds"] if d["seconds"] else None,
      } for domain, d in sorted(domains.items())},
      "score_histogram": {"bins": [round(i / BINS, 2) for i in range(BINS + 1)], "counts": histogram},
      "critique_chars": {"min": chars["min"] or 0, "max": chars["max"],
                         "mean": chars["sum"] / chars["count"] if chars["count"] else 0},
      "tokens": total["tokens"],
      "generated_tokens": total["generated_tokens"],  # of `tokens`, those the critic wrote (its critiques)
      "tokens_unknown_records": total["tokens_unknown"],  # the server sent no usage for these
      "annotation_flops": 2.0 * n_params * total["tokens"],
  }


def _number(value: float | None, spec: str) -> str:
  return "n/a" if value is None else format(value, spec)  # None: nothing of that kind was annotated


def describe(summary: dict[str, Any]) -> str:
  """A few lines for the console."""
  rate = summary["records_per_s"]
  lines = [f"annotated {summary['annotated']}/{summary['records']} records with {summary['critic']['name']}"
           f" ({summary['failures']['count']} failures, {summary['cache_hits']} cache hits, "
           f"{summary['kept_existing_feedback']} kept); " + (f"{rate:.3g} records/s" if rate else "nothing judged")]
  for domain, d in summary["domains"].items():
    r = d["records_per_s"]
    lines.append(f"  {domain}: {d['records']} records, {d['flawless']} flawless, mean score "
                 f"{_number(d['mean_score'], '.3f')}" + (f", {r:.3g} records/s" if r else ""))
  chars = summary["critique_chars"]
  lines.append(f"  score histogram {summary['score_histogram']['counts']}; critique chars "
               f"{chars['min']}..{chars['max']} (mean {_number(chars['mean'], '.0f')})")
  if summary["failures"]["count"]:
    lines.append(f"  failures: {summary['failures']['by_reason']}")
  lines.append(f"  annotation compute: {summary['annotation_flops']:.3g} FLOPs "
               f"(2 x {summary['critic'].get('n_params', 0)} params x {summary['tokens']} tokens)")
  return "\n".join(lines)
