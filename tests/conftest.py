"""Test settings: 8 simulated CPU devices, TensorFlow quiet and off the epath backend."""
import os

from xla_env import xla_flags

os.environ.setdefault("XLA_FLAGS", xla_flags(8))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("EPATH_USE_TF", "false")
os.environ.setdefault("JAX_PLATFORMS", "cpu")


import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position

from ixt_jax.data import synthetic, vocab as vocab_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

SYNTHETIC_RECORDS = synthetic.synthetic_records(300)


@pytest.fixture(scope="session")
def vocab(tmp_path_factory):
  """A small SentencePiece vocabulary trained once on SYNTHETIC_RECORDS."""
  cache = tmp_path_factory.getbasetemp() / "vocab-cache"
  return vocab_lib.SentencePieceVocabulary(
      vocab_lib.train_sentencepiece([r["text"] for r in SYNTHETIC_RECORDS], 512, cache))
