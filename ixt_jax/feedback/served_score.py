"""A scalar reward model served by vLLM (or SGLang) as a critic: it answers a score, not words.

Two response shapes, both vLLM's (a request is `{"model", "input": <prompt>}` on either route):
  classify: `POST {base_url}/classify` -> `{"data": [{"index", "label", "probs": [...], "num_classes"}],
            "usage": {"prompt_tokens", ...}}`; the score is `probs[score_index]` (the "good" class).
  pooling:  `POST {base_url}/pooling` -> `{"data": [{"index", "object": "pooling", "data": <numbers>}],
            "usage": ...}`; a reward model pools every token, so the score is the last number
            (the reward after the whole document), squashed into [0, 1] by `squash` ("sigmoid" for
            a logit, "clip" for a value already on that scale).
The score becomes the critique `critique_template` ({score}, {domain}); a run that trains on the
quality token of the score instead sets `data.feedback.kind=quality_token`. Annotation compute
counts the prompt tokens (a reward model generates none). Retries, timeouts, concurrency and the
API key work as for the generative served critic.
"""
from __future__ import annotations

import math
from typing import Any

from ixt_jax.errors import ConfigError
from ixt_jax.feedback.critic import Failure, Feedback
from ixt_jax.feedback.served import ServedCritic

ENDPOINTS = ("classify", "pooling")
SQUASHES = ("sigmoid", "clip")
CRITIQUE_TEMPLATE = "A reward model rates this {domain} document {score:.2f} out of 1."
PROMPT_TEMPLATE = "{text}"


def _last_number(value: Any) -> float:
  """The last number of a (nested) list of numbers, or the number itself."""
  while isinstance(value, list):
    value = value[-1]
  if isinstance(value, bool) or not isinstance(value, (int, float)):
    raise TypeError(f"not a number: {value!r}")
  return float(value)


class ScoreOnlyCritic(ServedCritic):
  """A served scalar reward model; `endpoint` is "classify" or "pooling" (see the module doc)."""

  CONFIG_FIELD = "config.score_only"

  def __init__(self, base_url: str, model: str, n_params: int, endpoint: str = "classify", score_index: int = 1,
               squash: str = "sigmoid", critique_template: str = CRITIQUE_TEMPLATE,
               prompt_template: str = PROMPT_TEMPLATE, **served):
    if endpoint not in ENDPOINTS:
      raise ConfigError(f"{self.CONFIG_FIELD}.endpoint={endpoint!r}: expected one of {ENDPOINTS}")
    if squash not in SQUASHES:
      raise ConfigError(f"{self.CONFIG_FIELD}.squash={squash!r}: expected one of {SQUASHES}")
    try:
      critique_template.format(score=0.5, domain="text")
    except (KeyError, IndexError, ValueError) as e:
      raise ConfigError(f"{self.CONFIG_FIELD}.critique_template={critique_template!r}: {e!r} (fields: "
                        "{score}, {domain})") from None
    super().__init__(base_url, model, n_params, prompt_template=prompt_template, **served)
    self.url = base_url.rstrip("/") + "/" + endpoint
    self.response_kind = f"a {endpoint} response"
    self.endpoint, self.score_index, self.squash = endpoint, score_index, squash
    self.critique_template = critique_template
    self.name = f"score_only:{model}"

  def describe(self) -> dict[str, Any]:
    served = {k: v for k, v in super().describe().items() if k not in ("max_tokens", "temperature")}  # no generation
    return {**served, "endpoint": self.endpoint, "score_index": self.score_index, "squash": self.squash,
            "critique_template": self.critique_template}

  def _body(self, prompt: str) -> dict[str, Any]:
    return {"model": self.model, "input": prompt}

  def _score(self, item: dict[str, Any]) -> float:
    if self.endpoint == "classify":
      return float(item["probs"][self.score_index])
    value = _last_number(item["data"])
    if self.squash == "sigmoid":
      return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, value))))
    return value

  def _read(self, reply: dict[str, Any], record: dict[str, Any]) -> Feedback | Failure:
    score = self._score(reply["data"][0])
    if not math.isfinite(score):
      return Failure(f"the reward model answered a score of {score}", self.name, str(reply)[:500])
    score = min(1.0, max(0.0, score))
    tokens, _ = self._usage(reply, generates=False)
    critique = self.critique_template.format(score=score, domain=record.get("domain", "text"))
    return Feedback(critique, score, self.name, tokens, 0)
