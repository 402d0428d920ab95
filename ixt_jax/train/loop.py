"""One training run, top to bottom: set-up, start, the step loop and its hooks, the summary.

  set-up   the config resolved and checked once (config.resolve_run_config), the mesh, the model's
           fit to it, then the vocabulary, the corpus scan and the sharded, jitted step
  start    the latest checkpoint, else fresh parameters (or `train.init_from`'s)
  loop     batch -> step -> hooks: StepLog (NaN guard, MFU, ETA), HeldoutEval, TaskEval,
           CheckpointHook (schedule, clock, preemption)
  end      summary.json, whose presence means "finished" (the run directory: ixt_jax.rundir)
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

import jax
import ml_collections
import optax
from etils import epath
from jax.sharding import Mesh

from ixt_jax import rundir
from ixt_jax.data import annotation_cost
from ixt_jax.data import config as data_config
from ixt_jax.data import corpus as corpus_lib
from ixt_jax.data import mixture
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.errors import ConfigError
from ixt_jax.models import ModelConfig, param_counts, train_flops_per_token
from ixt_jax.parallel import distributed
from ixt_jax.parallel.mesh import data_parallel_size, make_mesh
from ixt_jax.parallel.sharding import use_mesh
from ixt_jax.train import config as config_lib
from ixt_jax.train import heldout, resume
from ixt_jax.train.checkpoint_hook import CheckpointHook
from ixt_jax.train.eval_hooks import HeldoutEval, TaskEval
from ixt_jax.train.metrics import MetricsWriter
from ixt_jax.train.optimizer import make_optimizer
from ixt_jax.train.sharded_state import ShardedSetup, check_model_fits_mesh, jit_train_step, setup
from ixt_jax.train.step_log import StepLog, Throughput
from ixt_jax.train.throughput import peak_flops_per_device
from ixt_jax.train.train_data import TrainData
from ixt_jax.train.wandb_writer import make_wandb_writer

log = logging.getLogger("ixt_jax.train")
# (c, vocab, graphdef, mesh, positive_critique, corpus) -> (params -> {score name: value});
# ixt_jax.evaluate.tasks.make_task_evaluator is one.
TaskEvaluatorFactory = Callable[..., Callable]


def train_and_evaluate(c: ml_collections.ConfigDict, workdir: epath.PathLike,
                       positive_critique: Callable[[str], str],
                       task_evaluator_factory: TaskEvaluatorFactory | None = None) -> dict:
  """Trains (or resumes) the run `c` in `workdir`; returns the summary.json contents.

  `task_evaluator_factory(c, vocab, graphdef, mesh, positive_critique, corpus=corpus)` returns a
  callable `params -> {score name: value}`, run at the end and every `eval.every` steps; without
  it the task scores stay null.
  """
  c = config_lib.resolve_run_config(c, workdir)
  joined = distributed.initialize(**c.distributed)
  try:
    return _train(c, epath.Path(workdir), positive_critique, task_evaluator_factory)
  finally:
    if joined:  # leave the coordination service together, or exit hangs on its barrier
      jax.distributed.shutdown()


@dataclasses.dataclass(frozen=True)
class RunSetUp:
  """What the loop is built from, made once the config has passed every check (benchmarks/train_loop.py
  times its `train_step` bare, beside the loop)."""
  mesh: Mesh
  vocab: vocab_lib.Vocabulary
  corpus: corpus_lib.Corpus
  model_cfg: ModelConfig
  flops_per_token: float
  tx: optax.GradientTransformation
  ss: ShardedSetup
  train_step: Callable  # (state, batch) -> (state, metrics), sharded and jitted


def set_up(c: ml_collections.ConfigDict, workdir: epath.Path, say: Callable[[str], None]) -> RunSetUp:
  """Every check before the first byte of data is read; then tokenizer, corpus, config.json, the step."""
  try:
    mesh = make_mesh(dict(c.mesh))
  except ValueError as e:
    raise ConfigError(f"config.{e}") from None
  config_lib.validate_run_config(c, jax.device_count(), data_parallel_size(mesh))
  check_model_fits_mesh(lambda vocab_size: config_lib.model_config(c, vocab_size), mesh)
  workdir.mkdir(parents=True, exist_ok=True)
  say(f"{workdir}: loading the tokenizer ({c.data.vocab.kind}) ...")
  vocab = vocab_lib.load_vocabulary(c.data)
  say(f"tokenizer: {vocab.size} pieces; scanning the corpus {list(c.data.train_dirs)} ...")
  corpus = corpus_lib.scan_corpus(c.data, vocab)
  say(heldout.describe_corpus(c, corpus))
  model_cfg = config_lib.model_config(c, vocab.size)
  counts, flops_per_token = param_counts(model_cfg), train_flops_per_token(model_cfg, c.data.seq_len)
  tokens = c.train.steps * c.train.batch_size * c.data.seq_len
  say(f"model {c.model.size}: {counts['total']:,} parameters ({counts['non_embedding']:,} non-embedding); "
      f"mesh {dict(mesh.shape)} on {jax.device_count()} {jax.devices()[0].platform} devices; "
      f"{c.train.steps:,} steps x {c.train.batch_size} x {c.data.seq_len} = {tokens:,} tokens, "
      f"{tokens * flops_per_token:.3g} training FLOPs")
  if jax.process_index() == 0:
    # The run's own copies of what evaluation, serving and export read: no corpus or cache needed later.
    vocab.save(rundir.path(workdir, rundir.TOKENIZER))
    if not rundir.exists(rundir.path(workdir, rundir.HELDOUT)):  # written once: a resume keeps it
      corpus_lib.save_heldout(corpus, rundir.path(workdir, rundir.HELDOUT))
    rundir.write_config(workdir, rundir.ResolvedConfig(
        config=c.to_dict(), model=model_cfg.__dict__, n_params=counts, flops_per_token=flops_per_token,
        tokenizer=vocab.sha256, vocab_path=vocab.path, mesh=dict(mesh.shape), process_count=jax.process_count()))
  tx, schedule = make_optimizer(c.optimizer, c.train.steps)
  ss = setup(model_cfg, tx, mesh, c.seed)
  train_step = jit_train_step(ss, tx, schedule, c.train.z_loss, c.train.microbatches)
  return RunSetUp(mesh, vocab, corpus, model_cfg, flops_per_token, tx, ss, train_step)


def _train(c: ml_collections.ConfigDict, workdir: epath.Path, positive_critique: Callable[[str], str],
           task_evaluator_factory: TaskEvaluatorFactory | None) -> dict:
  start_time = time.time()
  is_main = jax.process_index() == 0
  say = lambda message: print(message, flush=True) if is_main else None  # progress while nothing else prints
  # ---- Set-up ------------------------------------------------------------------------------------
  run = set_up(c, workdir, say)
  mesh, vocab, corpus, model_cfg, ss = run.mesh, run.vocab, run.corpus, run.model_cfg, run.ss

  # ---- Start: resume, or fresh parameters -----------------------------------------------------
  writer = MetricsWriter(workdir, is_main, make_wandb_writer(c, workdir) if is_main else None)
  checkpoints = CheckpointHook(workdir, c.train.checkpoint_every, c.train.keep_checkpoints,
                               c.train.checkpoint_minutes, c.train.log_every, c.train.steps, writer)
  start_step = checkpoints.checkpointer.latest_step() or 0
  data = TrainData(c, vocab, corpus, start_step)
  if start_step:
    state, progress = resume.restore(checkpoints.checkpointer, start_step, ss, data.iterator)
    writer.drop_after(start_step)
    say(f"resumed from step {start_step} of {workdir}")
  else:
    state, progress = resume.fresh_state(ss, run.tx, c.seed, c.train.init_from, model_cfg), resume.fresh_progress()
    writer.write(0, {"bad_records": dict(corpus.bad_counts), "records_seen": corpus.records_seen,
                     "train_records": int(len(corpus.train_refs)), "heldout_records": len(corpus.heldout),
                     "init_from": c.train.init_from})

  # ---- Hooks ------------------------------------------------------------------------------------
  tokens_per_step = c.train.batch_size * c.data.seq_len
  peak = peak_flops_per_device(c.train.peak_flops_per_device) * jax.device_count()
  step_log = StepLog(writer, Throughput(tokens_per_step, run.flops_per_token, peak), c.train.steps,
                     c.train.log_every, progress, lambda step: checkpoints.last_good(step, c.seed), is_main)
  heldout_eval = _heldout_eval(c, vocab, corpus, ss, positive_critique, writer, is_main)
  task_eval = None
  if task_evaluator_factory is not None and config_lib.eval_tasks(c):
    evaluator = task_evaluator_factory(c, vocab, ss.graphdef, mesh, positive_critique, corpus=corpus)
    task_eval = TaskEval(evaluator, c.eval.every, c.train.steps, writer, is_main)

  # ---- Train ------------------------------------------------------------------------------------
  serialize = distributed.overlapping_collectives_unsafe()
  preempted = False
  say(f"compiling the train step (step {start_step + 1} includes it) ...")
  with use_mesh(mesh):
    for step in range(start_step + 1, c.train.steps + 1):
      state, metrics = run.train_step(state, ss.to_device(data.next_batch(step)))  # runs while we log step - 1
      if serialize:
        jax.block_until_ready(metrics)
      step_log.observe(step, metrics, first=step == start_step + 1)
      preempted = checkpoints.preempted(step)
      at_checkpoint = checkpoints.due(step, preempted)
      at_eval = heldout_eval.due(step) and not preempted
      at_tasks = task_eval is not None and task_eval.due(step) and not preempted
      if at_eval or at_checkpoint:
        step_log.flush()  # the step's loss is known finite before anything is saved
      heldout_loss = heldout_eval(step, state.params) if at_eval else None
      if at_tasks:
        task_eval(step, state.params)
      if at_eval or at_tasks:
        step_log.restart_clock(step)  # evaluation time is not training speed
      if at_checkpoint:
        checkpoints.save(step, state, data.iterator, step_log.progress, heldout_loss)
      if preempted:
        break
    if heldout_eval.results is None and not preempted:  # resumed from the final checkpoint: evaluate it
      heldout_eval.evaluate(state.params)
      if task_eval is not None:
        task_eval(c.train.steps, state.params)
  checkpoints.close()
  if preempted:
    writer.close()
    log.warning("preemption notice: saved step %d, exiting", step)
    return {"preempted_at": step}

  # ---- Summary ----------------------------------------------------------------------------------
  summary = _summary(c, model_cfg, vocab, corpus, step_log.progress, heldout_eval.results,
                     task_eval.scores if task_eval else None, time.time() - start_time)
  if is_main:
    rundir.write_summary(workdir, summary)  # atomic: its presence means "finished"
  writer.close(summary.to_dict())
  return summary.to_dict()


def _heldout_eval(c, vocab, corpus, ss: ShardedSetup, positive_critique, writer, is_main) -> HeldoutEval:
  """The held-out loss hook: the sets of heldout.EVAL_SETS, every `train.eval_every` steps."""
  return HeldoutEval(heldout.make_eval_step(ss.graphdef), heldout.make_eval_sets(c, vocab, positive_critique, corpus),
                     lambda batch: heldout.share_to_device(batch, ss.batch_sharding), c.train.eval_every,
                     c.train.steps, writer, is_main)


def _summary(c, model_cfg, vocab, corpus, progress, results, tasks, wall_seconds) -> rundir.Summary:
  counts = param_counts(model_cfg)
  flops_per_token = train_flops_per_token(model_cfg, c.data.seq_len)
  tokens = c.train.steps * c.train.batch_size * c.data.seq_len
  return rundir.Summary(
      method=c.method, seed=c.seed, model=c.model.size,
      n_params=counts["total"], n_params_non_embedding=counts["non_embedding"],
      tokens=tokens, doc_tokens=progress["doc_tokens"], documents=progress["documents"],
      flops=float(tokens * flops_per_token), flops_per_token=flops_per_token,
      annotation_flops=float(c.annotation_flops) if c.annotation_flops >= 0 else annotation_cost.annotation_flops(
          c.data.train_dirs, progress["documents"]),
      tokenizer=vocab.sha256,
      steps=c.train.steps, batch_size=c.train.batch_size, seq_len=c.data.seq_len,
      wall_seconds=wall_seconds, bad_records=dict(corpus.bad_counts),
      eval={**heldout.summary_eval(results), "math_em": None, "code_pass1": None, **(tasks or {})},
      budget=c.budget or None, feedback_token_share=progress["critique_tokens"] / tokens,
      condition=heldout.eval_condition(c),
      mixture=mixture.realised_mix(data_config.sources(c.data), progress) if c.data.sources else None)
