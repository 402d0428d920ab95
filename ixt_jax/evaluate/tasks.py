"""Task scores of a model's parameters: math exact match, code pass@1, HumanEval pass@1.

`make_task_evaluator(...)` builds the problems once (held-out built-in records, which keep the
ground truth in `meta`, and HumanEval) and returns a callable `(params) -> {"math_em": ...}` that a
training loop can call every K steps and at the end. Greedy decoding. A run that trains with a
critique prefix is scored conditioned on its positive critique (`math_em`, ...) and, if it trained
without a critique too (dropout, cooldown), with none (`math_em_unconditioned`, ...); any other run
only with no critique, its own condition.
"""
from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import ml_collections
from flax import nnx
from jax.sharding import Mesh

from ixt_jax.data import conditions
from ixt_jax.data import corpus as corpus_lib
from ixt_jax.data import formatting, shards
from ixt_jax.evaluate import code_task, humaneval, math_task
from ixt_jax.evaluate.prompts import prompt_ids
from ixt_jax.evaluate.sampling import Sampler, SamplingSettings
from ixt_jax.train.config import eval_tasks, get_run_config

TASKS = ("math", "code", "humaneval")
SCORE_NAMES = {"math": "math_em", "code": "code_pass1", "humaneval": "humaneval_pass1"}
_DOMAIN = {"math": "math", "code": "code", "humaneval": "code"}
UNCONDITIONED = "_unconditioned"
_DEFAULTS = get_run_config().eval  # the one home of the task-evaluation defaults


@dataclasses.dataclass(frozen=True)
class TaskSettings:
  tasks: tuple[str, ...] = eval_tasks(get_run_config())
  max_problems: int = _DEFAULTS.max_problems  # per task, the first held-out ones (HumanEval: the first by task id)
  max_new_tokens: int = _DEFAULTS.max_new_tokens
  timeout_s: float = _DEFAULTS.timeout_s  # per program in the sandbox
  max_batch: int = 64  # prompts decoded together

  @classmethod
  def from_config(cls, c: ml_collections.ConfigDict) -> TaskSettings:
    """The settings a run config asks for (`config.eval`)."""
    return cls(tasks=eval_tasks(c), max_problems=c.eval.max_problems,
               max_new_tokens=c.eval.max_new_tokens, timeout_s=c.eval.timeout_s)

  def __post_init__(self):
    unknown = sorted(set(self.tasks) - set(TASKS))
    if unknown:
      raise ValueError(f"unknown task(s) {unknown}; expected some of {TASKS}")


# Every task's problems have an `id` and a `prompt` (the text the model continues).
Problem = math_task.MathProblem | code_task.CodeProblem | humaneval.HumanEvalProblem


@dataclasses.dataclass
class TaskReport:
  scores: dict[str, float | None]  # None: the task had no problems
  samples: dict[str, list[dict[str, Any]]]  # per score: id, completion, passed
  generated_tokens: int
  generation_seconds: float


def heldout_records(corpus: corpus_lib.Corpus, domains: Sequence[str]) -> list[dict[str, Any]]:
  """The raw held-out records of `domains` (with their `meta`), in held-out order.

  The scanned corpus keeps only what training needs; the ground truth lives in each raw record's
  meta, so the shards are read once more, stopping when every held-out record is found.
  """
  order = {r.id: i for i, r in enumerate(corpus.heldout) if r.domain in domains}
  found: dict[str, dict[str, Any]] = {}
  for path in corpus.shard_paths:
    for raw in shards.read_shard(path):
      try:
        record = json.loads(raw)
      except ValueError:
        continue  # counted and quarantined by the scan
      if isinstance(record, dict) and isinstance(record.get("id"), str) and record["id"] in order:
        found.setdefault(record["id"], record)
    if len(found) == len(order):
      break
  return sorted(found.values(), key=lambda r: order[r["id"]])


def _problems(task: str, raw: list[dict[str, Any]], limit: int) -> list[Problem]:
  raw = [r for r in raw if r.get("domain") == _DOMAIN[task]]
  if task == "math":
    return math_task.math_problems(raw)[:limit]
  if task == "code":
    return code_task.code_problems(raw)[:limit]
  return humaneval.humaneval_problems()[:limit]


def _score(task: str, problems: list[Problem], completions: list[str], timeout_s: float) -> list[bool]:
  if task == "math":
    return math_task.exact_matches(problems, completions)
  if task == "code":
    return code_task.pass_at_1(problems, completions, timeout_s)
  return humaneval.pass_at_1(problems, completions, timeout_s)


class TaskEvaluator:
  """`evaluator(params)` -> scores; `evaluator.run(params)` -> TaskReport with the samples."""

  def __init__(self, problems: dict[str, list[Problem]], critiques: dict[str, Callable[[str], str] | None],
               sampler: Sampler, feedback: formatting.FeedbackSettings, settings: TaskSettings, seq_len: int):
    self.problems, self.critiques, self.sampler = problems, critiques, sampler
    self.feedback, self.settings, self.seq_len = feedback, settings, seq_len

  def _sampling(self, prompt: list[int], stop: tuple[str, ...]) -> SamplingSettings:
    """Greedy, within the row length the model was trained on (it never saw a position past it)."""
    room = max(1, min(self.settings.max_new_tokens, self.seq_len - len(prompt)))
    return SamplingSettings(max_new_tokens=room, stop=stop)

  def run(self, params) -> TaskReport:
    report = TaskReport({}, {}, 0, 0.0)
    for task, problems in self.problems.items():
      stop = math_task.STOP if task == "math" else code_task.STOP
      for suffix, critique in self.critiques.items():
        name = SCORE_NAMES[task] + suffix
        if not problems:
          report.scores[name] = None
          continue
        domain = _DOMAIN[task]
        text = None if critique is None else critique(domain)
        prompts = [prompt_ids(self.sampler.vocab, self.feedback, p.prompt, domain, text) for p in problems]
        start = time.perf_counter()
        completions = self.sampler.complete(params, prompts, [self._sampling(ids, stop) for ids in prompts])
        report.generation_seconds += time.perf_counter() - start
        report.generated_tokens += sum(len(c.tokens) for c in completions)
        passed = _score(task, problems, [c.text for c in completions], self.settings.timeout_s)
        report.scores[name] = sum(passed) / len(passed)
        report.samples[name] = [{"id": p.id, "completion": c.text, "passed": ok}
                                for p, c, ok in zip(problems, completions, passed)]
    return report

  def __call__(self, params) -> dict[str, float | None]:
    return self.run(params).scores


def make_task_evaluator(c: ml_collections.ConfigDict, vocab, graphdef: nnx.GraphDef, mesh: Mesh,
                        positive_critique: Callable[[str], str], *, corpus: corpus_lib.Corpus | None = None,
                        settings: TaskSettings | None = None) -> TaskEvaluator:
  """A callable `(params) -> {"math_em": float, "code_pass1": float, ...}` for the run `c`.

  Args:
    c: the run config (its data section fixes the corpus, the held-out split and the critique layout).
    vocab: the run's vocabulary.
    graphdef: the model's graph; params (a pure dict, sharded on `mesh`) come with each call.
    mesh: the mesh the params live on; prompts are split over its data axes.
    positive_critique: domain -> the critique text a prefix-conditioned run is sampled with.
    corpus: `scan_corpus(c.data, vocab)`, to share the trainer's scan; scanned here if None.
    settings: which tasks, how many problems, token budget, sandbox timeout (default: `c.eval`'s).
  """
  settings = settings or TaskSettings.from_config(c)
  feedback = formatting.FeedbackSettings.from_config(c.data)
  builtin = [t for t in settings.tasks if t != "humaneval"]
  raw = []
  if builtin:
    corpus = corpus or corpus_lib.scan_corpus(c.data, vocab)
    raw = heldout_records(corpus, [_DOMAIN[t] for t in builtin])
  problems = {task: _problems(task, raw, settings.max_problems) for task in settings.tasks}
  critiques = {"": None}
  if feedback.placement == "prefix":
    critiques = {"": positive_critique}
    if "none" in conditions.trained_conditions(c):  # no critique too, where the arm trained without one
      critiques[UNCONDITIONED] = None
  return TaskEvaluator(problems, critiques, Sampler(graphdef, vocab, mesh, max_batch=settings.max_batch),
                       feedback, settings, c.data.seq_len)
