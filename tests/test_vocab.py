"""Vocabularies: exact round trips (code included), seqio id conventions, training cached once."""
import inspect
import pickle
import textwrap

import pytest

from ixt_jax.data import config
from ixt_jax.data import synthetic
from ixt_jax.data import vocab as vocab_lib


@pytest.fixture(scope="module")
def sample():
  return [r["text"] for r in synthetic.synthetic_records(300)]


@pytest.fixture(scope="module")
def spm_vocab(sample, tmp_path_factory):
  cache = tmp_path_factory.getbasetemp() / "vocab-cache"
  return vocab_lib.SentencePieceVocabulary(vocab_lib.train_sentencepiece(sample, 512, cache))


def test_round_trips_python_source_exactly(spm_vocab):
  source = inspect.getsource(textwrap)
  source += "\n\n\tdef tabbed():\n\t\treturn  'two  spaces'\t# tab\n\n\n   \n\r\nünïcode ✓ 𝔘\n"
  assert spm_vocab.decode(spm_vocab.encode(source)) == source


def test_seqio_ids_and_single_token_delimiters(spm_vocab):
  assert (spm_vocab.pad_id, spm_vocab.eos_id, spm_vocab._sp.unk_id()) == (0, 1, 2)  # pylint: disable=protected-access
  assert not spm_vocab.augmented  # trained with every special token: the file is used as it is
  for token, token_id in spm_vocab.special_ids.items():
    assert spm_vocab.encode(token) == [token_id]
  assert len(set(spm_vocab.special_ids.values())) == len(vocab_lib.SPECIAL_TOKENS)
  # Pieces of text tokenized apart concatenate to the tokens of the whole (no dummy prefix).
  assert spm_vocab.encode("<critique>ok</critique>x = 1") == (
      [spm_vocab.special_ids["<critique>"]] + spm_vocab.encode("ok")
      + [spm_vocab.special_ids["</critique>"]] + spm_vocab.encode("x = 1"))


def test_training_is_deterministic_and_cached(sample, spm_vocab, tmp_path):
  path = vocab_lib.train_sentencepiece(sample, 512, tmp_path / "fresh")
  assert vocab_lib.SentencePieceVocabulary(path).sha256 == spm_vocab.sha256
  mtime = path.stat().mtime
  assert vocab_lib.train_sentencepiece(sample, 512, tmp_path / "fresh") == path
  assert path.stat().mtime == mtime
  assert [p.name for p in (tmp_path / "fresh").iterdir()] == [path.name]  # no temp files left


def test_load_vocabulary_from_config(spm_vocab, tmp_path):
  cfg = config.get_data_config()
  cfg.vocab.model_path = spm_vocab.path
  assert vocab_lib.load_vocabulary(cfg).sha256 == spm_vocab.sha256
  corpus = synthetic.write_corpus(tmp_path / "corpus", synthetic.synthetic_records(60))
  cfg.vocab.model_path = ""
  cfg.vocab.size = 400
  cfg.vocab.sample_records = 60
  cfg.train_dirs = [str(corpus)]
  cfg.vocab.cache_dir = str(tmp_path / "cache")
  trained = vocab_lib.load_vocabulary(cfg)
  assert trained.path.startswith(str(tmp_path / "cache"))
  assert vocab_lib.load_vocabulary(cfg).path == trained.path  # trained once


def test_pickles_for_grain_workers(spm_vocab):
  clone = pickle.loads(pickle.dumps(spm_vocab))
  assert clone.encode("def f(x):\n\treturn x") == spm_vocab.encode("def f(x):\n\treturn x")
  assert clone.sha256 == spm_vocab.sha256


def test_byte_vocabulary_matches_seqio_byte_ids():
  byte_vocab = vocab_lib.ByteVocabulary()
  text = "héllo\n\tworld ✓"
  assert byte_vocab.encode(text) == [b + 3 for b in text.encode("utf-8")]  # seqio.ByteVocabulary
  assert byte_vocab.decode(byte_vocab.encode(text)) == text
  critique = byte_vocab.encode("<critique>ok</critique>")
  assert critique[0] == byte_vocab.special_ids["<critique>"] >= 259
  assert byte_vocab.decode(critique) == "<critique>ok</critique>"
  assert max(byte_vocab.special_ids.values()) == byte_vocab.size - 1
