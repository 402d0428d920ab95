"""The critic an annotation config asks for: the built-in verifiers by domain, or a served model."""
from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

import ml_collections

from ixt_jax.errors import ConfigError
from ixt_jax.feedback import sandbox
from ixt_jax.feedback.code_tests import CodeTestCritic
from ixt_jax.feedback.critic import Critic, Failure, Feedback
from ixt_jax.feedback.flipped import FlippedCritic
from ixt_jax.feedback.giveaway import GiveawayCritic
from ixt_jax.feedback.math_verifier import MathVerifierCritic
from ixt_jax.feedback.served import ServedCritic
from ixt_jax.feedback.served_score import ScoreOnlyCritic
from ixt_jax.feedback.text_quality import TextQualityCritic


class BuiltinCritic:
  """Sends each record to its domain's verifier: math recomputed, code tested, text measured.

  A record of another domain (web, say) goes to the `unknown_domain` critic (the text critic by
  default); with unknown_domain="fail" the annotation refuses such a corpus before any work
  (`experiments.annotate` checks the input's domains against `known_domains`).
  """

  name = "builtin"
  n_params = 0

  def __init__(self, code: CodeTestCritic, unknown_domain: str = "text"):
    self.by_domain: dict[str, Critic] = {"math": MathVerifierCritic(), "code": code, "text": TextQualityCritic()}
    if unknown_domain != "fail" and unknown_domain not in self.by_domain:
      raise ConfigError(f"config.unknown_domain={unknown_domain!r}: expected 'fail' or one of {self.known_domains}")
    self.unknown_domain = unknown_domain

  @property
  def known_domains(self) -> list[str]:
    return sorted(self.by_domain)

  def describe(self) -> dict[str, Any]:
    return {"name": self.name, "n_params": 0, "sandbox": sandbox.isolation(), "unknown_domain": self.unknown_domain,
            "critics": {domain: critic.describe() for domain, critic in self.by_domain.items()}}

  def __call__(self, records: Sequence[dict[str, Any]]) -> list[Feedback | Failure]:
    results: list[Feedback | Failure | None] = [None] * len(records)
    by_domain = collections.defaultdict(list)
    for i, record in enumerate(records):
      by_domain[record.get("domain")].append(i)
    for domain, indices in by_domain.items():
      critic = self.by_domain.get(domain, self.by_domain.get(self.unknown_domain))
      if critic is None:
        for i in indices:
          results[i] = Failure(f"no built-in critic for domain {domain!r}", self.name)
        continue
      for i, result in zip(indices, critic([records[i] for i in indices])):
        results[i] = result
    return results


CRITICS = ("builtin", "served", "score_only")


def make_critic(config: ml_collections.ConfigDict) -> Critic:
  """`config.critic` is "builtin" (settings in config.code), "served" (a generative model,
  config.served) or "score_only" (a scalar reward model, config.score_only); with `config.giveaway`
  the built-in critiques also quote the flawed line (the positive control); with
  `config.flip_fraction` > 0 that share of verdicts is reversed (a critic of known quality)."""
  if config.critic == "builtin":
    critic = BuiltinCritic(CodeTestCritic(**config.code), config.unknown_domain)
    critic = GiveawayCritic(critic) if config.get("giveaway", False) else critic
    flip = config.get("flip_fraction", 0.0)
    if not 0.0 <= flip <= 1.0:
      raise ConfigError(f"config.flip_fraction={flip}: expected a fraction in [0, 1]")
    return FlippedCritic(critic, flip, config.get("flip_seed", 0)) if flip else critic
  if config.critic == "served":
    return ServedCritic(**config.served)
  if config.critic == "score_only":
    return ScoreOnlyCritic(**config.score_only)
  raise ConfigError(f"config.critic={config.critic!r}: expected one of {CRITICS}")
