"""A critic's card: how its verdicts agree with the verifiers', and what it costs to run.

"Flawed" means a score below 1 (the verifiers give 1 only to a document that passes every check).
Precision and recall of "flawed" are taken against the verifiers on the same held-out records, per
domain and per planted flaw kind (`meta.flaw`; "clean" for none), beside a majority-class critic
that calls every document of a domain what most of that domain's training documents are. A record
the critic failed on (an unparsable reply, say) counts in the failure rate, not in agreement.
"""
from __future__ import annotations

import collections
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ixt_jax.data import shards

CARD_JSON, CARD_TEXT = "critic_card.json", "critic_card.txt"  # beside the critic's checkpoint
CALIBRATION_BINS = (0.0, 0.25, 0.5, 0.75, 1.0)  # [lo, hi) bins of the critic's score; 1.0 alone last


def flawed(score: float) -> bool:
  return score < 1.0


def agreement(pairs: Sequence[tuple[bool, bool]]) -> dict[str, Any]:
  """Precision, recall and accuracy of predicted "flawed" against the reference, from (reference, predicted)."""
  tp = sum(r and p for r, p in pairs)
  fp = sum(p and not r for r, p in pairs)
  fn = sum(r and not p for r, p in pairs)
  n = len(pairs)
  return {"records": n, "flawed": tp + fn, "called_flawed": tp + fp,
          "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None,
          "accuracy": (n - fp - fn) / n if n else None}


def majority_flawed(train_scores: Mapping[str, Sequence[float]]) -> dict[str, bool]:
  """Per domain, whether most of its training documents are flawed (the majority-class critic's verdict)."""
  return {domain: 2 * sum(map(flawed, scores)) > len(scores) for domain, scores in train_scores.items()}


def calibration(pairs: Sequence[tuple[float, float]]) -> dict[str, Any]:
  """How the critic's scores line up with the verifiers', from (verifier score, critic score)."""
  edges = list(CALIBRATION_BINS)
  bins = []
  for lo, hi in zip(edges, edges[1:] + [None]):
    inside = [(v, c) for v, c in pairs if (c == 1.0 if hi is None else lo <= c < hi)]
    bins.append({"critic_score": [lo, hi if hi is not None else 1.0], "records": len(inside),
                 "mean_critic_score": _mean([c for _, c in inside]),
                 "mean_verifier_score": _mean([v for v, _ in inside]),
                 "verifier_flawed_share": _mean([float(flawed(v)) for v, _ in inside])})
  return {"bins": bins, "mean_abs_error": _mean([abs(v - c) for v, c in pairs]),
          "correlation": _correlation(pairs)}


def _mean(values: Sequence[float]) -> float | None:
  return sum(values) / len(values) if values else None


def _correlation(pairs: Sequence[tuple[float, float]]) -> float | None:
  if len(pairs) < 2:
    return None
  mv, mc = _mean([v for v, _ in pairs]), _mean([c for _, c in pairs])
  cov = sum((v - mv) * (c - mc) for v, c in pairs)
  spread = math.sqrt(sum((v - mv) ** 2 for v, _ in pairs) * sum((c - mc) ** 2 for _, c in pairs))
  return cov / spread if spread > 1e-12 else None  # a constant has no correlation


def verdicts(records: Sequence[dict[str, Any]], verifier: Mapping[str, float], critic: Mapping[str, float],
             majority: Mapping[str, bool]) -> dict[str, Any]:
  """Agreement per domain and per (domain, flaw kind), the majority-class critic's beside, and calibration.

  `verifier` and `critic` map record ids to scores; ids missing from `critic` are its failures.
  """
  by_domain, by_kind = collections.defaultdict(list), collections.defaultdict(list)
  baseline, scores = collections.defaultdict(list), []
  for record in records:
    if record["id"] not in critic or record["id"] not in verifier:
      continue
    domain = record.get("domain", "text")
    kind = (record.get("meta") or {}).get("flaw") or "clean"
    reference, score = verifier[record["id"]], critic[record["id"]]
    pair = (flawed(reference), flawed(score))
    by_domain[domain].append(pair)
    by_kind[f"{domain}/{kind}"].append(pair)
    baseline[domain].append((flawed(reference), majority.get(domain, False)))
    scores.append((reference, score))
  return {
      "domains": {d: {"critic": agreement(p), "majority_class": agreement(baseline[d])}
                  for d, p in sorted(by_domain.items())},
      "flaw_kinds": {k: agreement(p) for k, p in sorted(by_kind.items())},
      "all": agreement([p for pairs in by_domain.values() for p in pairs]),
      "calibration": calibration(scores),
  }


def annotated_scores(annotated_dir) -> dict[str, float]:
  """{record id: the score its critique gave} of an annotated corpus (records it has no critique for left out)."""
  scores = {}
  for path in shards.list_shards(annotated_dir):
    for raw in shards.read_shard(path):
      record = json.loads(raw)
      if record.get("feedback"):
        scores[record["id"]] = record["feedback"]["score"]
  return scores


def corpus_verdicts(corpus_dir, verifier_dir, critic_dir) -> dict[str, Any]:
  """`verdicts` of a whole corpus annotated twice, by the verifiers and by a critic (the majority class
  from the verifiers' own verdicts): how far the annotation a model was trained on departs from the
  verifiers', the x of the critic-quality dose-response."""
  records = [json.loads(raw) for path in shards.list_shards(corpus_dir) for raw in shards.read_shard(path)]
  verifier = annotated_scores(verifier_dir)
  by_domain: dict[str, list[float]] = collections.defaultdict(list)
  for record in records:
    if record["id"] in verifier:
      by_domain[record.get("domain", "text")].append(verifier[record["id"]])
  return verdicts(records, verifier, annotated_scores(critic_dir), majority_flawed(by_domain))


def cost(summary: Mapping[str, Any], concurrency: int) -> dict[str, Any]:
  """Failures, tokens and throughput of the annotation run that produced the critic's verdicts."""
  judged = summary["judged"] or 0
  parse_failures = sum(n for reason, n in summary["failures"]["by_reason"].items() if reason.startswith("unparsable"))
  return {
      "records": summary["records"], "judged": judged,
      "failure_rate": summary["failures"]["count"] / summary["records"] if summary["records"] else None,
      "parse_failure_rate": parse_failures / judged if judged else None,
      "failures_by_reason": summary["failures"]["by_reason"],
      "generated_tokens_per_record": summary["generated_tokens"] / judged if judged else None,
      "prompt_tokens_per_record": (summary["tokens"] - summary["generated_tokens"]) / judged if judged else None,
      "records_per_s": summary["records_per_s"], "concurrency": concurrency,
      "annotation_flops": summary["annotation_flops"],
      "annotation_flops_per_record": summary["annotation_flops"] / judged if judged else None,
  }


def figure(value: float | None, spec: str = ".2f") -> str:
  """A card figure in `spec`, or n/a where it has none (a precision with nothing called flawed, say)."""
  return "n/a" if value is None else format(value, spec)


def describe(card: Mapping[str, Any]) -> str:
  """The card as a few lines of text."""
  critic, run = card["critic"], card["cost"]
  lines = [f"critic {critic['name']}: {critic['n_params']:,} parameters, trained on {critic['training_tokens']:,} "
           f"tokens in {critic['training_seconds']:.0f} s",
           f"held-out records {run['records']}: failures {figure(run['failure_rate'], '.1%')} (parse failures "
           f"{figure(run['parse_failure_rate'], '.1%')}), {figure(run['generated_tokens_per_record'], '.0f')} tokens "
           f"per critique, {figure(run['records_per_s'], '.2f')} records/s at concurrency {run['concurrency']}",
           "flawed vs the verifiers   precision  recall  accuracy | majority class: precision  recall  accuracy"]
  for domain, d in card["verdicts"]["domains"].items():
    c, m = d["critic"], d["majority_class"]
    lines.append(f"  {domain:<8} n={c['records']:<5} {figure(c['precision']):>9} {figure(c['recall']):>7} "
                 f"{figure(c['accuracy']):>9} | {figure(m['precision']):>26} {figure(m['recall']):>7} "
                 f"{figure(m['accuracy']):>9}")
  lines.append("by planted flaw kind       n  verifier-flawed  critic recall  critic precision")
  for kind, k in card["verdicts"]["flaw_kinds"].items():
    lines.append(f"  {kind:<22} {k['records']:>5} {k['flawed']:>16} {figure(k['recall']):>14} "
                 f"{figure(k['precision']):>17}")
  cal = card["verdicts"]["calibration"]
  lines.append(f"score calibration: mean |critic - verifier| {figure(cal['mean_abs_error'], '.3f')}, "
               f"correlation {figure(cal['correlation'], '.3f')}")
  for b in cal["bins"]:
    lines.append(f"  critic score {b['critic_score'][0]:.2f}-{b['critic_score'][1]:.2f}: {b['records']:>5} records, "
                 f"verifier-flawed share {figure(b['verifier_flawed_share'])}, "
                 f"mean verifier score {figure(b['mean_verifier_score'])}")
  return "\n".join(lines)
