"""The seqio Task yields the Grain pipeline's token ids, element for element."""

import numpy as np
import pytest

from ixt_jax.data import config
from ixt_jax.data import pipeline
from ixt_jax.data import synthetic
from conftest import SYNTHETIC_RECORDS
from ixt_jax.data import vocab as vocab_lib

RECORDS = SYNTHETIC_RECORDS  # the sample the `vocab` fixture (conftest.py) trains on


@pytest.mark.parametrize("placement,repeat", [("prefix", "first"), ("prefix", "every"), ("suffix", "first"),
                                              ("none", "first")])
def test_seqio_task_gives_the_grain_ids(placement, repeat, vocab, tmp_path):
  seqio_task = pytest.importorskip("ixt_jax.data.seqio_task")
  with_prompts = [dict(r, prompt=f"Question {i}?") if i % 4 == 0 else r for i, r in enumerate(RECORDS[:90])]
  cfg = config.get_data_config()
  cfg.train_dirs = [str(synthetic.write_corpus(tmp_path, with_prompts))]
  cfg.seq_len = 96  # long documents get chunked
  cfg.quarantine_dir = str(tmp_path / "quarantine")
  cfg.feedback.placement = placement
  cfg.feedback.repeat = repeat
  cfg.feedback.dropout = 0.3
  corpus = pipeline.scan_corpus(cfg, vocab)
  grain_elements = list(pipeline.make_train_elements(cfg, vocab, seed=4, corpus=corpus, num_epochs=1))
  task = seqio_task.register_seqio_task(f"ixt_test_{placement}_{repeat}", cfg, vocab, seed=4, corpus=corpus)
  seqio_elements = list(task.get_dataset(None, split="train", shuffle=False).as_numpy_iterator())
  assert len(seqio_elements) == len(grain_elements) > len(corpus.train_refs)
  for g, s in zip(grain_elements, seqio_elements):
    np.testing.assert_array_equal(g["tokens"], s["targets"])
    np.testing.assert_array_equal(g["loss_weights"], s["loss_weights"])


def test_seqio_vocabularies_match_ours(vocab):
  pytest.importorskip("seqio")
  text = "def f(x):\n\treturn  x  # ünïcode ✓\n\n<critique>ok</critique>"
  for ours in (vocab, vocab_lib.ByteVocabulary()):
    theirs = ours.to_seqio()
    plain = text.split("<critique>")[0]  # seqio's byte vocabulary knows no special tokens
    assert list(theirs.encode(plain)) == ours.encode(plain)
    assert list(theirs.encode_tf(plain).numpy()) == ours.encode(plain)
  assert list(vocab.to_seqio().encode_tf(text).numpy()) == vocab.encode(text)
  assert vocab.to_seqio().vocab_size == vocab.size
