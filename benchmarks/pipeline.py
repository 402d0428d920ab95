"""Tokens/s of the Grain data pipeline next to a seqio/tf.data pipeline and a train step.

All three run in this process on the same records: the Grain pipeline (in-process, 1 and 2 worker
processes), the equivalent seqio Task (same formatting, SentencePiece via tensorflow-text, seqio
packing to the row length), and the forward+backward step of the quickstart model
(`benchmarks.train_step.measure_tokens_per_s`). Tokens are row tokens (B x T, padding included),
which is what a train step consumes.

  python benchmarks/pipeline.py [--corpus_dir=DIR] [--records=6000] [--seconds=8] [--json=PATH]
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ixt_jax.data import config  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.data import pipeline  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.data import synthetic  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.data import vocab as vocab_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

try:  # defines --batch, --seq_len and --json, which mean the same here
  from benchmarks import train_step  # pylint: disable=g-import-not-at-top,wrong-import-position
  measure_train_tokens_per_s = train_step.measure_tokens_per_s
except (ImportError, AttributeError) as missing:
  measure_train_tokens_per_s = None
  train_step_missing = f"benchmarks.train_step.measure_tokens_per_s is unavailable ({missing})"

FLAGS = flags.FLAGS
if "batch" not in FLAGS:
  flags.DEFINE_integer("batch", 8, "rows per batch")
  flags.DEFINE_integer("seq_len", 256, "row length")
  flags.DEFINE_string("json", "", "also write the figures here")
flags.DEFINE_string("corpus_dir", "", "annotated shards to read; default: synthetic records")
flags.DEFINE_integer("records", 6000, "synthetic records to write when --corpus_dir is unset")
flags.DEFINE_integer("tokenizer_vocab_size", 2048, "SentencePiece vocabulary size")
flags.DEFINE_float("seconds", 8.0, "time each pipeline runs for (after its first batch)")
flags.DEFINE_string("train_size", "1m", "the quickstart model's ladder size")


def _timed_tokens_per_s(batches) -> float:
  """Row tokens per second over `--seconds`, after the first batch (startup) is out of the way."""
  tokens_per_batch = next(batches)["tokens"].size
  count = 0
  start = time.perf_counter()
  while time.perf_counter() - start < FLAGS.seconds:
    next(batches)
    count += 1
  return count * tokens_per_batch / (time.perf_counter() - start)


def grain_tokens_per_s(data_cfg, vocab, corpus, workers: int) -> float:
  data_cfg = data_cfg.copy_and_resolve_references()
  data_cfg.worker_count = workers
  it = pipeline.make_train_iterator(data_cfg, vocab, batch_size=FLAGS.batch, seed=0, corpus=corpus)
  try:
    return _timed_tokens_per_s(it)
  finally:
    it.close()


def seqio_tokens_per_s(data_cfg, vocab, corpus) -> float:
  import seqio  # pylint: disable=g-import-not-at-top
  from ixt_jax.data import seqio_task  # pylint: disable=g-import-not-at-top
  task = seqio_task.register_seqio_task("ixt_benchmark", data_cfg, vocab, seed=0, corpus=corpus,
                                        num_epochs=1000)
  lengths = {"targets": FLAGS.seq_len, "loss_weights": FLAGS.seq_len}
  ds = task.get_dataset(lengths, split="train", shuffle=False)
  ds = seqio.utils.trim_and_pack_dataset(ds, lengths).batch(FLAGS.batch, drop_remainder=True)
  batches = ds.prefetch(2).as_numpy_iterator()
  return _timed_tokens_per_s({"tokens": b["targets"]} for b in batches)


def main(_):
  with tempfile.TemporaryDirectory(prefix="ixt-pipeline-bench-") as work:
    run(work)


def run(work: str):
  data_cfg = config.get_data_config()
  data_cfg.train_dirs = [FLAGS.corpus_dir or str(synthetic.write_corpus(
      os.path.join(work, "corpus"), synthetic.synthetic_records(FLAGS.records), num_shards=4))]
  data_cfg.seq_len = FLAGS.seq_len
  data_cfg.vocab.size = FLAGS.tokenizer_vocab_size
  data_cfg.vocab.cache_dir = os.path.join(work, "vocab")
  data_cfg.quarantine_dir = os.path.join(work, "quarantine")
  start = time.perf_counter()
  vocab = vocab_lib.load_vocabulary(data_cfg)
  trained = time.perf_counter() - start
  corpus = pipeline.scan_corpus(data_cfg, vocab)
  scanned = time.perf_counter() - start - trained
  print(f"corpus: {data_cfg.train_dirs[0]}: {len(corpus.train_refs)} training records; vocabulary "
        f"({vocab.size} pieces) trained in {trained:.1f}s, corpus scanned in {scanned:.1f}s")

  grain_figures = {str(w): grain_tokens_per_s(data_cfg, vocab, corpus, w) for w in (0, 1, 2)}
  seqio_figure = seqio_tokens_per_s(data_cfg, vocab, corpus)
  if measure_train_tokens_per_s:
    train_figure = measure_train_tokens_per_s(FLAGS.train_size, FLAGS.batch, FLAGS.seq_len)
  else:
    train_figure = None
    print(f"train step: {train_step_missing}")

  print(f"\nrow tokens/s at batch {FLAGS.batch} x {FLAGS.seq_len} on {os.cpu_count()} CPU cores")
  labels = {"0": "grain, in-process", "1": "grain, 1 worker process", "2": "grain, 2 worker processes"}
  rows = [(labels[w], v) for w, v in grain_figures.items()]
  rows += [("seqio/tf.data (same records and formatting)", seqio_figure)]
  if train_figure:
    rows += [(f"train step, model {FLAGS.train_size} (consumption)", train_figure)]
  for name, value in rows:
    ratios = f"{value / train_figure:7.1f}x train" if train_figure else ""
    print(f"  {name:<48} {value:>12,.0f} {ratios}")
  best = max(grain_figures["1"], grain_figures["2"])
  print(f"grain (best of 1, 2 workers) / seqio: {best / seqio_figure:.2f}x")
  if FLAGS.json:
    with open(FLAGS.json, "w") as f:
      json.dump({"pipeline_tokens_per_s": {k: grain_figures[k] for k in ("1", "2")},
                 "pipeline_in_process_tokens_per_s": grain_figures["0"],
                 "train_tokens_per_s": train_figure, "seqio_tokens_per_s": seqio_figure}, f, indent=2)


if __name__ == "__main__":
  app.run(main)
