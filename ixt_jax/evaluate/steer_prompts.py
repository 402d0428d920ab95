"""Fresh prompts for steerability, each with the planted-flaw twin of its own problem.

Built from the corpus config a run's data was generated with (the `config` its manifest carries):
the records *after* the corpus's own (a built-in corpus of n records is a prefix of a longer one,
so record n + i was never trained on):
  math  new word problems: the statement up to `Solution:`
  code  functions of the templates the corpus kept out of training (`code.exclude_templates`; all
        templates when none were): the `def` line and docstring
  text  openings of unseen standard-library documents: their first lines, up to ~OPENING_CHARS
The flawed twin is the same record index drawn with every record flawed, so its problem, names and
numbers are the prompt's (a code twin whose bug needed other names is skipped); its critique is
what the `negative` condition shows with the prompt.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from ixt_jax.data.corpora import math_problems, python_functions, stdlib_text
from ixt_jax.evaluate.code_task import SIGNATURE_AND_DOCSTRING
from ixt_jax.evaluate.math_task import SOLUTION_LINE
from ixt_jax.errors import ConfigError, DataError

DOMAINS = ("math", "code", "text")
OPENING_CHARS = 160


@dataclasses.dataclass(frozen=True)
class SteerPrompt:
  id: str
  domain: str
  prompt: str  # the text the model continues
  clean: dict[str, Any]  # the raw clean record the prompt opens (its meta judges a sample)
  flawed: dict[str, Any]  # the raw flawed twin: its critique is the prompt's negative


def opening(text: str, max_chars: int = OPENING_CHARS) -> str:
  """Whole first lines of `text`, at most max_chars (at least one line), ending in a newline."""
  lines, kept = text.splitlines(keepends=True), ""
  for line in lines:
    if kept and len(kept) + len(line) > max_chars:
      break
    kept += line
  return kept if kept.endswith("\n") else kept + "\n"


def _math(cfg: Mapping[str, Any], seed: int, n: int) -> list[SteerPrompt]:
  kinds = math_problems.parse_flaws(cfg.get("flaws", ""), math_problems.FLAWS)
  prompts = []
  for i in range(cfg["count"], cfg["count"] + n):
    clean = math_problems.make_record(seed, i, 0.0, kinds)
    flawed = math_problems.make_record(seed, i, 1.0, kinds)
    text = clean["text"]
    prompts.append(SteerPrompt(clean["id"], "math", text[:text.index(SOLUTION_LINE) + len(SOLUTION_LINE)],
                               clean, flawed))
  return prompts


def _code(cfg: Mapping[str, Any], seed: int, n: int) -> list[SteerPrompt]:
  held_out = cfg.get("exclude_templates", "")
  names = python_functions.template_names(only=held_out) if held_out else None
  bug = cfg.get("bug", "random")
  prompts, i = [], cfg["count"]
  while len(prompts) < n:
    clean = python_functions.make_record(seed, i, 0.0, bug, names)
    flawed = python_functions.make_record(seed, i, 1.0, bug, names)
    i += 1
    head = SIGNATURE_AND_DOCSTRING.match(clean["text"])
    if head and flawed["text"].startswith(head[1]):
      prompts.append(SteerPrompt(clean["id"], "code", head[1], clean, flawed))
    if i > cfg["count"] + 20 * n:
      raise ValueError(f"only {len(prompts)} code prompts have a flawed twin with the same names")
  return prompts


def _text(cfg: Mapping[str, Any], seed: int, n: int) -> list[SteerPrompt]:
  opts = {k: cfg[k] for k in ("max_chars", "min_chars", "include_tests") if k in cfg}
  clean = stdlib_text.generate(n, seed, flaw_fraction=0.0, start=cfg["count"], **opts)
  flawed = stdlib_text.generate(n, seed, flaw_fraction=1.0, flaws=cfg.get("flaws", ""), start=cfg["count"], **opts)
  return [SteerPrompt(c["id"], "text", opening(c["text"]), c, f) for c, f in zip(clean, flawed)]


_MAKERS = {"math": _math, "code": _code, "text": _text}


def make_prompts(corpus_config: Mapping[str, Any], domains: Sequence[str], n: int) -> list[SteerPrompt]:
  """`n` fresh prompts for each of `domains`, from a built-in corpus config (experiments.corpus)."""
  prompts = []
  for domain in domains:
    if domain not in _MAKERS:
      raise ConfigError(f"steer domain {domain!r}: expected some of {DOMAINS}")
    if not corpus_config.get(domain, {}).get("count"):
      raise DataError(f"the run's corpus has no {domain} records, so no fresh {domain} prompts")
    prompts += _MAKERS[domain](corpus_config[domain], corpus_config["seed"], n)
  return prompts
