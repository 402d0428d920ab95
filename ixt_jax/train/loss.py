"""The training objective: cross-entropy weighted by the batch's explicit float loss weights.

Weights are 0 on critique-prefix and padding tokens by default (the data pipeline decides), so
loss = sum(w * ce) / sum(w) is the mean over exactly the tokens the model should learn.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def next_token_targets(tokens: jax.Array, loss_weights: jax.Array, segment_ids: jax.Array):
  """Targets are the next token; the last token of a row or of a segment predicts nothing."""
  targets = jnp.pad(tokens[:, 1:], ((0, 0), (0, 1)))
  next_segment = jnp.pad(segment_ids[:, 1:], ((0, 0), (0, 1)))
  # A token's weight is the weight of the token it predicts.
  weights = jnp.pad(loss_weights[:, 1:], ((0, 0), (0, 1)))
  weights = jnp.where(next_segment == segment_ids, weights, 0.0)
  return targets, weights


def weighted_cross_entropy(logits: jax.Array, targets: jax.Array, weights: jax.Array, z_loss: float = 0.0,
                           normalizer: jax.Array | None = None) -> tuple[jax.Array, dict[str, jax.Array]]:
  """(loss, aux) with loss = [sum(w * ce) + z_loss * sum(w * logZ^2)] / normalizer.

  `normalizer` defaults to sum(w); gradient accumulation passes the whole batch's sum(w), so the
  micro-batch losses add up to the large batch's loss exactly.
  """
  logits = logits.astype(jnp.float32)
  log_z = jax.nn.logsumexp(logits, axis=-1)
  target_logit = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
  ce_sum = (weights * (log_z - target_logit)).sum()
  objective = ce_sum + z_loss * (weights * log_z ** 2).sum() if z_loss else ce_sum
  if normalizer is None:
    normalizer = weights.sum()
  normalizer = jnp.maximum(normalizer, 1e-8)
  return objective / normalizer, {"ce_loss": ce_sum / normalizer, "weight_sum": weights.sum(), "ce_sum": ce_sum}
