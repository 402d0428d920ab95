"""Held-out document loss per domain under the three conditions (no, true, positive critique).

Part of the training stage: every K steps and at the end. Batches come from
`ixt_jax.data.pipeline.make_eval_batches`, whose loss weights are 1 on document tokens only, so
every condition scores the same tokens.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import jax
import ml_collections
import numpy as np
from flax import nnx
from jax.sharding import NamedSharding

from ixt_jax.data import conditions
from ixt_jax.data import corpus as corpus_lib
from ixt_jax.data import pipeline
from ixt_jax.parallel import distributed
from ixt_jax.train.loss import next_token_targets, weighted_cross_entropy
from ixt_jax.train.step import MODEL_INPUTS

# (name, critique condition, split) of each held-out set; "own" is the method's inference condition.
EVAL_SETS = (
    ("clean", "own", "clean"),
    ("all", "own", "all"),
    ("unconditioned", "none", "clean"),
    ("true_critique", "true", "clean"),
)


def eval_condition(c: ml_collections.ConfigDict) -> str:
  """The arm's own condition (conditions.own_condition): positive, or none for an unconditioned arm."""
  return conditions.own_condition(c)


def make_eval_sets(c: ml_collections.ConfigDict, vocab, positive_critique: Callable[[str], str],
                   corpus: corpus_lib.Corpus) -> dict[str, dict[str, list[dict]]]:
  """The batches of every set in EVAL_SETS, per domain (global batches, identical on every process).

  A set under a condition the arm never trained with (no critique for an IXT arm without dropout, a
  critique for a baseline) is left out: its loss would measure the missing format, not the arm.
  """
  sets = {}
  trained = conditions.trained_conditions(c)
  for name, condition, split in EVAL_SETS:
    condition = eval_condition(c) if condition == "own" else condition
    if condition not in trained:
      continue
    sets[name] = pipeline.make_eval_batches(
        c.data, vocab, batch_size=c.train.eval_batch_size, condition=condition,
        positive_critique=positive_critique, split=split, corpus=corpus)
  return sets


def share_to_device(batch: dict, sharding: NamedSharding) -> dict:
  """Each process puts its share of a global batch's rows; the model inputs only."""
  rows = len(batch["tokens"]) // jax.process_count()
  lo = jax.process_index() * rows
  return {k: jax.make_array_from_process_local_data(sharding, batch[k][lo:lo + rows]) for k in MODEL_INPUTS}


def make_eval_step(graphdef: nnx.GraphDef):
  """eval_step(params, batch) -> (sum of weighted nats, sum of weights), on device."""

  @jax.jit
  def eval_step(params, batch):
    logits = nnx.merge(graphdef, params)(batch["tokens"], batch["segment_ids"], batch["positions"])
    targets, weights = next_token_targets(batch["tokens"], batch["loss_weights"], batch["segment_ids"])
    aux = weighted_cross_entropy(logits, targets, weights)[1]
    return aux["ce_sum"], aux["weight_sum"]

  return eval_step


def _sums(eval_step, params, batches: list[dict], to_device) -> np.ndarray:
  """[nats, document tokens, document bytes] over `batches` (all steps dispatched, then read)."""
  on_device = []
  for batch in batches:
    on_device.append(eval_step(params, to_device(batch)))
    if distributed.overlapping_collectives_unsafe():
      jax.block_until_ready(on_device[-1])
  n_bytes = sum(float(b["document_bytes"].sum()) for b in batches)
  return np.array([sum(float(s) for s, _ in on_device), sum(float(w) for _, w in on_device), n_bytes])


def describe_corpus(c: ml_collections.ConfigDict, corpus: corpus_lib.Corpus) -> str:
  """The launch line on the corpus; it warns when the clean split (the headline loss's) is empty."""
  bar = c.data.heldout.clean_score
  scores = [r.score for r in corpus.heldout if r.score is not None]
  clean = sum(score >= bar for score in scores)
  split = (f"{clean:,} clean: critic score >= data.heldout.clean_score={bar:g}" if scores or not corpus.heldout
           else "none scored, as in a post-training set: eval.loss_all is their loss")
  line = (f"corpus: {len(corpus.train_refs):,} training records, {len(corpus.heldout):,} held out ({split}), "
          f"{sum(corpus.bad_counts.values()):,} refused")
  if scores and not clean:
    line += (f"\nWARNING: the clean split is empty (the highest held-out score is {max(scores):g}), so eval.loss "
             f"will be null; a critic whose scores never reach the bar needs a lower --config.data.heldout.clean_score")
  return line


def format_loss(loss: float | None) -> str:
  return "n/a" if loss is None else f"{loss:.4f}"  # None: an empty set, or a condition the arm never trained with


def _figures(sums: np.ndarray) -> dict[str, float | None]:
  nats, tokens, n_bytes = (float(x) for x in sums)
  if not tokens:  # an empty held-out set (e.g. no document the critic rates flawless) has no loss: null in JSON
    return {"loss": None, "bits_per_byte": None, "tokens": 0.0, "bytes": 0.0}
  return {"loss": nats / tokens, "bits_per_byte": nats / math.log(2) / n_bytes, "tokens": tokens,
          "bytes": n_bytes}


def evaluate_sets(eval_step, params, sets: dict[str, dict[str, list[dict]]], to_device) -> dict:
  """{set name: {domain: figures, "all_domains": figures}}; figures = loss (nats per document
  token), bits per UTF-8 byte, tokens and bytes scored."""
  results = {}
  for name, by_domain in sets.items():
    sums = {domain: _sums(eval_step, params, batches, to_device) for domain, batches in by_domain.items()}
    results[name] = {domain: _figures(s) for domain, s in sums.items()}
    results[name]["all_domains"] = _figures(sum(sums.values(), np.zeros(3)))
  return results



def summary_eval(results: dict) -> dict:
  """The held-out part of summary.json's `eval`, from `evaluate_sets`' results; null for a set left out
  (a condition the arm never trained with)."""
  figure = lambda name, key: results[name]["all_domains"][key] if name in results else None
  return {
      "loss": figure("clean", "loss"),
      "bits_per_byte": figure("clean", "bits_per_byte"),
      "loss_all": figure("all", "loss"),
      "loss_unconditioned": figure("unconditioned", "loss"),
      "loss_true_critique": figure("true_critique", "loss"),
      "bits_per_byte_unconditioned": figure("unconditioned", "bits_per_byte"),
      "per_domain": {name: {d: r["loss"] for d, r in by_domain.items()} for name, by_domain in results.items()},
  }
