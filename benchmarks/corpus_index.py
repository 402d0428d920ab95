"""What the corpus index saves at launch: a full scan next to reading the saved one.

Writes `--records` synthetic annotated records (8 shards), then times, in this process: a scan with
the index off (what every launch paid before), the first indexed scan (scan + save), and a later
launch's load. Launch-to-first-step shrinks by the difference (the rest of a launch, tokenizer and
compilation, is unchanged).

  python benchmarks/corpus_index.py [--records=1000000] [--json=PATH]
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ixt_jax.data import config as data_config  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.data import corpus as corpus_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.data import synthetic  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.data import vocab as vocab_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

flags.DEFINE_integer("records", 1_000_000, "synthetic annotated records in the corpus")
flags.DEFINE_string("json", "", "also write the figures here")
FLAGS = flags.FLAGS


def _timed(fn):
  start = time.perf_counter()
  result = fn()
  return result, time.perf_counter() - start


def main(_):
  with tempfile.TemporaryDirectory(prefix="ixt-index-bench-") as work:
    _, written = _timed(lambda: synthetic.write_corpus(
        os.path.join(work, "corpus"), synthetic.synthetic_records(FLAGS.records), num_shards=8))
    cfg = data_config.get_data_config()
    cfg.train_dirs, cfg.quarantine_dir = [os.path.join(work, "corpus")], os.path.join(work, "quarantine")
    vocab = vocab_lib.ByteVocabulary()
    cfg.index = False
    corpus, cold = _timed(lambda: corpus_lib.scan_corpus(cfg, vocab))
    cfg.index = True
    _, first = _timed(lambda: corpus_lib.scan_corpus(cfg, vocab))
    _, warm = _timed(lambda: corpus_lib.scan_corpus(cfg, vocab))
  n = corpus.records_seen
  print(f"{n:,} records ({len(corpus.train_refs):,} training, {len(corpus.heldout):,} held out), written in "
        f"{written:.1f}s")
  print(f"  scan, no index (every launch before):  {cold:8.2f} s  {n / cold:>10,.0f} records/s")
  print(f"  first launch (scan + save the index):  {first:8.2f} s")
  print(f"  later launches (read the index):       {warm:8.2f} s  {cold / warm:6.1f}x faster")
  if FLAGS.json:
    with open(FLAGS.json, "w") as f:
      json.dump({"records": n, "scan_s": cold, "first_indexed_s": first, "indexed_s": warm}, f, indent=2)


if __name__ == "__main__":
  app.run(main)
