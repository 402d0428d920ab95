"""Bad input: every kind of broken record is skipped, counted by reason, quarantined; too many abort."""
import codecs
import json

import pytest

from ixt_jax.data import config
from ixt_jax.data import corpus as corpus_lib
from ixt_jax.data import records
from ixt_jax.data import shards
from ixt_jax.data import synthetic
from ixt_jax.data import vocab as vocab_lib

SEQ_LEN = 256  # byte tokens: the synthetic critiques need about 100
GOOD = synthetic.synthetic_records(1000)
_FEEDBACK = {"critique": "Fine.", "score": 0.5, "critic": "t"}
BAD = {  # raw line -> the reason it must be quarantined for
    b'{"id": "a", "text": "x", "domain": "code", "feedback": ': records.MALFORMED_JSON,
    b'{"id": "b", "text": "caf\xe9", "domain": "text"}': records.INVALID_UTF8,
    b'{"id": "c", "text": "\\ud800", "domain": "text"}': records.INVALID_UTF8,
    b'["not", "an", "object"]': records.NOT_AN_OBJECT,
    json.dumps({"id": "d", "domain": "code", "feedback": _FEEDBACK}).encode(): records.MISSING_FIELD,
    json.dumps({"id": 7, "text": "x", "domain": "code", "feedback": _FEEDBACK}).encode(): records.WRONG_TYPE,
    json.dumps({"id": "e", "text": " \n\t", "domain": "code", "feedback": _FEEDBACK}).encode():
        records.EMPTY_DOCUMENT,
    json.dumps({"id": "f", "text": "x", "domain": "code",
                "feedback": dict(_FEEDBACK, score=1.5)}).encode(): records.SCORE_OUT_OF_RANGE,
    json.dumps({"id": "g", "text": "x", "domain": "code"}).encode(): records.MISSING_FEEDBACK,
    json.dumps({"id": "h", "text": "x", "domain": "code",
                "feedback": dict(_FEEDBACK, critique="word " * SEQ_LEN)}).encode(): records.CRITIQUE_TOO_LONG,
}


def make_config(tmp_path, line_list, **fields):
  shards.write_shard(tmp_path / "corpus" / "mixed-00000-of-00001.jsonl", line_list)
  cfg = config.get_data_config()
  cfg.train_dirs = [str(tmp_path / "corpus")]
  cfg.seq_len = SEQ_LEN
  cfg.quarantine_dir = str(tmp_path / "quarantine")
  cfg.update(fields)
  return cfg


def interleave(bad_lines):
  good = [shards.encode_record(r) for r in GOOD]
  return good[:500] + bad_lines + [b""] + good[500:]  # a blank line is no record


def test_each_bad_kind_is_quarantined_with_its_reason(tmp_path):
  lines = interleave(list(BAD))
  cfg = make_config(tmp_path, lines)
  corpus = corpus_lib.scan_corpus(cfg, vocab_lib.ByteVocabulary())
  assert corpus.records_seen == len(GOOD) + len(BAD)
  assert len(corpus.train_refs) + len(corpus.heldout) <= len(GOOD)
  expected = {}
  for reason in BAD.values():
    expected[reason] = expected.get(reason, 0) + 1
  assert corpus.bad_counts == expected
  quarantined = [json.loads(line) for line in open(corpus.quarantine_path)]
  assert sorted((q["index"], q["reason"]) for q in quarantined) == sorted(
      (lines.index(raw), reason) for raw, reason in BAD.items())
  assert all(q["shard"].endswith("mixed-00000-of-00001.jsonl") and q["detail"] for q in quarantined)
  assert [p.name for p in (tmp_path / "quarantine").iterdir()] == [corpus.quarantine_path.split("/")[-1]]


def test_nothing_valid_is_dropped(tmp_path):
  cfg = make_config(tmp_path, interleave(list(BAD)), max_bad_fraction=0.05)
  cfg.heldout.fraction = 0.0
  corpus = corpus_lib.scan_corpus(cfg, vocab_lib.ByteVocabulary())
  assert len(corpus.train_refs) == len(GOOD)


def test_raw_records_are_fine_without_a_critique_placement(tmp_path):
  raw = [json.dumps({"id": str(i), "text": f"doc {i}", "domain": "text"}).encode() for i in range(50)]
  cfg = make_config(tmp_path, raw, max_bad_fraction=0.0)
  cfg.feedback.placement = "none"
  corpus = corpus_lib.scan_corpus(cfg, vocab_lib.ByteVocabulary())
  assert corpus.bad_counts == {} and corpus.quarantine_path is None


def test_too_many_bad_records_abort_with_a_clear_message(tmp_path):
  lines = [shards.encode_record(r) for r in GOOD[:100]] + list(BAD)
  cfg = make_config(tmp_path, lines)
  with pytest.raises(corpus_lib.BadInputError, match=r"max_bad_fraction=0.01.*malformed_json") as error:
    corpus_lib.scan_corpus(cfg, vocab_lib.ByteVocabulary())
  assert "10 of 110 records" in str(error.value)
  quarantine_file = next((tmp_path / "quarantine").iterdir())
  assert sum(1 for _ in open(quarantine_file)) == len(BAD)  # written whole before the abort


def test_a_byte_order_mark_opening_a_file_does_not_cost_its_first_record(tmp_path):
  good = [shards.encode_record(r) for r in GOOD[:50]]
  cfg = make_config(tmp_path, [codecs.BOM_UTF8 + good[0], *good[1:]], max_bad_fraction=0.0)
  cfg.heldout.fraction = 0.0
  corpus = corpus_lib.scan_corpus(cfg, vocab_lib.ByteVocabulary())
  assert corpus.bad_counts == {} and len(corpus.train_refs) == 50
