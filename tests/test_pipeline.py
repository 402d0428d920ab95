"""The Grain pipeline: batch contract, loss weights, chunking, packing, order, resume, sharding."""
import itertools
import json
import subprocess
import sys

import numpy as np
import pytest

from ixt_jax.data import config
from ixt_jax.data import examples
from ixt_jax.data import formatting
from ixt_jax.data import heldout
from ixt_jax.data import pipeline
from ixt_jax.data import records
from ixt_jax.data import synthetic
from conftest import SYNTHETIC_RECORDS
from train_utils import assert_iterator_resumes_exactly
from ixt_jax.data import vocab as vocab_lib

SEQ_LEN = 128
RECORDS = SYNTHETIC_RECORDS  # the sample the `vocab` fixture (conftest.py) trains on


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
  return str(synthetic.write_corpus(tmp_path_factory.mktemp("corpus"), RECORDS[:240], num_shards=3))


def make_config(corpus_dir, **overrides):
  cfg = config.get_data_config()
  cfg.train_dirs = [corpus_dir]
  cfg.seq_len = SEQ_LEN
  cfg.heldout.fraction = 0.1
  cfg.pack_bins = 4
  cfg.tokenize_group = 8
  cfg.quarantine_dir = corpus_dir + "-quarantine"
  for key, value in overrides.items():
    node = cfg
    *parents, leaf = key.split(".")
    for p in parents:
      node = node[p]
    node[leaf] = value
  return cfg


def take(cfg, vocab, n, **kwargs):
  kwargs = {"batch_size": 2, "seed": 0, **kwargs}
  return list(itertools.islice(pipeline.make_train_iterator(cfg, vocab, **kwargs), n))


def segments(batch):
  """(tokens, weights) of every packed segment, row by row."""
  for tokens, weights, seg in zip(batch["tokens"], batch["loss_weights"], batch["segment_ids"]):
    for s in range(1, seg.max() + 1):
      yield tokens[seg == s], weights[seg == s]


def test_batch_contract(corpus_dir, vocab):
  for batch in take(make_config(corpus_dir), vocab, 4, batch_size=3):
    assert {k: (v.dtype, v.shape) for k, v in batch.items()} == {
        "tokens": (np.int32, (3, SEQ_LEN)), "loss_weights": (np.float32, (3, SEQ_LEN)),
        "segment_ids": (np.int32, (3, SEQ_LEN)), "positions": (np.int32, (3, SEQ_LEN)),
        "document_tokens": (np.int32, (3,)), "documents": (np.int32, (3,)),
        "document_bytes": (np.int32, (3,)), "critique_tokens": (np.int32, (3,)),
        "source_documents": (np.int32, (3, 1)), "source_tokens": (np.int32, (3, 1))}
    padding = batch["segment_ids"] == 0
    assert (batch["tokens"][padding] == 0).all() and (batch["loss_weights"][padding] == 0).all()
    assert (batch["loss_weights"][batch["positions"] == 0] == 0).all()  # every target has a context
    for seg, pos in zip(batch["segment_ids"], batch["positions"]):
      used = seg[seg > 0]
      assert (np.diff(used) >= 0).all() and set(used) == set(range(1, seg.max() + 1))
      assert (seg[len(used):] == 0).all()  # padding only at the end
      for s in range(1, seg.max() + 1):
        np.testing.assert_array_equal(pos[seg == s], np.arange((seg == s).sum()))


def test_default_weights_zero_on_critique_one_on_document(corpus_dir, vocab):
  close = vocab.special_ids["</critique>"]
  batches = take(make_config(corpus_dir, **{"feedback.repeat": "every"}), vocab, 6)
  critique_tokens = 0
  for tokens, weights in itertools.chain.from_iterable(segments(b) for b in batches):
    assert tokens[0] == vocab.special_ids["<critique>"]  # every chunk carries its critique
    end = int(np.argmax(tokens == close)) + 1
    assert tokens[end - 1] == close and end < len(tokens)  # ... and at least one document token
    assert (weights[:end] == 0).all() and (weights[end:] == 1).all()
    critique_tokens += end
  document_tokens = sum(int((b["loss_weights"] > 0).sum()) for b in batches)
  assert sum(int(b["document_tokens"].sum()) for b in batches) == document_tokens
  assert sum(int(b["critique_tokens"].sum()) for b in batches) == critique_tokens


def test_placement_none_has_no_critique_tokens(corpus_dir, vocab):
  for batch in take(make_config(corpus_dir, **{"feedback.placement": "none"}), vocab, 6):
    assert not np.isin(batch["tokens"], list(vocab.special_ids.values())).any()
    starts = batch["positions"] == 0
    np.testing.assert_array_equal(batch["tokens"][starts & (batch["segment_ids"] > 0)], vocab.eos_id)
    body = (batch["segment_ids"] > 0) & ~starts
    np.testing.assert_array_equal(batch["loss_weights"], body.astype(np.float32))
    np.testing.assert_array_equal(batch["document_tokens"], body.sum(axis=1))


def test_suffix_placement_trains_on_the_critique(corpus_dir, vocab):
  cfg = make_config(corpus_dir, **{"feedback.placement": "suffix", "feedback.repeat": "every"})
  for tokens, weights in itertools.chain.from_iterable(segments(b) for b in take(cfg, vocab, 4)):
    assert tokens[0] == vocab.eos_id and tokens[-1] == vocab.special_ids["</critique>"]
    start = int(np.argmax(tokens == vocab.special_ids["<critique>"]))
    assert start > 1 and weights[0] == 0 and (weights[1:] == 1).all()  # contract: 1 on a suffix


def test_quality_tokens_replace_the_critique(corpus_dir, vocab):
  cfg = make_config(corpus_dir, **{"feedback.kind": "quality_token", "feedback.repeat": "every"})
  quality_ids = [vocab.special_ids[t] for t in vocab_lib.QUALITY_TOKENS]
  for tokens, weights in itertools.chain.from_iterable(segments(b) for b in take(cfg, vocab, 3)):
    assert tokens[0] in quality_ids and weights[0] == 0 and (weights[1:] == 1).all()


def test_dropout_and_annotated_fraction():
  record_list = [records.Record(f"r{i}", "text", "code", "fine", 0.5) for i in range(4000)]
  cfg = config.get_data_config()
  cfg.feedback.dropout = 0.25
  cfg.feedback.annotated_fraction = 0.6
  settings = formatting.FeedbackSettings.from_config(cfg)
  shown = {e: np.array([bool(formatting.format_for_training(r, settings, seed=3, epoch=e).critique)
                        for r in record_list]) for e in (0, 1)}
  for e in (0, 1):
    assert abs(shown[e].mean() - 0.6 * 0.75) < 0.03
  assert (shown[0] != shown[1]).any()  # dropout is redrawn every epoch ...
  annotated = np.array([formatting.unit_hash(3, "annotated", r.id) < 0.6 for r in record_list])
  assert not (shown[0] | shown[1])[~annotated].any()  # ... the unannotated records stay so
  again = [bool(formatting.format_for_training(r, settings, seed=3, epoch=0).critique) for r in record_list]
  np.testing.assert_array_equal(again, shown[0])


def _long_document(critique_every_chunk: bool) -> tuple[str, formatting.Formatted]:
  text = synthetic._material()["code"][0] * 3
  return text, formatting.Formatted(critique="<critique>Too long.</critique>", critique_after=False, prompt=None,
                                    text=text, document_weight=1.0, critique_weight=0.0, prompt_weight=0.0,
                                    critique_every_chunk=critique_every_chunk)


def test_long_documents_are_chunked_with_the_critique_repeated(vocab):
  text, item = _long_document(critique_every_chunk=True)
  critique = vocab.encode(item.critique)
  elements = examples.tokenize([item], vocab, SEQ_LEN)
  assert len(elements) > 3
  body = []
  for n, element in enumerate(elements):
    assert len(element["tokens"]) <= SEQ_LEN
    assert element["tokens"][:len(critique)].tolist() == critique
    body += element["tokens"][len(critique):].tolist()
    assert element["documents"] == (n == 0)
    assert element["document_tokens"] == len(element["tokens"]) - len(critique)
  assert body == vocab.encode(text) + [vocab.eos_id]
  assert sum(e["document_bytes"] for e in elements) == len(text.encode())
  assert [e["critique_tokens"] for e in elements] == [len(critique)] * len(elements)


def test_repeat_first_shows_a_long_documents_critique_once(vocab):
  text, item = _long_document(critique_every_chunk=False)
  critique = vocab.encode(item.critique)
  elements = examples.tokenize([item], vocab, SEQ_LEN)
  assert len(elements) > 3 and elements[0]["tokens"][:len(critique)].tolist() == critique
  body = elements[0]["tokens"][len(critique):].tolist()
  for element in elements[1:]:  # later chunks open like an uncritiqued document
    assert element["tokens"][0] == vocab.eos_id and element["loss_weights"][0] == 0
    body += element["tokens"][1:].tolist()
  assert body == vocab.encode(text) + [vocab.eos_id]
  assert [e["critique_tokens"] for e in elements] == [len(critique)] + [0] * (len(elements) - 1)


def test_prompt_records_weight_only_the_response(vocab):
  item = formatting.Formatted(critique="", critique_after=False, prompt="Add 2 and 2.", text="4",
                              document_weight=1.0, critique_weight=0.0, prompt_weight=0.0)
  (element,) = examples.tokenize([item], vocab, SEQ_LEN)
  prompt = [vocab.special_ids["<prompt>"], *vocab.encode("Add 2 and 2."), vocab.special_ids["<response>"]]
  answer = vocab.encode("4") + [vocab.eos_id]
  assert element["tokens"].tolist() == [vocab.eos_id] + prompt + answer
  assert element["loss_weights"].tolist() == [0.0] * (1 + len(prompt)) + [1.0] * len(answer)
  assert element["document_tokens"] == len(prompt) + len(answer)


def test_a_response_keeps_the_end_of_its_prompt_in_its_chunk(vocab):
  """An SFT record longer than a row: the prompt loses its start, never the response its prompt."""
  prompt_text = " ".join(f"word{i}" for i in range(200))
  item = formatting.Formatted(critique="", critique_after=False, prompt=prompt_text, text="the answer",
                              document_weight=1.0, critique_weight=0.0, prompt_weight=0.0)
  (element,) = examples.tokenize([item], vocab, SEQ_LEN)
  answer = vocab.encode("the answer") + [vocab.eos_id]
  tokens = element["tokens"].tolist()
  assert len(tokens) == SEQ_LEN and tokens[1] == vocab.special_ids["<prompt>"]
  assert tokens[-len(answer):] == answer and tokens[-len(answer) - 1] == vocab.special_ids["<response>"]
  prompt_end = vocab.encode(prompt_text)[-(SEQ_LEN - len(answer) - 3):]
  assert tokens[2:-len(answer) - 1] == prompt_end
  assert element["loss_weights"].sum() == len(answer)


def test_resumed_iterator_gives_identical_batches(corpus_dir, vocab):
  assert_iterator_resumes_exactly(make_config(corpus_dir), vocab, seed=5, consumed=3)


def test_iterator_checkpoints_through_orbax(corpus_dir, vocab, tmp_path):
  ocp = pytest.importorskip("orbax.checkpoint")
  import grain  # pylint: disable=g-import-not-at-top
  cfg = make_config(corpus_dir)
  interrupted = pipeline.make_train_iterator(cfg, vocab, batch_size=2, seed=2)
  next(interrupted)
  with ocp.CheckpointManager(tmp_path / "checkpoints") as manager:
    manager.save(1, args=ocp.args.Composite(data=grain.checkpoint.CheckpointSave(interrupted)))
    manager.wait_until_finished()
    resumed = pipeline.make_train_iterator(cfg, vocab, batch_size=2, seed=2)
    manager.restore(1, args=ocp.args.Composite(data=grain.checkpoint.CheckpointRestore(resumed)))
  np.testing.assert_array_equal(next(interrupted)["tokens"], next(resumed)["tokens"])


def test_process_shares_are_disjoint_and_complete(corpus_dir, vocab):
  n = 50
  shares = [list(pipeline.record_order(n, seed=1, process_index=p, process_count=3, num_epochs=1))
            for p in range(3)]
  rows = [row for share in shares for _, row in share]
  assert sorted(rows) == list(range(n))
  second_epoch = list(pipeline.record_order(n, seed=1, num_epochs=2))[n:]
  assert sorted(r for _, r in second_epoch) == list(range(n))
  first_epoch = list(pipeline.record_order(n, seed=1)[:n])
  assert [r for _, r in second_epoch] != [r for _, r in first_epoch]
  assert {e for e, _ in first_epoch} == {0} and {e for e, _ in second_epoch} == {1}

  cfg = make_config(corpus_dir)
  corpus = pipeline.scan_corpus(cfg, vocab)
  documents = [sum(int(b["documents"].sum()) for b in pipeline.make_train_iterator(
      cfg, vocab, batch_size=1, seed=0, process_index=p, process_count=2, num_epochs=1, corpus=corpus))
      for p in range(2)]
  assert sum(documents) == len(corpus.train_refs) and min(documents) > 0


def test_order_ignores_batch_size_and_method(corpus_dir, vocab):
  cfg = make_config(corpus_dir)
  small = np.concatenate([b["tokens"] for b in take(cfg, vocab, 6, batch_size=2)])
  large = np.concatenate([b["tokens"] for b in take(cfg, vocab, 3, batch_size=4)])
  np.testing.assert_array_equal(small, large)

  def document_stream(placement):  # the trained-on tokens, in order (one open row: no reordering)
    batches = take(make_config(corpus_dir, pack_bins=1, **{"feedback.placement": placement}), vocab, 8)
    return np.concatenate([b["tokens"][b["loss_weights"] > 0] for b in batches])

  ixt, baseline = document_stream("prefix"), document_stream("none")
  shorter = min(len(ixt), len(baseline))
  assert shorter > 500
  np.testing.assert_array_equal(ixt[:shorter], baseline[:shorter])


def test_arrayrecord_shards_give_the_same_batches(corpus_dir, vocab, tmp_path):
  arrayrecord_dir = synthetic.write_corpus(tmp_path, RECORDS[:240], num_shards=3, fmt="arrayrecord")
  for want, got in zip(take(make_config(corpus_dir), vocab, 3),
                       take(make_config(str(arrayrecord_dir)), vocab, 3)):
    np.testing.assert_array_equal(want["tokens"], got["tokens"])


def content_hash(record: dict) -> int:
  return heldout.content_hash(records.parse_record(json.dumps(record).encode(), require_feedback=True))


def test_heldout_split_is_fixed_and_deduplicated(tmp_path, vocab):
  held = [r for r in RECORDS[:120] if content_hash(r) < 0.1 * 2**64]
  copies = [dict(r, id=r["id"] + "-copy", domain="other") for r in held]  # training copies
  cfg = make_config(str(synthetic.write_corpus(tmp_path / "copies", RECORDS[:120] + copies)))
  corpus = pipeline.scan_corpus(cfg, vocab)
  assert len(corpus.heldout) == len(held) > 0 and len(corpus.train_refs) == 120 - len(held)
  heldout_hashes = [heldout.content_hash(r) for r in corpus.heldout]
  assert heldout_hashes == sorted(content_hash(r) for r in held)  # one per content, in hash order
  reader = corpus.reader()
  train_hashes = {heldout.content_hash(records.parse_record(reader.read(ref), require_feedback=True))
                  for ref in corpus.train_refs}
  assert not train_hashes & set(heldout_hashes)
  cfg.train_dirs = [str(synthetic.write_corpus(tmp_path / "plain", RECORDS[:120]))]
  cfg.heldout.count = 4
  by_count = pipeline.scan_corpus(cfg, vocab)
  assert sorted(r.domain for r in by_count.heldout) == ["code"] * 4 + ["math"] * 4 + ["text"] * 4


@pytest.mark.parametrize("placement", ["prefix", "suffix"])
def test_eval_conditions_score_the_same_document_tokens(placement, corpus_dir, vocab):
  cfg = make_config(corpus_dir, **{"heldout.fraction": 0.3, "feedback.placement": placement})
  corpus = pipeline.scan_corpus(cfg, vocab)

  def positive(domain):
    return f"Flawless {domain}: correct, clear and complete."

  scored = {}
  for condition in ("none", "true", "positive"):
    batches = pipeline.make_eval_batches(cfg, vocab, batch_size=4, condition=condition,
                                         positive_critique=positive, split="all", corpus=corpus)
    assert sorted(batches) == ["code", "math", "text"]
    scored[condition] = {d: (np.concatenate([b["tokens"][b["loss_weights"] > 0] for b in bs]),
                             sum(int(b["document_bytes"].sum()) for b in bs)) for d, bs in batches.items()}
    for b in itertools.chain.from_iterable(batches.values()):
      assert b["tokens"].shape == (4, SEQ_LEN) and set(np.unique(b["loss_weights"])) <= {0.0, 1.0}
      assert (b["loss_weights"][b["positions"] == 0] == 0).all()  # scored tokens have a context
  for condition in ("true", "positive"):
    for domain, (tokens, num_bytes) in scored["none"].items():
      np.testing.assert_array_equal(scored[condition][domain][0], tokens)
      assert scored[condition][domain][1] == num_bytes
  clean = pipeline.make_eval_batches(cfg, vocab, batch_size=4, condition="true",
                                     positive_critique=positive, split="clean", corpus=corpus)
  want = sum(r.score >= 1.0 for r in corpus.heldout)
  assert sum(int(b["documents"].sum()) for bs in clean.values() for b in bs) == want > 0


def test_scan_is_independent_of_the_method(corpus_dir, vocab):
  refs = [pipeline.scan_corpus(make_config(corpus_dir, **{"feedback.placement": p}), vocab).train_refs
          for p in ("prefix", "none", "suffix")]
  for other in refs[1:]:
    np.testing.assert_array_equal(refs[0], other)


def test_import_keeps_tensorflow_and_torch_off_the_training_path():
  code = ("import sys, ixt_jax, ixt_jax.data.pipeline, ixt_jax.data.vocab, ixt_jax.train.loop\n"
          "heavy = ('tensorflow', 'seqio', 'tensorflow_text', 'torch', 'transformers', 'datasets')\n"
          "loaded = [m for m in sys.modules if m.split('.')[0] in heavy]\n"
          "assert not loaded, loaded\n")
  subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_worker_processes_give_the_same_batches_and_resume(corpus_dir, vocab):
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.FLAGS.mark_as_parsed()
  want = take(make_config(corpus_dir), vocab, 6)
  it = pipeline.make_train_iterator(make_config(corpus_dir, worker_count=2), vocab, batch_size=2, seed=0)
  got = [next(it) for _ in range(3)]
  state = it.get_state()
  got += [next(it) for _ in range(3)]
  it.close()
  resumed = pipeline.make_train_iterator(make_config(corpus_dir, worker_count=2), vocab, batch_size=2, seed=0)
  resumed.set_state(state)
  got += [next(resumed) for _ in range(3)]
  resumed.close()
  for w, g in zip(want + want[3:], got):
    np.testing.assert_array_equal(w["tokens"], g["tokens"])
