"""The train state and the jitted, sharded train step (no host round-trip inside)."""
from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from ixt_jax.train.loss import next_token_targets, weighted_cross_entropy

MODEL_INPUTS = ("tokens", "segment_ids", "positions", "loss_weights")


class TrainState(NamedTuple):
  step: jax.Array          # int32 scalar: completed steps
  params: Any              # pure dict of float32 arrays
  opt_state: Any
  rng: jax.Array           # uint32 key data, for stochastic layers; saved so resume is exact


def model_loss(graphdef: nnx.GraphDef, params, batch: dict, z_loss: float):
  """(loss, aux) of the weighted next-token objective on one batch."""
  logits = nnx.merge(graphdef, params)(batch["tokens"], batch["segment_ids"], batch["positions"])
  targets, weights = next_token_targets(batch["tokens"], batch["loss_weights"], batch["segment_ids"])
  return weighted_cross_entropy(logits, targets, weights, z_loss)


def make_train_step(graphdef: nnx.GraphDef, tx: optax.GradientTransformation,
                    schedule: optax.Schedule, z_loss: float):
  """train_step(state, batch) -> (state, metrics); all metrics stay on device."""

  def train_step(state: TrainState, batch: dict):
    grad_fn = jax.value_and_grad(lambda p: model_loss(graphdef, p, batch, z_loss), has_aux=True)
    (loss, aux), grads = grad_fn(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {
        "loss": loss,
        "ce_loss": aux["ce_loss"],
        "grad_norm": optax.global_norm(grads),
        "learning_rate": schedule(state.step),
        "weighted_tokens": aux["weight_sum"],
    }
    return TrainState(state.step + 1, params, opt_state, state.rng), metrics

  return train_step


def init_state(params, tx: optax.GradientTransformation, seed: int) -> TrainState:
  return TrainState(jnp.zeros((), jnp.int32), params, tx.init(params),
                    jax.random.key_data(jax.random.key(seed + 1)))
