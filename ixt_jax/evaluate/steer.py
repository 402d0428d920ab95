"""Steerability: what a model writes under each condition, judged by the verifiers.

Fresh prompts per domain (steer_prompts), k samples each at temperature 1 under every condition the
arm trained with among `positive`, `negative` and `none`, with the *same prompts and the same
sampling keys in every condition* (row seed = prompt index x k + sample index), so two conditions
differ only in the critique shown. Every sample is judged (steer_judge): flaw rate and well-formed
rate per condition and domain. The per-sample judgements go to `steer.json` in the run directory,
which ixt_jax.evaluate.endpoints turns into the study's endpoints.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import tqdm
from etils import epath

from ixt_jax.data import conditions, formatting, records, shards
from ixt_jax.evaluate import code_task, flawed_loss, math_task
from ixt_jax.evaluate.tasks import heldout_records
from ixt_jax.errors import DataError
from ixt_jax.evaluate.prompts import condition_prompt_ids
from ixt_jax.evaluate.run_dir import LoadedRun, load_corpus
from ixt_jax.evaluate.run_eval import run_positive_critique
from ixt_jax.evaluate.sampling import Sampler, SamplingSettings
from ixt_jax.evaluate.steer_judge import judge
from ixt_jax.evaluate.steer_prompts import SteerPrompt, make_prompts
from ixt_jax.feedback import code_tests
from ixt_jax.feedback.critic import Feedback
from ixt_jax.feedback.critics import BuiltinCritic
from ixt_jax.feedback.giveaway import GiveawayCritic

STEER_FILE = "steer.json"
SAMPLED_CONDITIONS = ("positive", "negative", "none")
_STOP = {"math": math_task.STOP, "code": code_task.STOP, "text": ()}


@dataclasses.dataclass(frozen=True)
class SteerSettings:
  domains: tuple[str, ...] = ("math", "code", "text")
  prompts: int = 32  # per domain
  samples: int = 4  # k per prompt and condition
  temperature: float = 1.0
  max_new_tokens: int = 128
  seed: int = 0
  max_batch: int = 256  # rows decoded together
  timeout_s: float = 2.0  # per sampled program's unit tests


def corpus_config(c) -> dict[str, Any]:
  """The built-in corpus config the run's first data directory was generated from."""
  manifest = shards.read_manifest(c.data.train_dirs[0])
  if "config" not in manifest or "seed" not in manifest["config"]:
    raise DataError(f"{c.data.train_dirs[0]}: its manifest names no built-in corpus config; steering "
                     "needs a corpus written by experiments.corpus")
  return manifest["config"]


def run_critic(c):
  """The critic the run's data was annotated with (built-in; the give-away variant where it was)."""
  described = shards.read_manifest(c.data.train_dirs[0]).get("critic", {})
  critic = BuiltinCritic(code_tests.CodeTestCritic())
  return GiveawayCritic(critic) if described.get("giveaway") else critic


def steer_conditions(c) -> tuple[str, ...]:
  """The conditions an arm is sampled under: those of SAMPLED_CONDITIONS it trained with."""
  trained = conditions.trained_conditions(c)
  return tuple(k for k in SAMPLED_CONDITIONS if k in trained)


def run_sources(run: LoadedRun, positive_critique: Callable[[str], str] | None = None,
                negative: dict[str, tuple[str, float]] | None = None) -> conditions.Sources:
  """The run's critique sources: its approvals (positive_critique, else the run's own) and the
  negatives of the steer prompts (prompt id -> critique of its flawed twin)."""
  positive_critique = positive_critique or run_positive_critique(run.config)
  return conditions.Sources(positive=positive_critique, negative=lambda r: (negative or {})[r.id])


def negatives(critic, prompts: list[SteerPrompt]) -> dict[str, tuple[str, float]]:
  """prompt id -> (critique, score) of its flawed twin, as the run's critic writes it."""
  judged = critic([p.flawed for p in prompts])
  out = {}
  for p, fb in zip(prompts, judged):
    if not isinstance(fb, Feedback) or fb.score >= 1.0:
      raise ValueError(f"the flawed twin of steer prompt {p.id} was not judged flawed: {fb}")
    out[p.id] = (fb.critique, fb.score)
  return out


def sample_condition(sampler: Sampler, params, vocab, feedback: formatting.FeedbackSettings,
                     prompts: list[SteerPrompt], condition: str, sources: conditions.Sources,
                     settings: SteerSettings, seq_len: int, progress: Callable[[int], Any] | None = None):
  """Completions [prompt][sample] under `condition`; row seed j * k + s in every condition."""
  k = settings.samples
  ids, rows, seeds = [], [], []
  for j, p in enumerate(prompts):
    record = records.Record(id=p.id, text=p.prompt, domain=p.domain)
    prompt_ids = condition_prompt_ids(vocab, feedback, record, condition, sources)
    room = max(1, min(settings.max_new_tokens, seq_len - len(prompt_ids)))
    sampling = SamplingSettings(max_new_tokens=room, temperature=settings.temperature, stop=_STOP[p.domain])
    for s in range(k):
      ids.append(prompt_ids)
      rows.append(sampling)
      seeds.append(j * k + s)
  texts = []
  for first in range(0, len(ids), settings.max_batch):
    chunk = slice(first, first + settings.max_batch)
    texts += [c.text for c in sampler.complete(params, ids[chunk], rows[chunk], seed=settings.seed,
                                               row_seeds=seeds[chunk])]
    if progress:
      progress(len(ids[chunk]))
  return [texts[j * k:(j + 1) * k] for j in range(len(prompts))]


def steer_run(run: LoadedRun, positive_critique: Callable[[str], str],
              settings: SteerSettings = SteerSettings(), show_progress: bool = True) -> dict[str, Any]:
  """Samples and judges the run under its conditions; returns (and writes) steer.json's contents."""
  c = run.config
  corpus_cfg = corpus_config(c)
  prompts = make_prompts(corpus_cfg, settings.domains, settings.prompts)
  conds = steer_conditions(c)
  feedback = formatting.FeedbackSettings.from_config(c.data)
  negative = negatives(run_critic(c), prompts) if "negative" in conds else {}
  sources = run_sources(run, positive_critique, negative)
  sampler = Sampler(run.graphdef, run.vocab, run.mesh, max_batch=settings.max_batch)
  start = time.time()
  result = {"settings": dataclasses.asdict(settings), "prompts": [p.id for p in prompts],
            "domains": [p.domain for p in prompts], "conditions": {}, "examples": {}}
  total = len(conds) * len(prompts) * settings.samples
  with tqdm.tqdm(total=total, unit="sample", desc=f"steer {run.path.name}", disable=not show_progress) as bar:
    for condition in conds:
      texts = sample_condition(sampler, run.params, run.vocab, feedback, prompts, condition, sources, settings,
                               c.data.seq_len, bar.update)
      flat = [(p, t) for p, ts in zip(prompts, texts) for t in ts]
      judged = judge([p for p, _ in flat], [t for _, t in flat], corpus_cfg, settings.timeout_s)
      k = settings.samples
      result["conditions"][condition] = {
          "well_formed": [[bool(w) for w, _ in judged[j * k:(j + 1) * k]] for j in range(len(prompts))],
          "flawed": [[f for _, f in judged[j * k:(j + 1) * k]] for j in range(len(prompts))],
      }
      result["examples"][condition] = {d: next(t[0] for p, t in zip(prompts, texts) if p.domain == d)
                                       for d in settings.domains}
  seconds = time.time() - start
  result.update(seconds=seconds, samples_per_s=total / max(seconds, 1e-9), step=run.step,
                rates=rates(result), flawed_line=flawed_line_losses(run, feedback, sources))
  shards.write_json(epath.Path(run.path) / STEER_FILE, result)
  return result


def flawed_line_losses(run: LoadedRun, feedback: formatting.FeedbackSettings,
                       sources: conditions.Sources) -> dict[str, Any]:
  """Per flawed held-out record, the nats and tokens of its flawed line under `true` (under `none`
  for an arm that never saw a critique)."""
  c = run.config
  condition = "true" if "true" in conditions.trained_conditions(c) else "none"
  corpus = load_corpus(run)
  raw = heldout_records(corpus, sorted({r.domain for r in corpus.heldout}))
  batch, ids = flawed_loss.flawed_line_rows(raw, run.vocab, feedback, c.data.seq_len, condition, sources)
  nats, tokens = flawed_loss.row_losses(run.graphdef, run.params, batch, run.mesh)
  domain_of = {r["id"]: r["domain"] for r in raw}
  return {"condition": condition, "ids": ids, "domains": [domain_of[i] for i in ids],
          "nats": nats.tolist(), "tokens": tokens.tolist()}


def rates(steer: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
  """{condition: {domain: {"flaw_rate", "well_formed_rate", "samples"}}}; the flaw rate is over
  well-formed samples (None where none is)."""
  domains = np.asarray(steer["domains"])
  out = {}
  for condition, judged in steer["conditions"].items():
    well = np.asarray(judged["well_formed"], bool)
    flawed = np.asarray([[bool(f) if f is not None else False for f in row] for row in judged["flawed"]])
    out[condition] = {}
    for domain in sorted(set(domains)):
      rows = domains == domain
      n_well = well[rows].sum()
      out[condition][domain] = {
          "flaw_rate": float(flawed[rows].sum() / n_well) if n_well else None,
          "well_formed_rate": float(well[rows].mean()), "samples": int(well[rows].size)}
  return out
