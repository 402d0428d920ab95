"""The train state and the jitted, sharded train step (no host round-trip inside)."""
from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from ixt_jax.parallel.rules import constrain
from ixt_jax.train.loss import next_token_targets, weighted_cross_entropy

MODEL_INPUTS = ("tokens", "segment_ids", "positions", "loss_weights")
# Per-row counters that ride along with the batch and are summed over rows on device (global on a
# pod): [B] each, and the mixture's per-source counters [B, S] (ixt_jax.data.mixture).
COUNTERS = ("document_tokens", "documents", "critique_tokens", "source_documents", "source_tokens")


class TrainState(NamedTuple):
  step: jax.Array          # int32 scalar: completed steps
  params: Any              # pure dict of float32 arrays
  opt_state: Any
  rng: jax.Array           # uint32 key data, for stochastic layers; saved so resume is exact


def model_loss(graphdef: nnx.GraphDef, params, batch: dict, z_loss: float, normalizer=None):
  """(loss, aux) of the weighted next-token objective on one batch (see weighted_cross_entropy)."""
  logits = nnx.merge(graphdef, params)(batch["tokens"], batch["segment_ids"], batch["positions"])
  targets, weights = next_token_targets(batch["tokens"], batch["loss_weights"], batch["segment_ids"])
  return weighted_cross_entropy(logits, targets, weights, z_loss, normalizer)


def split_microbatches(batch: dict, n: int) -> dict:
  """[B, ...] -> [n, B/n, ...], row i*n + j into micro-batch j, so each micro-batch keeps the
  batch's sharding over the data axes (the sharded dimension stays major)."""
  def split(x):
    x = x.reshape((x.shape[0] // n, n) + x.shape[1:])
    return constrain(jnp.swapaxes(x, 0, 1), (None, "batch") + (None,) * (x.ndim - 2))
  return {k: split(v) for k, v in batch.items()}


def make_train_step(graphdef: nnx.GraphDef, tx: optax.GradientTransformation,
                    schedule: optax.Schedule, z_loss: float, microbatches: int = 1):
  """train_step(state, batch) -> (state, metrics); all metrics stay on device.

  With `microbatches` > 1 the gradient is accumulated over that many slices of the batch, equal
  in loss and gradient to one step on the whole batch.
  """

  def loss_and_grads(params, batch, normalizer):
    grad_fn = jax.value_and_grad(lambda p: model_loss(graphdef, p, batch, z_loss, normalizer), has_aux=True)
    (loss, aux), grads = grad_fn(params)
    return loss, aux["ce_loss"], grads

  def train_step(state: TrainState, batch: dict):
    inputs = {k: batch[k] for k in MODEL_INPUTS}
    weight_sum = next_token_targets(inputs["tokens"], inputs["loss_weights"], inputs["segment_ids"])[1].sum()
    if microbatches == 1:
      loss, ce_loss, grads = loss_and_grads(state.params, inputs, weight_sum)
    else:
      def accumulate(total, micro):
        return jax.tree.map(jnp.add, total, loss_and_grads(state.params, micro, weight_sum)), None
      zeros = (jnp.zeros(()), jnp.zeros(()), jax.tree.map(jnp.zeros_like, state.params))
      (loss, ce_loss, grads), _ = jax.lax.scan(accumulate, zeros, split_microbatches(inputs, microbatches))
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {
        "loss": loss,
        "ce_loss": ce_loss,
        "grad_norm": optax.global_norm(grads),
        "learning_rate": schedule(state.step),
        "weighted_tokens": weight_sum,
    }
    return TrainState(state.step + 1, params, opt_state, state.rng), metrics

  return train_step


def init_state(params, tx: optax.GradientTransformation, seed: int) -> TrainState:
  return TrainState(jnp.zeros((), jnp.int32), params, tx.init(params),
                    jax.random.key_data(jax.random.key(seed + 1)))
