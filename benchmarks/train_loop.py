"""Tokens/s of the whole training loop next to its bare train step, at the same shape, in one run.

The loop is `ixt_jax.train.loop.train_and_evaluate` on a corpus generated on the spot: the Grain
pipeline (read, format, tokenize, pack), the host's per-step work, the metrics (read one step late,
written to metrics.jsonl and TensorBoard) and the checkpoints (orbax, data position included) all
run as in a real run. Its figure is the loop's own, from metrics.jsonl: tokens over the time between
the first step (which compiled) and the last, the checkpoints' time included. The held-out
evaluation runs once, after the last step, so no evaluation time is in either figure.

The bare step is the very step the loop jits (`loop.set_up(...).train_step`, same model, mesh and
shardings) on one batch of the same pipeline already on the device, dispatched back to back. Each
loop run is bracketed by bare-step timings (step, loop, step, loop, ..., step), and each run's ratio
is to the mean of the two timings around it, so a load change on a shared machine mostly cancels;
the median ratio is reported (the issue's target: the loop loses at most 5%).

  python benchmarks/train_loop.py [--size=1m] [--batch=16] [--seq_len=256] [--steps=100] [--json=PATH]
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from absl import app, flags, logging

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("EPATH_USE_TF", "false")

import jax  # pylint: disable=g-import-not-at-top,wrong-import-position
from etils import epath  # pylint: disable=g-import-not-at-top,wrong-import-position

from ixt_jax import rundir  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.data import pipeline, synthetic  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.feedback import positive_critique  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.parallel.sharding import use_mesh  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.train import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.train import loop  # pylint: disable=g-import-not-at-top,wrong-import-position

FLAGS = flags.FLAGS
flags.DEFINE_string("size", "1m", "ladder size of the model")
flags.DEFINE_integer("batch", 16, "global rows per step")
flags.DEFINE_integer("seq_len", 256, "tokens per row")
flags.DEFINE_integer("steps", 100, "train steps of each loop run (and of each bare-step timing)")
flags.DEFINE_integer("log_every", 10, "the loop's logging interval")
flags.DEFINE_integer("checkpoint_every", 50, "the loop's checkpoint interval")
flags.DEFINE_integer("records", 3000, "records of the generated corpus")
flags.DEFINE_enum("vocab", "sentencepiece", ["sentencepiece", "byte"], "tokenizer kind")
flags.DEFINE_integer("worker_count", 0, "Grain worker processes of the loop's pipeline")
flags.DEFINE_integer("rounds", 3, "loop runs, each between two bare-step timings; the median ratio is reported")
flags.DEFINE_string("json", "", "also write the figures here")


def run_config(corpus: str, work: str):
  """The quickstart's config (its cadence scaled to --steps), evaluation only at the end."""
  c = config_lib.get_run_config()
  c.model.size = FLAGS.size
  c.train.batch_size, c.data.seq_len, c.train.steps = FLAGS.batch, FLAGS.seq_len, FLAGS.steps
  c.train.log_every, c.train.checkpoint_every = FLAGS.log_every, FLAGS.checkpoint_every
  c.train.eval_every = FLAGS.steps  # evaluation is not training speed: once, after the last step
  c.train.eval_batch_size = FLAGS.batch
  c.optimizer.warmup_steps = min(30, FLAGS.steps // 10)
  c.eval.tasks = ""
  c.data.train_dirs = [corpus]
  c.data.vocab.kind = FLAGS.vocab
  c.data.vocab.cache_dir = os.path.join(work, "vocab")
  c.data.worker_count = FLAGS.worker_count
  return c


def loop_tokens_per_s(c, workdir: str) -> float:
  """One run of the loop; its tokens/s from the first (compiled) step to the last, from metrics.jsonl."""
  loop.train_and_evaluate(c, workdir, positive_critique)
  tokens_per_step = c.train.batch_size * c.data.seq_len
  # Each line's rate covers the steps since the previous line; the clock starts after step 1.
  previous, seconds = 1, 0.0
  for line in rundir.read_metrics(workdir):
    if "tokens_per_s" in line and line["step"] > 1:
      seconds += (line["step"] - previous) * tokens_per_step / line["tokens_per_s"]
      previous = line["step"]
  if previous != c.train.steps:
    raise RuntimeError(f"{workdir}: metrics.jsonl ends at step {previous}, not {c.train.steps}")
  return (previous - 1) * tokens_per_step / seconds


class BareStep:
  """The loop's jitted step on one device-resident batch of the loop's pipeline."""

  def __init__(self, c, workdir: str):
    c = config_lib.resolve_run_config(c, workdir)
    self.run = loop.set_up(c, epath.Path(workdir), lambda message: None)
    iterator = pipeline.make_train_iterator(c.data, self.run.vocab, batch_size=c.train.batch_size, seed=c.seed,
                                            corpus=self.run.corpus)
    self.batch = self.run.ss.to_device(next(iterator))
    self.state = self.run.ss.make_state()
    self.tokens_per_step = c.train.batch_size * c.data.seq_len
    self.tokens_per_s(2)  # compile and warm up

  def tokens_per_s(self, steps: int) -> float:
    with use_mesh(self.run.mesh):
      start = time.perf_counter()
      for _ in range(steps):
        self.state, metrics = self.run.train_step(self.state, self.batch)
      jax.block_until_ready(metrics)
      return steps * self.tokens_per_step / (time.perf_counter() - start)


def main(_):
  logging.set_verbosity(logging.WARNING)  # orbax logs every save at INFO
  with tempfile.TemporaryDirectory(prefix="ixt-loop-bench-") as work:
    corpus = str(synthetic.write_corpus(os.path.join(work, "corpus"), synthetic.synthetic_records(FLAGS.records)))
    c = run_config(corpus, work)
    bare = BareStep(c, os.path.join(work, "bare"))
    step_figures, loop_figures, ratios = [bare.tokens_per_s(FLAGS.steps)], [], []
    for r in range(FLAGS.rounds):
      loop_figures.append(loop_tokens_per_s(c, os.path.join(work, f"loop-{r}")))
      step_figures.append(bare.tokens_per_s(FLAGS.steps))
      ratios.append(loop_figures[-1] / ((step_figures[-2] + step_figures[-1]) / 2))
      print(f"round {r + 1}: bare step {step_figures[-2]:,.0f} | loop {loop_figures[-1]:,.0f} | bare step "
            f"{step_figures[-1]:,.0f} tokens/s: loop / step {ratios[-1]:.3f}", flush=True)
  median = lambda xs: sorted(xs)[len(xs) // 2]
  print(f"\nmodel {FLAGS.size}, batch {FLAGS.batch} x {FLAGS.seq_len}, {FLAGS.steps} steps a run, tokenizer "
        f"{FLAGS.vocab}, {FLAGS.worker_count} Grain workers, checkpoint every {FLAGS.checkpoint_every}, log every "
        f"{FLAGS.log_every}; {jax.device_count()} {jax.devices()[0].platform} devices, {os.cpu_count()} cores")
  print(f"loop {median(loop_figures):,.0f} tokens/s, bare step {median(step_figures):,.0f} tokens/s (medians); "
        f"loop / step {median(ratios):.3f} (median of the rounds): the loop loses {100 * (1 - median(ratios)):.1f}%")
  if FLAGS.json:
    with open(FLAGS.json, "w") as f:
      json.dump({"loop_tokens_per_s": median(loop_figures), "step_tokens_per_s": median(step_figures),
                 "loop_to_step": median(ratios), "loop_rounds": loop_figures, "step_rounds": step_figures,
                 "round_ratios": ratios}, f, indent=2)


if __name__ == "__main__":
  app.run(main)
