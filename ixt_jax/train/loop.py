"""One training run: sharded jit steps on the mesh, checkpoints with exact resume, held-out loss,
metrics and the run's summary.json (the contract in ARCHITECTURE.md)."""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import jax
import ml_collections
from etils import epath
from jax.sharding import NamedSharding, PartitionSpec

from ixt_jax.data import corpus as corpus_lib
from ixt_jax.data import pipeline, shards, vocab as vocab_lib
from ixt_jax.errors import ConfigError
from ixt_jax.models import param_counts, train_flops_per_token
from ixt_jax.parallel import distributed
from ixt_jax.parallel.mesh import data_parallel_size, make_mesh
from ixt_jax.parallel.sharding import use_mesh
from ixt_jax.train import config as config_lib
from ixt_jax.train import heldout
from ixt_jax.train.checkpoint import Checkpointer
from ixt_jax.train.init_from import load_params
from ixt_jax.train.metrics import MetricsWriter
from ixt_jax.train.wandb_writer import make_wandb_writer
from ixt_jax.train.optimizer import make_optimizer
from ixt_jax.train.preemption import SaveTriggers
from ixt_jax.train.sharded_state import setup as sharded_setup
from ixt_jax.train.step import MODEL_INPUTS, init_state, make_train_step
from ixt_jax.train.throughput import peak_flops_per_device

log = logging.getLogger("ixt_jax.train")
# Per-row counters that ride along with the batch and are summed on device (global on a pod).
COUNTERS = ("document_tokens", "documents", "critique_tokens")
SUMMARY_FILE = "summary.json"


def _format_duration(seconds: float) -> str:
  seconds = int(max(seconds, 0))
  return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class _Runner:
  """Holds what one run needs between steps; `run()` is the whole job."""

  def __init__(self, c: ml_collections.ConfigDict, workdir: epath.PathLike,
               positive_critique: Callable[[str], str], task_evaluator_factory):
    self.c, self.workdir = c, epath.Path(workdir)
    self.positive_critique = positive_critique
    self.task_evaluator_factory = task_evaluator_factory
    self.distributed = distributed.initialize(**c.distributed)
    try:
      self.mesh = make_mesh(dict(c.mesh))
    except ValueError as e:
      raise ConfigError(f"config.{e}") from None
    config_lib.validate_run_config(c, jax.device_count(), data_parallel_size(self.mesh))
    self.is_main = jax.process_index() == 0
    self.workdir.mkdir(parents=True, exist_ok=True)
    if not c.data.quarantine_dir:
      c.data.quarantine_dir = str(self.workdir / "quarantine")

  def _to_device(self, batch: dict) -> dict:
    """A training batch's process-local rows -> global arrays sharded over the batch axes."""
    return {k: jax.make_array_from_process_local_data(
        self.counter_sharding if k in COUNTERS else self.batch_sharding, batch[k]) for k in MODEL_INPUTS + COUNTERS}

  def say(self, message: str) -> None:
    """A progress line on the main process: what the run is doing while nothing else prints."""
    if self.is_main:
      print(message, flush=True)

  def run(self) -> dict:
    c = self.c
    start_time = time.time()
    self.say(f"{self.workdir}: loading the tokenizer ({c.data.vocab.kind}) ...")
    vocab = vocab_lib.load_vocabulary(c.data)
    self.say(f"tokenizer: {vocab.size} pieces; scanning the corpus {list(c.data.train_dirs)} ...")
    corpus = corpus_lib.scan_corpus(c.data, vocab)
    self.say(heldout.describe_corpus(c, corpus))
    model_cfg = config_lib.model_config(c, vocab.size)
    seq_len, batch_size, total_steps = c.data.seq_len, c.train.batch_size, c.train.steps
    counts = param_counts(model_cfg)
    flops_per_token = train_flops_per_token(model_cfg, seq_len)
    self.say(f"model {c.model.size}: {counts['total']:,} parameters ({counts['non_embedding']:,} non-embedding); "
             f"mesh {dict(self.mesh.shape)} on {jax.device_count()} {jax.devices()[0].platform} devices; "
             f"{total_steps:,} steps x {batch_size} x {seq_len} = {total_steps * batch_size * seq_len:,} tokens, "
             f"{total_steps * batch_size * seq_len * flops_per_token:.3g} training FLOPs")
    if self.is_main:
      resolved = {"config": c.to_dict(), "model": model_cfg.__dict__, "n_params": counts,
                  "flops_per_token": flops_per_token, "tokenizer": vocab.sha256, "vocab_path": vocab.path,
                  "mesh": dict(self.mesh.shape), "process_count": jax.process_count()}
      shards.write_json(self.workdir / "config.json", resolved, default=str)

    tx, schedule = make_optimizer(c.optimizer, total_steps)
    ss = sharded_setup(model_cfg, tx, self.mesh, c.seed)
    self.batch_sharding = ss.batch_sharding
    self.counter_sharding = NamedSharding(self.mesh, PartitionSpec(self.batch_sharding.spec[0]))
    replicated = NamedSharding(self.mesh, PartitionSpec())
    step_fn = make_train_step(ss.graphdef, tx, schedule, c.train.z_loss, c.train.microbatches)

    def step_with_counters(state, batch):
      state, metrics = step_fn(state, batch)
      return state, {**metrics, **{k: batch[k].sum() for k in COUNTERS}}

    batch_shardings = {k: self.counter_sharding if k in COUNTERS else self.batch_sharding
                       for k in MODEL_INPUTS + COUNTERS}
    train_step = jax.jit(step_with_counters, in_shardings=(ss.shardings, batch_shardings),
                         out_shardings=(ss.shardings, replicated), donate_argnums=0)
    eval_step = heldout.make_eval_step(ss.graphdef)

    cooldown_steps = int(round(c.train.conditioning_cooldown * total_steps))
    cooldown_from = total_steps - cooldown_steps if cooldown_steps else None

    def make_data_iter(cooled: bool):
      data_cfg = c.data
      if cooled:  # the same record stream, every critique dropped (the model also serves unconditioned)
        data_cfg = ml_collections.ConfigDict(c.data.to_dict())
        data_cfg.feedback.dropout = 1.0
      return pipeline.make_train_iterator(
          data_cfg, vocab, batch_size=batch_size // jax.process_count(), seed=c.seed,
          process_index=jax.process_index(), process_count=jax.process_count(), corpus=corpus)

    checkpointer = Checkpointer(self.workdir / "checkpoints", c.train.keep_checkpoints)
    writer = MetricsWriter(self.workdir, self.is_main, make_wandb_writer(c, self.workdir) if self.is_main else None)
    progress = {"doc_tokens": 0, "documents": 0, "critique_tokens": 0, "process_count": jax.process_count()}
    start_step = checkpointer.latest_step() or 0
    data_iter = make_data_iter(cooled=cooldown_from is not None and start_step >= cooldown_from)
    if start_step:
      # The data position is exact when the data-loading processes are as many as when it was saved.
      same_loaders = checkpointer.restore_progress(start_step)["process_count"] == jax.process_count()
      state, saved = checkpointer.restore(start_step, ss.abstract, data_iter if same_loaders else None)
      if not same_loaders:
        # Each process's saved position belongs to a record stride that no longer exists; carry the
        # position over by count instead (README: "Resuming on a different mesh").
        log.warning("data-loading processes changed %d -> %d: skipping %d batches per process",
                    saved["process_count"], jax.process_count(), start_step)
        for _ in range(start_step):
          next(data_iter)
      progress = {"critique_tokens": 0, **saved, "process_count": jax.process_count()}
      writer.drop_after(start_step)
      if self.is_main:
        print(f"resumed from step {start_step} of {self.workdir}", flush=True)
    else:
      if c.train.init_from:
        params = load_params(c.train.init_from, model_cfg, self.mesh)
        state = jax.jit(lambda p: init_state(p, tx, c.seed), out_shardings=ss.shardings)(params)
      else:
        state = ss.make_state()
      writer.write(0, {"bad_records": dict(corpus.bad_counts), "records_seen": corpus.records_seen,
                       "train_records": int(len(corpus.train_refs)), "heldout_records": len(corpus.heldout),
                       "init_from": c.train.init_from})

    eval_sets = heldout.make_eval_sets(c, vocab, self.positive_critique, corpus)
    to_device_eval = lambda batch: heldout.share_to_device(batch, self.batch_sharding)
    task_eval = None
    if self.task_evaluator_factory is not None and config_lib.eval_tasks(c):
      task_eval = self.task_evaluator_factory(c, vocab, ss.graphdef, self.mesh, self.positive_critique, corpus)

    peak = peak_flops_per_device(c.train.peak_flops_per_device) * jax.device_count()
    tokens_per_step = batch_size * seq_len
    clock = {"time": time.time(), "step": start_step}
    results = tasks = None

    def score_tasks(step: int) -> dict:
      scores = task_eval(state.params)
      writer.write(step, {"tasks": {k: v for k, v in scores.items() if v is not None}})
      if self.is_main:
        print(f"step {step:>6}/{total_steps} | tasks " + " | ".join(
            f"{k} {v:.3f}" for k, v in scores.items() if v is not None), flush=True)
      return scores

    def report(step: int, metrics) -> None:
      """Reads step `step`'s metrics (the device has moved on to the next step by now)."""
      values = {k: float(v) for k, v in jax.device_get(metrics).items()}
      if not math.isfinite(values["loss"]) or not math.isfinite(values["grad_norm"]):
        checkpointer.wait()
        raise FloatingPointError(
            f"non-finite loss {values['loss']} or gradient norm {values['grad_norm']} at step {step} (its batch "
            f"is the {step}th of the seed-{c.seed} record order; a restart from the last good checkpoint, step "
            f"{checkpointer.latest_step()} in {self.workdir / 'checkpoints'}, replays it)")
      progress["doc_tokens"] += int(values.pop("document_tokens"))
      progress["documents"] += int(values.pop("documents"))
      progress["critique_tokens"] += int(values.pop("critique_tokens"))
      if step % c.train.log_every and step != total_steps:
        return
      now = time.time()
      steps_per_s = (step - clock["step"]) / max(now - clock["time"], 1e-9)
      clock.update(time=now, step=step)
      tokens_per_s = steps_per_s * tokens_per_step
      mfu = tokens_per_s * flops_per_token / peak
      eta = (total_steps - step) / max(steps_per_s, 1e-9)
      values.update(tokens=step * tokens_per_step, doc_tokens=progress["doc_tokens"],
                    documents=progress["documents"], flops=float(step * tokens_per_step * flops_per_token),
                    tokens_per_s=tokens_per_s, mfu=mfu)
      writer.write(step, values)
      if self.is_main:
        print(f"step {step:>6}/{total_steps} | loss {values['loss']:.4f} | {tokens_per_s:>9,.0f} tok/s | "
              f"MFU {100 * mfu:5.1f}% | lr {values['learning_rate']:.2e} | ETA {_format_duration(eta)}",
              flush=True)

    triggers = SaveTriggers(c.train.checkpoint_minutes)
    serialize = distributed.overlapping_collectives_unsafe()
    pending = None
    preempted = False
    self.say(f"compiling the train step (step {start_step + 1} includes it) ...")
    with use_mesh(self.mesh):
      for step in range(start_step + 1, total_steps + 1):
        if step == cooldown_from:  # same position in the record stream, critiques dropped from here
          position = data_iter.get_state()
          data_iter = make_data_iter(cooled=True)
          data_iter.set_state(position)
        batch = self._to_device(next(data_iter))
        state, metrics = train_step(state, batch)   # dispatched; runs while we read step - 1
        if serialize:
          jax.block_until_ready(metrics)
        if pending is not None:
          report(*pending)
        pending = (step, metrics)
        if step == start_step + 1:  # first step compiles: time from the end of it
          report(*pending)
          pending = None
          clock.update(time=time.time(), step=step)
        at_eval = step % c.train.eval_every == 0 or step == total_steps
        preempted = triggers.preempted(step)
        at_checkpoint = (step % c.train.checkpoint_every == 0 or step == total_steps or preempted
                         or (step % c.train.log_every == 0 and triggers.clock_due()))
        if (at_eval or at_checkpoint) and pending is not None:
          report(*pending)  # the step's loss is known finite before anything is saved
          pending = None
        heldout_loss = None
        if at_eval and not preempted:
          results = heldout.evaluate_sets(eval_step, state.params, eval_sets, to_device_eval)
          heldout_loss = results["clean"]["all_domains"]["loss"]
          writer.write(step, {"heldout": results})
          if self.is_main:
            print(f"step {step:>6}/{total_steps} | held-out loss " + " | ".join(
                f"{name} {heldout.format_loss(r['all_domains']['loss'])}" for name, r in results.items()), flush=True)
          clock.update(time=time.time(), step=step)
        if task_eval is not None and not preempted and (
            step == total_steps or (c.eval.every and step % c.eval.every == 0)):
          tasks = score_tasks(step)
          clock.update(time=time.time(), step=step)
        if at_checkpoint:
          checkpointer.save(step, state, data_iter, dict(progress), heldout_loss)
          triggers.saved()
        if preempted:
          log.warning("preemption notice: saved step %d, exiting", step)
          break
      if results is None and not preempted:  # resumed from the final checkpoint: evaluate it
        results = heldout.evaluate_sets(eval_step, state.params, eval_sets, to_device_eval)
        if task_eval is not None:
          tasks = score_tasks(total_steps)
    checkpointer.wait()
    checkpointer.close()
    if preempted:
      writer.close()
      return {"preempted_at": step}

    tokens = total_steps * tokens_per_step
    summary = {
        "method": c.method, "seed": c.seed, "model": c.model.size,
        "n_params": counts["total"], "n_params_non_embedding": counts["non_embedding"],
        "tokens": tokens, "doc_tokens": progress["doc_tokens"], "documents": progress["documents"],
        "feedback_token_share": progress["critique_tokens"] / tokens,  # critique tokens / all tokens trained on
        "flops": float(tokens * flops_per_token), "flops_per_token": flops_per_token,
        "annotation_flops": float(c.annotation_flops), "tokenizer": vocab.sha256,
        "steps": total_steps, "batch_size": batch_size, "seq_len": seq_len,
        "wall_seconds": time.time() - start_time, "bad_records": dict(corpus.bad_counts),
        "condition": heldout.eval_condition(c),  # the condition eval.loss was scored under
        "eval": {
            "loss": results["clean"]["all_domains"]["loss"],
            "bits_per_byte": results["clean"]["all_domains"]["bits_per_byte"],
            "loss_all": results["all"]["all_domains"]["loss"],
            "loss_unconditioned": results["unconditioned"]["all_domains"]["loss"],
            "loss_true_critique": results["true_critique"]["all_domains"]["loss"],
            "bits_per_byte_unconditioned": results["unconditioned"]["all_domains"]["bits_per_byte"],
            "math_em": None, "code_pass1": None, **(tasks or {}),
            "per_domain": {name: {d: r["loss"] for d, r in by_domain.items()} for name, by_domain in results.items()},
        },
    }
    if c.budget:
      summary["budget"] = c.budget
    if self.is_main:
      shards.write_json(self.workdir / SUMMARY_FILE, summary)  # atomic: its presence means "finished"
    writer.close(summary)
    return summary


def train_and_evaluate(c: ml_collections.ConfigDict, workdir: epath.PathLike,
                       positive_critique: Callable[[str], str], task_evaluator_factory=None) -> dict:
  """Trains (or resumes) the run `c` in `workdir`; returns the summary.json contents.

  `task_evaluator_factory(c, vocab, graphdef, mesh, positive_critique, corpus)` returns a callable
  `params -> {score name: value}` (ixt_jax.evaluate.tasks), run at the end and every `eval.every`
  steps; without it the task scores stay null.
  """
  runner = _Runner(c, workdir, positive_critique, task_evaluator_factory)
  try:
    return runner.run()
  finally:
    if runner.distributed:  # leave the coordination service together, or exit hangs on its barrier
      jax.distributed.shutdown()
