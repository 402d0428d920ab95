"""Annotation driver: raw shards in, annotated shards out (same names), resumable and shardable.

For each input shard this worker owns (shard i goes to worker i % num_workers) whose output does
not exist yet, every record gets `feedback` = {critique, score, critic} from the critic, in
batches; the output shard is written atomically, after its `stats/` and `failures/` files. So a
kill at any moment loses at most the shard in progress, and a re-run redoes exactly that: every
input record ends up once in the output, or (if the critic failed on it) in `failures/<shard>.failures`
with the reason and raw reply (JSON lines, named so that a `**/*.jsonl` glob finds records only). `retry_failed` re-judges only those. Records that already carry
feedback (e.g. human annotations) are kept as they are, unless told otherwise.

Whichever worker finds every output shard present writes the merged `summary.json` and the
`manifest.json`, last; a directory with a manifest is complete.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import tqdm
from etils import epath

from ixt_jax.data import shards
from ixt_jax.data.corpora.writer import replace_manifest, replace_shard
from ixt_jax.errors import ConfigError, DataNotFoundError
from ixt_jax.feedback import annotate_stats
from ixt_jax.feedback.cache import FeedbackCache
from ixt_jax.feedback.critic import Critic, Failure, Feedback


def _stem(name: str) -> str:
  return name.rsplit(".", 1)[0]


def _decode(raw: bytes) -> dict[str, Any] | Failure:
  try:
    record = json.loads(raw.decode("utf-8-sig"))  # -sig: a file written by Windows tools opens with a BOM
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not isinstance(record.get("text"), str):
      raise ValueError("not an object with string id and text")
    return record
  except ValueError as e:
    return Failure(f"undecodable input record: {e}", "annotate", raw[:500].decode("utf-8", "replace"))


def _is_feedback(value: Any) -> bool:
  return (isinstance(value, dict) and isinstance(value.get("critique"), str) and isinstance(value.get("critic"), str)
          and isinstance(value.get("score"), (int, float)) and 0 <= value["score"] <= 1)


class _ShardJudge:
  """Judges the records of one shard at given positions, with the cache and the progress bar."""

  def __init__(self, critic: Critic, cache: FeedbackCache | None, batch_size: int, keep_existing: bool,
               progress: Callable[[int], Any]):
    self.critic, self.cache, self.batch_size = critic, cache, batch_size
    self.keep_existing, self.progress = keep_existing, progress
    self.tokens = self.generated_tokens = self.tokens_unknown = self.kept = self.cached = 0
    self.judged_by_domain: dict[str, int] = {}

  def __call__(self, records: list[dict[str, Any] | Failure],
               positions: list[int]) -> dict[int, Feedback | Failure | dict]:
    """Position -> Feedback, Failure, or the record's own feedback dict (kept)."""
    results: dict[int, Any] = {}
    pending: dict[str, list[int]] = {}  # cache key (or position) -> positions with that content
    for i in positions:
      record = records[i]
      if isinstance(record, Failure):
        results[i] = record
      elif self.keep_existing and _is_feedback(record.get("feedback")):
        results[i] = record["feedback"]
        self.kept += 1
      else:
        key = self.cache.key(record) if self.cache else str(i)
        hit = self.cache.get(key) if self.cache else None
        if hit is not None:
          results[i] = Feedback(hit.critique, hit.score, hit.critic, 0)
          self.cached += 1
        else:
          pending.setdefault(key, []).append(i)
    self.cached += sum(len(same) - 1 for same in pending.values())  # duplicates within the shard
    self.progress(len(positions) - sum(len(v) for v in pending.values()))
    keys = list(pending)
    for start in range(0, len(keys), self.batch_size):
      batch = keys[start:start + self.batch_size]
      judged = self.critic([records[pending[k][0]] for k in batch])
      for key, result in zip(batch, judged):
        if result.tokens is None:
          self.tokens_unknown += 1
        else:
          self.tokens += result.tokens
          self.generated_tokens += result.generated_tokens or 0
        domain = records[pending[key][0]].get("domain", "")
        self.judged_by_domain[domain] = self.judged_by_domain.get(domain, 0) + 1
        if self.cache and isinstance(result, Feedback):
          self.cache.put(key, result)
        for i in pending[key]:
          results[i] = result
      if self.cache:
        self.cache.flush()
      self.progress(sum(len(pending[k]) for k in batch))
    return results


def _failure_row(index: int, record: dict[str, Any] | Failure, failure: Failure) -> dict[str, Any]:
  return {"index": index, "id": None if isinstance(record, Failure) else record["id"],
          "reason": failure.reason, "critic": failure.critic, "raw": failure.raw}


def _annotate_shard(in_path: epath.Path, out_path: epath.Path, work: epath.Path, judge: _ShardJudge,
                    retry: bool) -> None:
  """Writes out_path (and its stats and failures); with retry, re-judges only what it lacks."""
  records = [_decode(raw) for raw in shards.read_shard(in_path)]
  stats_path = work / "stats" / f"{out_path.name}.json"
  failures_path = work / "failures" / f"{_stem(out_path.name)}.failures"
  done: dict[int, dict[str, Any]] = {}
  previous = {"seconds": 0.0, "tokens": 0, "generated_tokens": 0, "tokens_unknown": 0, "kept": 0, "cached": 0}
  if retry:  # keep what is there; outputs are the inputs' order minus the failures
    outputs = [json.loads(raw) for raw in shards.read_shard(out_path)]
    j = 0
    for i, record in enumerate(records):
      if j < len(outputs) and not isinstance(record, Failure) and outputs[j]["id"] == record["id"]:
        done[i], j = outputs[j], j + 1
    if stats_path.exists():
      previous.update(json.loads(stats_path.read_text()))
  start = time.perf_counter()
  results = judge(records, [i for i in range(len(records)) if i not in done])
  annotated, failures = [], []
  for i, record in enumerate(records):
    if i in done:
      annotated.append(done[i])
    elif isinstance(results[i], Failure):
      failures.append(_failure_row(i, record, results[i]))
    else:
      feedback = results[i] if isinstance(results[i], dict) else results[i].as_record_field()
      annotated.append({**record, "feedback": feedback})
  stats = annotate_stats.shard_stats(
      annotated, failures, seconds=previous["seconds"] + time.perf_counter() - start,
      judged_by_domain=judge.judged_by_domain, tokens=previous["tokens"] + judge.tokens,
      generated_tokens=previous["generated_tokens"] + judge.generated_tokens,
      tokens_unknown=previous["tokens_unknown"] + judge.tokens_unknown, kept=previous["kept"] + judge.kept,
      cached=previous["cached"] + judge.cached)
  shards.write_json(stats_path, stats)
  if failures:
    replace_shard(failures_path, failures)
  elif failures_path.exists():
    failures_path.unlink()
  replace_shard(out_path, annotated)


def _finish(input_dir: epath.Path, output_dir: epath.Path, names: list[str], fmt: str,
            critic: Critic) -> dict[str, Any] | None:
  """The merged summary, with summary.json and manifest.json written, once every shard exists."""
  if not all((output_dir / n).exists() for n in names):
    return None
  stats = [json.loads((output_dir / "stats" / f"{n}.json").read_text()) for n in names]
  summary = annotate_stats.merge(stats, critic.describe())
  shards.write_json(output_dir / "summary.json", summary)
  source = shards.read_manifest(input_dir) if (input_dir / shards.MANIFEST).exists() else {}
  manifest = {k: v for k, v in source.items() if k not in ("format", "records", "shards", "stage")}
  manifest.update(
      format=fmt, stage="annotate", source=str(input_dir), critic=summary["critic"],
      shards=[{"path": n, "records": s["annotated"]} for n, s in zip(names, stats)],
      records=summary["annotated"], failures=summary["failures"]["count"],
      annotation_tokens=summary["tokens"], annotation_flops=summary["annotation_flops"])
  if not (output_dir / shards.MANIFEST).exists() or shards.read_manifest(output_dir) != manifest:
    replace_manifest(output_dir, manifest)
  return summary


def input_domains(input_dir: epath.PathLike) -> set[str]:
  """The domains of a raw corpus: from its manifest where that counts them, else from every record."""
  input_dir = epath.Path(input_dir)
  if (input_dir / shards.MANIFEST).exists():
    counted = shards.read_manifest(input_dir).get("domains")
    if isinstance(counted, dict):
      return set(counted)
  found = set()
  for path in shards.list_shards(input_dir):
    for raw in shards.read_shard(path):
      record = _decode(raw)
      if isinstance(record, dict):
        found.add(record.get("domain"))
  return found


def refuse_unknown_domains(input_dir: epath.PathLike, critic: Critic) -> None:
  """For a critic told to fail on domains it has no verifier for: fail now, before any work, naming them."""
  if getattr(critic, "unknown_domain", None) != "fail":
    return
  unknown = sorted(map(str, input_domains(input_dir) - set(critic.known_domains)))
  if unknown:
    raise ConfigError(f"{input_dir}: no built-in critic for domain(s) {unknown}; the known domains are "
                      f"{critic.known_domains} (or set --config.unknown_domain=text to judge them as text)")


def annotate_directory(input_dir: epath.PathLike, output_dir: epath.PathLike, critic: Critic, *,
                       fmt: str | None = None, worker_index: int = 0, num_workers: int = 1,
                       retry_failed: bool = False, batch_size: int = 256, keep_existing_feedback: bool = True,
                       use_cache: bool = True, show_progress: bool = True) -> dict[str, Any] | None:
  """Annotates this worker's shards of input_dir into output_dir.

  Returns the merged summary if this call completed the directory (every output shard present),
  else None. fmt defaults to the input's format.
  """
  if not 0 <= worker_index < num_workers:
    raise ValueError(f"worker_index={worker_index} must be in [0, num_workers={num_workers})")
  input_dir, output_dir = epath.Path(input_dir), epath.Path(output_dir)
  inputs = shards.list_shards(input_dir)
  if not inputs:
    raise DataNotFoundError(f"{input_dir}: no record shards")
  fmt = fmt or shards.format_of(inputs[0])
  names = [_stem(p.name) + shards.FORMATS[fmt] for p in inputs]
  counts = {s["path"]: s["records"] for s in shards.read_manifest(input_dir)["shards"]} if (
      input_dir / shards.MANIFEST).exists() else {}
  mine = []
  for index, (path, name) in enumerate(zip(inputs, names)):
    out = output_dir / name
    failed = (output_dir / "failures" / f"{_stem(name)}.failures").exists()
    if index % num_workers == worker_index and (not out.exists() or retry_failed and failed):
      mine.append((path, out, out.exists()))
  worker = f"worker-{worker_index:05d}-of-{num_workers:05d}"
  cache = FeedbackCache(output_dir / "cache", worker, critic.describe()) if use_cache else None
  total = None if any(retry for _, _, retry in mine) else sum(counts.get(p.name, 0) for p, _, _ in mine) or None
  with tqdm.tqdm(total=total, unit="rec", desc=f"annotate {worker}", disable=not show_progress or not mine,
                 smoothing=0.1) as bar:
    for path, out, retry in mine:
      judge = _ShardJudge(critic, cache, batch_size, keep_existing_feedback, bar.update)
      _annotate_shard(path, out, output_dir, judge, retry)
  if cache:
    cache.close()
  return _finish(input_dir, output_dir, names, fmt, critic)
