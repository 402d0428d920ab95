"""The thinking critic's training set: each document with the verifiers' reasoning and verdict.

An SFT record's prompt is what the served critic client sends for the document (`served.fill_prompt`:
the critic's prompt template around the document's first `max_document_chars`), and its response is

  <think>{what the verifier checked}</think>
  Critique: {the verifier's critique}
  Score: {the verifier's score, 2 decimals}

which `served.parse_reply` reads back. The verifier judges exactly the text the critic will see, so
the critic never learns to name a flaw it cannot read. Documents held out for measuring the critic
(`is_heldout`, by content hash) are left out.
"""
from __future__ import annotations

import json
from typing import Any

from etils import epath

from ixt_jax.data import heldout, records, shards
from ixt_jax.feedback.critic import Critic, Failure, Feedback
from ixt_jax.feedback.served import fill_prompt

# Short: every prompt token is read again for every document the critic annotates.
PROMPT_TEMPLATE = "Review this {domain} document.\n\n{text}"


def response(feedback: Feedback) -> str:
  """What the critic learns to write for a document the verifier judged `feedback`."""
  return (f"<think>{feedback.reasoning}</think>\nCritique: {feedback.critique}\n"
          f"Score: {feedback.score:.2f}")


def is_heldout(record: dict[str, Any], fraction: float) -> bool:
  """Whether the critic is measured on this document rather than trained on it (by content hash)."""
  content = records.Record(id=record["id"], text=record["text"], domain=record.get("domain", "text"))
  return heldout.content_hash(content) < fraction * 2.0**64


def visible(record: dict[str, Any], max_document_chars: int) -> dict[str, Any]:
  """The record as the critic sees it: its text cut to the first max_document_chars (0: whole)."""
  if max_document_chars <= 0 or len(record["text"]) <= max_document_chars:
    return record
  return {**record, "text": record["text"][:max_document_chars]}


def build_sft_set(raw_dir: epath.PathLike, out_dir: epath.PathLike, verifier: Critic, *, prompt_template: str,
                  max_document_chars: int, heldout_fraction: float, batch_size: int = 256) -> dict[str, Any]:
  """Writes the SFT records of raw_dir's training split to out_dir (shards + manifest); returns the
  manifest. Cached: a directory with a manifest is left as it is. Records the verifier cannot judge
  are counted (`failures`) and left out."""
  out_dir = epath.Path(out_dir)
  if (out_dir / shards.MANIFEST).exists():
    return shards.read_manifest(out_dir)
  entries, heldout_count, failures, domains = [], 0, 0, {}
  for path in shards.list_shards(raw_dir):
    shard_records = [json.loads(raw) for raw in shards.read_shard(path)]
    kept = [visible(r, max_document_chars) for r in shard_records if not is_heldout(r, heldout_fraction)]
    heldout_count += len(shard_records) - len(kept)
    written = []
    for start in range(0, len(kept), batch_size):
      batch = kept[start:start + batch_size]
      for record, result in zip(batch, verifier(batch)):
        if isinstance(result, Failure):
          failures += 1
          continue
        domain = record.get("domain", "text")
        domains[domain] = domains.get(domain, 0) + 1
        written.append({"id": record["id"], "domain": domain, "prompt": fill_prompt(prompt_template, record),
                        "text": response(result), "meta": {"score": result.score,
                                                           "flaw": (record.get("meta") or {}).get("flaw")}})
    if written:
      name = path.name.rsplit(".", 1)[0] + shards.FORMATS["jsonl"]
      entries.append({"path": name, "records": shards.write_shard(out_dir / name, written)})
  manifest = {"format": "jsonl", "stage": "critic_sft", "source": str(raw_dir),
              "records": sum(e["records"] for e in entries), "shards": entries, "domains": domains,
              "heldout_for_critic_eval": heldout_count, "verifier_failures": failures,
              "heldout_fraction": heldout_fraction, "max_document_chars": max_document_chars}
  shards.write_manifest(out_dir, manifest)
  return manifest
