"""A corpus from elsewhere: Hugging Face `datasets` files in, the project's shards out, annotated and trained on;
records lacking the project's fields get a message naming the field and the flag to set."""
import json

import pandas as pd
import pytest

from configs.annotate import builtin as annotate_config
from configs.data import hf
from ixt_jax.data import config as data_config
from ixt_jax.data import corpus as corpus_lib
from ixt_jax.data import shards
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.data.hf_corpus import write_corpus
from ixt_jax.errors import ConfigError, DataError
from ixt_jax.feedback import annotate_stats
from ixt_jax.feedback.annotate import annotate_directory, input_domains, refuse_unknown_domains
from ixt_jax.feedback.critics import make_critic
from ixt_jax.train.loop import train_and_evaluate
from train_utils import positive_critique, tiny_config

PAGES = [f"Page {i} on the care of {animal}s: feed them {i % 3 + 1} times a day, and keep water near. " * 3
         for i, animal in enumerate(["cat", "dog", "horse", "parrot", "goat"] * 12)]


def _parquet(tmp_path, **columns):
  path = tmp_path / "web.parquet"
  pd.DataFrame(columns).to_parquet(path)
  return path


def _hf_config(path, **fields):
  config = hf.get_config()
  config.source.data_files = str(path)
  config.records_per_shard = 25
  config.fields.update(fields)
  return config


def test_a_parquet_corpus_is_imported_annotated_and_trained_on(tmp_path):
  path = _parquet(tmp_path, content=PAGES + ["   "], url=[f"https://x/{i}" for i in range(len(PAGES) + 1)])
  manifest = write_corpus(tmp_path / "raw", _hf_config(path, text="content", id="url", domain="web"))
  assert manifest["records"] == len(PAGES) and manifest["domains"] == {"web": len(PAGES)}  # the blank row is no record
  assert [s["records"] for s in manifest["shards"]] == [25, 25, 10]
  first = json.loads(next(shards.read_shard(tmp_path / "raw" / manifest["shards"][0]["path"])))
  assert first == {"id": "https://x/0", "text": PAGES[0], "domain": "web"}

  critic = make_critic(annotate_config.get_config())  # web has no verifier: judged by the text critic
  summary = annotate_directory(tmp_path / "raw", tmp_path / "annotated", critic, show_progress=False)
  assert summary["annotated"] == len(PAGES) and summary["failures"]["count"] == 0
  annotate_stats.describe(summary)

  c = tiny_config(tmp_path / "annotated", steps=2)
  c.optimizer.warmup_steps = 1
  c.data.heldout.clean_score = 0.0
  run = train_and_evaluate(c, tmp_path / "run", positive_critique)
  assert run["steps"] == 2 and run["eval"]["loss"] > 0


def test_ids_come_from_the_text_when_the_corpus_has_none_and_domains_from_a_column(tmp_path):
  path = _parquet(tmp_path, text=PAGES[:4], kind=["text", "code", "text", "math"])
  write_corpus(tmp_path / "raw", _hf_config(path, domain="", domain_field="kind"))
  records = [json.loads(r) for p in shards.list_shards(tmp_path / "raw") for r in shards.read_shard(p)]
  assert [r["domain"] for r in records] == ["text", "code", "text", "math"]
  assert len({r["id"] for r in records}) == 4 and all(len(r["id"]) == 20 for r in records)
  assert input_domains(tmp_path / "raw") == {"text", "code", "math"}


@pytest.mark.parametrize("fields,message", [
    ({"text": "body"}, "row 0 has no string field 'body' (its fields: ['content']); set --config.fields.text"),
    ({"text": "content", "id": "url"}, "row 0 has no field 'url'"),
    ({"text": "content", "domain": "", "domain_field": "kind"}, "set --config.fields.domain_field"),
])
def test_a_row_without_a_mapped_field_names_the_field_and_the_flag(tmp_path, fields, message):
  path = _parquet(tmp_path, content=PAGES[:3])
  with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
    write_corpus(tmp_path / "raw", _hf_config(path, **fields))


def test_hugging_face_style_jsonl_without_domain_gets_the_named_error(tmp_path):
  shards.write_shard(tmp_path / "raw" / "docs-00000-of-00001.jsonl",
                     [{"id": str(i), "text": page} for i, page in enumerate(PAGES)])
  with pytest.raises(DataError, match=r"missing_field: 60 \(first: .* no 'domain'\).*configs/data/hf.py"):
    corpus_lib.sample_texts([str(tmp_path / "raw")], 100)  # what the SentencePiece tokenizer is trained on
  cfg = data_config.get_data_config()
  cfg.train_dirs, cfg.feedback.placement, cfg.quarantine_dir = [str(tmp_path / "raw")], "none", str(tmp_path / "q")
  with pytest.raises(DataError, match=r"no 'domain'.*--config.fields.domain=text"):
    corpus_lib.scan_corpus(cfg, vocab_lib.ByteVocabulary())


def test_unknown_domains_go_to_the_text_critic_or_are_refused_by_name(tmp_path):
  shards.write_shard(tmp_path / "raw" / "web-00000-of-00001.jsonl", [{"id": "0", "text": PAGES[0], "domain": "web"}])
  config = annotate_config.get_config()
  critic = make_critic(config)
  refuse_unknown_domains(tmp_path / "raw", critic)
  (feedback,) = critic([{"id": "0", "text": PAGES[0], "domain": "web"}])
  assert feedback.critic.startswith("text"), feedback
  config.unknown_domain = "fail"
  with pytest.raises(ConfigError, match=r"no built-in critic for domain\(s\) \['web'\]; the known domains are "
                                        r"\['code', 'math', 'text'\]"):
    refuse_unknown_domains(tmp_path / "raw", make_critic(config))
  config.unknown_domain = "poetry"
  with pytest.raises(ConfigError, match=r"config.unknown_domain='poetry': expected 'fail' or one of"):
    make_critic(config)
