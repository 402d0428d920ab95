"""The corpus scan is saved once and read at later launches; any change to the shards or settings rescans."""
import dataclasses
import os

import numpy as np
import pytest

from ixt_jax.data import config as data_config
from ixt_jax.data import corpus as corpus_lib
from ixt_jax.data import shards
from ixt_jax.data import synthetic
from ixt_jax.data import vocab as vocab_lib

VOCAB = vocab_lib.ByteVocabulary()


def _config(tmp_path, records):
  synthetic.write_corpus(tmp_path / "corpus", records, num_shards=2)
  cfg = data_config.get_data_config()
  cfg.train_dirs, cfg.seq_len = [str(tmp_path / "corpus")], 256
  cfg.quarantine_dir = str(tmp_path / "run-a" / "quarantine")
  return cfg


def _assert_same(a, b):
  for field in dataclasses.fields(a):
    x, y = getattr(a, field.name), getattr(b, field.name)
    if isinstance(x, np.ndarray):
      np.testing.assert_array_equal(x, y)
    elif field.name != "quarantine_path":
      assert x == y, field.name


def test_a_second_scan_reads_the_index_and_finds_the_same_corpus(tmp_path, monkeypatch):
  records = synthetic.synthetic_records(300) + [{"id": "bad", "text": "x"}]  # one refused: no domain
  cfg = _config(tmp_path, records)
  first = corpus_lib.scan_corpus(cfg, VOCAB)
  assert first.bad_counts == {"missing_field": 1}
  monkeypatch.setattr(corpus_lib, "_scan", lambda *a: pytest.fail("scanned again"))
  cfg.quarantine_dir = str(tmp_path / "run-b" / "quarantine")  # another run on the same data
  cfg.worker_count = 2  # how batches are made does not change the scan
  second = corpus_lib.scan_corpus(cfg, VOCAB)
  _assert_same(first, second)
  assert second.quarantine_path.startswith(str(tmp_path / "run-b"))  # each run keeps its quarantine file
  assert open(second.quarantine_path).read() == open(first.quarantine_path).read()
  assert not [p for p in (tmp_path / "corpus").rglob("*.jsonl") if ".ixt_index" in str(p)]  # no record glob finds it


@pytest.mark.parametrize("change", ["settings", "shard"])
def test_a_change_to_the_settings_or_a_shard_scans_again(tmp_path, change):
  cfg = _config(tmp_path, synthetic.synthetic_records(200))
  first = corpus_lib.scan_corpus(cfg, VOCAB)
  if change == "settings":
    cfg.heldout.fraction = 0.2
  else:  # the same size and (to the second) the same time: a rewrite must still be seen
    path = shards.list_shards(cfg.train_dirs[0])[0]
    lines = path.read_bytes().splitlines(keepends=True)
    stat = os.stat(path)
    path.write_bytes(b"".join(lines[1:] + lines[:1]))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
  second = corpus_lib.scan_corpus(cfg, VOCAB)
  assert len(second.heldout) != len(first.heldout) or not np.array_equal(second.train_refs, first.train_refs)


def test_the_index_can_be_turned_off(tmp_path):
  cfg = _config(tmp_path, synthetic.synthetic_records(50))
  cfg.index = False
  corpus_lib.scan_corpus(cfg, VOCAB)
  assert not (tmp_path / "corpus" / ".ixt_index").exists()
