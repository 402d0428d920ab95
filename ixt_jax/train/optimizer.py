"""AdamW with clipping, and warmup-cosine / warmup-stable-decay schedules from optax's pieces."""
from __future__ import annotations

import jax
import optax


def make_schedule(opt, total_steps: int) -> optax.Schedule:
  peak, warmup = opt.learning_rate, opt.warmup_steps
  floor = peak * opt.min_lr_ratio
  if opt.schedule == "cosine":
    return optax.warmup_cosine_decay_schedule(0.0, peak, warmup, total_steps, end_value=floor)
  # WSD (Hägele et al. 2024): cooldowns can branch off any stable-phase checkpoint.
  decay = max(1, int(round(opt.decay_fraction * total_steps)))
  stable = max(0, total_steps - warmup - decay)
  return optax.join_schedules(
      [optax.linear_schedule(0.0, peak, warmup), optax.constant_schedule(peak),
       optax.linear_schedule(peak, floor, decay)],
      boundaries=[warmup, warmup + stable])


def _decay_mask(params):
  """Weight decay on matrices only, not on norm scales."""
  return jax.tree.map(lambda p: p.ndim >= 2, params)


def make_optimizer(opt, total_steps: int) -> tuple[optax.GradientTransformation, optax.Schedule]:
  schedule = make_schedule(opt, total_steps)
  tx = optax.chain(
      optax.clip_by_global_norm(opt.clip_norm),
      optax.adamw(schedule, b1=opt.b1, b2=opt.b2, eps=opt.eps, weight_decay=opt.weight_decay,
                  mask=_decay_mask))
  return tx, schedule
