"""Decode speed: generated tokens per second at a fixed batch and length (prefill included)."""
from __future__ import annotations

from ixt_jax.evaluate.sampling import Sampler, SamplingSettings
from ixt_jax.train.throughput import time_call

_FIRST_TEXT_ID = 3  # ids below are pad, end of document and unknown in both vocabularies


def decode_speed(sampler: Sampler, params, batch: int, prompt_tokens: int = 32, new_tokens: int = 128,
                 repeats: int = 3) -> dict[str, float]:
  """Median seconds and tokens/s of generating `new_tokens` for each of `batch` prompts.

  Every row runs to `new_tokens` (end-of-document ignored), so the figure is steady decoding, not
  how soon a model stops.
  """
  prompts = [[_FIRST_TEXT_ID + (row + i) % 64 for i in range(prompt_tokens)] for row in range(batch)]
  settings = SamplingSettings(max_new_tokens=new_tokens, ignore_eos=True)
  seconds = time_call(lambda: sampler.generate(params, prompts, settings), repeats=repeats, warmup=1)
  return {"batch": batch, "prompt_tokens": prompt_tokens, "new_tokens": new_tokens, "seconds": seconds,
          "tokens_per_s": batch * new_tokens / seconds}
