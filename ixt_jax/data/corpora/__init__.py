"""Built-in corpora, generated from a seed with no download: math, code and text.

Every raw record is `{"id": str, "text": str, "domain": "math"|"code"|"text", "meta": {...}}`, where
meta holds the ground truth a verifier needs (and, for tests only, the planted flaw). Record i
depends only on (domain, seed, i), so a corpus of n records is a prefix of one of n' > n.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ixt_jax.data.corpora import math_problems, python_functions, stdlib_text

GENERATORS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "math": math_problems.generate,
    "code": python_functions.generate,
    "text": stdlib_text.generate,
}
DOMAINS = tuple(GENERATORS)


def generate(domain: str, n: int, seed: int, **opts: Any) -> list[dict[str, Any]]:
  """n records of a built-in domain; opts go to its generator (e.g. flaw_fraction, max_chars)."""
  if domain not in GENERATORS:
    raise ValueError(f"unknown built-in domain {domain!r}; expected one of {DOMAINS}")
  return GENERATORS[domain](n, seed, **opts)
