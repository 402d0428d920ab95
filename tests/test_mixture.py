"""Data mixtures: sources drawn by weight, feedback per source, the realised mix, exact resume."""
import itertools
import re

import pytest

from ixt_jax.data import config
from ixt_jax.data import pipeline
from ixt_jax.data import synthetic
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.train.config import resolve_run_config
from ixt_jax.train.loop import train_and_evaluate
from train_utils import assert_iterator_resumes_exactly, positive_critique, tiny_config

WEIGHTS = {"main": 3.0, "side": 1.0}


def _short(records, annotated=True):
  """Documents of at most 200 characters (many documents a batch), with or without feedback."""
  return [{**{k: v for k, v in r.items() if annotated or k != "feedback"}, "text": r["text"][:200]} for r in records]


@pytest.fixture(scope="module")
def source_dirs(tmp_path_factory):
  root = tmp_path_factory.mktemp("sources")
  main = synthetic.write_corpus(root / "main", _short(synthetic.synthetic_records(240, seed=0)))
  side = synthetic.write_corpus(root / "side", _short(synthetic.synthetic_records(90, seed=1)), prefix="side")
  raw = synthetic.write_corpus(root / "raw", _short(synthetic.synthetic_records(90, seed=2), annotated=False),
                               prefix="raw")
  return {"main": str(main), "side": str(side), "raw": str(raw)}


def mixture_config(source_dirs, side="side", side_feedback=True):
  cfg = config.get_data_config()
  cfg.sources = [{"name": "main", "dirs": [source_dirs["main"]], "weight": WEIGHTS["main"]},
                 {"name": "side", "dirs": [source_dirs[side]], "weight": WEIGHTS["side"], "feedback": side_feedback}]
  config.resolve_data_config(cfg)
  cfg.seq_len, cfg.pack_bins, cfg.tokenize_group = 128, 4, 8
  cfg.vocab.kind = "byte"
  cfg.heldout.fraction = 0.1
  cfg.quarantine_dir = source_dirs["main"] + "-quarantine"
  config.validate_data_config(cfg)
  return cfg


def test_realised_proportions_follow_the_weights(source_dirs):
  cfg = mixture_config(source_dirs)
  vocab = vocab_lib.load_vocabulary(cfg)
  batches = list(itertools.islice(pipeline.make_train_iterator(cfg, vocab, batch_size=4, seed=0), 60))
  documents = sum(b["source_documents"].sum(0) for b in batches)
  assert documents.sum() == sum(b["documents"].sum() for b in batches)  # every document has its source
  assert documents[0] / documents.sum() == pytest.approx(0.75, abs=0.03)
  tokens = sum(b["source_tokens"].sum(0) for b in batches)
  assert tokens.sum() == sum((b["segment_ids"] > 0).sum() for b in batches)  # every token but padding


def test_a_source_without_feedback_shows_no_critique(source_dirs):
  cfg = mixture_config(source_dirs, side_feedback=False)
  vocab = vocab_lib.load_vocabulary(cfg)
  elements = list(itertools.islice(pipeline.make_train_elements(cfg, vocab, seed=0), 300))
  critiques = {name: [e["critique_tokens"] for e in elements if e["source"] == i] for i, name in enumerate(WEIGHTS)}
  assert critiques["side"] and not any(critiques["side"])
  assert sum(critiques["main"]) > 0


def test_a_resumed_mixture_continues_exactly(source_dirs):
  cfg = mixture_config(source_dirs, side="raw", side_feedback=False)  # raw records: no feedback needed
  assert_iterator_resumes_exactly(cfg, vocab_lib.load_vocabulary(cfg), seed=3, consumed=5)


def test_a_run_reports_its_realised_mix(source_dirs, tmp_path):
  c = tiny_config(source_dirs["main"], steps=6, checkpoint_every=3, eval_every=6)
  c.data.train_dirs = []
  c.data.sources = [{"name": "main", "dirs": [source_dirs["main"]], "weight": 3.0},
                    {"name": "raw", "dirs": [source_dirs["raw"]], "weight": 1.0, "feedback": False}]
  summary = train_and_evaluate(c, tmp_path / "run", positive_critique)
  mix = summary["mixture"]
  assert list(mix) == ["main", "raw"] and mix["raw"]["feedback"] is False and mix["main"]["weight"] == 0.75
  assert sum(m["documents"] for m in mix.values()) == summary["documents"]
  assert mix["main"]["document_share"] == pytest.approx(0.75, abs=0.1)
  assert summary["eval"]["loss_unconditioned"] is not None  # a source without feedback trained 'none' too


@pytest.mark.parametrize("sources, field", [
    (["/d"], "sources[0]"),
    ([{"name": "a", "dirs": ["/d"]}], "sources[0]"),
    ([{"name": "a", "dirs": ["/d"], "weight": 1.0, "share": 2}], "sources[0]"),
    ([{"name": "", "dirs": ["/d"], "weight": 1.0}], "sources[0].name"),
    ([{"name": "a", "dirs": ["/d"], "weight": 0.0}], "sources[0].weight"),
    ([{"name": "a", "dirs": ["/d"], "weight": 1.0, "feedback": "no"}], "sources[0].feedback"),
    ([{"name": "a", "dirs": ["/elsewhere"], "weight": 1.0}], "sources[0].dirs"),
    ([{"name": "a", "dirs": ["/d"], "weight": 1.0}, {"name": "a", "dirs": ["/e"], "weight": 1.0}], "sources[1].name"),
    ([{"name": "a", "dirs": ["/d"], "weight": 1.0}, {"name": "b", "dirs": ["/d"], "weight": 1.0}], "sources[1].dirs"),
    ([{"name": "a", "dirs": ["/d"], "weight": 1.0}], "train_dirs"),  # /e is in no source
])
def test_bad_sources_are_named(sources, field):
  cfg = config.get_data_config()
  cfg.train_dirs = ["/d", "/e"]
  cfg.sources = sources
  with pytest.raises(ValueError, match=re.escape(f"config.data.{field}=")):
    config.validate_data_config(cfg)


def test_train_dirs_default_to_the_sources_dirs(source_dirs, tmp_path):
  c = tiny_config(source_dirs["main"])
  c.data.train_dirs = []
  c.data.sources = [{"name": "a", "dirs": [source_dirs["main"]], "weight": 1.0},
                    {"name": "b", "dirs": [source_dirs["side"]], "weight": 1.0}]
  assert resolve_run_config(c, tmp_path).data.train_dirs == [source_dirs["main"], source_dirs["side"]]
