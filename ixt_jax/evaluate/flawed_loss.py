"""Flawed-line loss: how well a model predicts the tokens of a document's planted flaw under a condition.

Only the flawed line is scored (`meta.flaw_line`: the wrong step or answer line of a math solution,
the buggy line of a function, the first noisy line of a text), with the document laid out as the
held-out set lays it out (conditions.format_for_eval). Under `true` the critique names the flaw, so
an arm that reads its critique predicts these tokens better than its shuffled-trained twin; on clean
documents there is nothing of the kind to see. Records are scored one per row, in held-out order;
a record whose flawed line does not lie in its first row is left out.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ixt_jax.data import conditions, examples, formatting, records
from ixt_jax.parallel.sharding import use_mesh
from ixt_jax.train.loss import next_token_targets


def line_span(text: str, line: int) -> tuple[int, int]:
  """[start, end) character offsets of line `line` (0-based) of `text`."""
  lines = text.split("\n")
  start = sum(len(x) + 1 for x in lines[:line])
  return start, start + len(lines[line])


def token_ends(vocab, ids: Sequence[int]) -> list[int]:
  """Character offset where each token of `ids` ends in the decoded text."""
  return [len(vocab.decode(ids[:i + 1])) for i in range(len(ids))]


def flawed_line_rows(raw_records: Sequence[dict[str, Any]], vocab, settings: formatting.FeedbackSettings,
                     seq_len: int, condition: str, sources: conditions.Sources) -> tuple[dict, list[str]]:
  """One row per flawed record with weight 1 on the tokens of its flawed line, and their ids."""
  rows, ids = [], []
  for raw in raw_records:
    line = (raw.get("meta") or {}).get("flaw_line")
    feedback = raw.get("feedback") or {}
    if line is None or raw["meta"].get("flaw") is None:
      continue
    record = records.Record(raw["id"], raw["text"], raw["domain"], feedback.get("critique"), feedback.get("score"))
    element = examples.tokenize([conditions.format_for_eval(record, settings, condition, sources)], vocab, seq_len)[0]
    lead = len(element["tokens"]) - element["document_tokens"]
    body = element["tokens"][lead:].tolist()
    start, end = line_span(raw["text"], line)
    ends = token_ends(vocab, [t for t in body if t != vocab.eos_id])
    if not ends or ends[-1] < end:  # the flawed line runs past the first row
      continue
    weights = np.zeros(len(element["tokens"]), np.float32)
    for i, token_end in enumerate(ends):
      token_start = ends[i - 1] if i else 0
      if token_end > start and token_start < end:
        weights[lead + i] = 1.0
    rows.append((element["tokens"], weights))
    ids.append(raw["id"])
  batch = {k: np.zeros((len(rows), seq_len), np.int32) for k in ("tokens", "segment_ids", "positions")}
  batch["loss_weights"] = np.zeros((len(rows), seq_len), np.float32)
  for r, (tokens, weights) in enumerate(rows):
    n = len(tokens)
    batch["tokens"][r, :n], batch["loss_weights"][r, :n] = tokens, weights
    batch["segment_ids"][r, :n], batch["positions"][r, :n] = 1, np.arange(n)
  return batch, ids


def row_losses(graphdef: nnx.GraphDef, params, batch: dict, mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
  """(sum of weighted nats, sum of weights) of every row of `batch`."""
  if not len(batch["tokens"]):
    return np.zeros(0), np.zeros(0)

  @jax.jit
  def per_row(params, tokens, segment_ids, positions, loss_weights):
    logits = nnx.merge(graphdef, params)(tokens, segment_ids, positions).astype(jnp.float32)
    targets, weights = next_token_targets(tokens, loss_weights, segment_ids)
    nats = jax.nn.logsumexp(logits, -1) - jnp.take_along_axis(logits, targets[..., None], -1)[..., 0]
    return (weights * nats).sum(1), weights.sum(1)

  replicated = NamedSharding(mesh, PartitionSpec())
  inputs = [jax.device_put(batch[k], replicated) for k in ("tokens", "segment_ids", "positions", "loss_weights")]
  with use_mesh(mesh):
    nats, tokens = per_row(params, *inputs)
  return np.asarray(nats), np.asarray(tokens)
