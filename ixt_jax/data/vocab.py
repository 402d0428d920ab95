"""Vocabularies: a whitespace-preserving SentencePiece model trained once per corpus, or raw bytes.

Both follow the seqio/T5 id conventions (pad=0, eos=1, unk=2) and reserve one id for each feedback
delimiter, so a critique's boundaries are single tokens. The SentencePiece model is trained on a
corpus sample with settings under which text (code included) round-trips exactly and matches
`seqio.SentencePieceVocabulary`/tensorflow-text id for id (see STACK.md); it is cached in a cache
dir under the hash of its training input, so every run on a corpus shares one model file.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import uuid
from collections.abc import Iterable, Sequence

from etils import epath
import numpy as np
import sentencepiece as spm

from ixt_jax.data import config
from ixt_jax.data import corpus
from ixt_jax.errors import DataError

PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
CRITIQUE_OPEN, CRITIQUE_CLOSE = "<critique>", "</critique>"
PROMPT, RESPONSE = "<prompt>", "<response>"
QUALITY_LEVELS = 5
QUALITY_TOKENS = tuple(f"<quality_{i}>" for i in range(QUALITY_LEVELS))
SPECIAL_TOKENS = (CRITIQUE_OPEN, CRITIQUE_CLOSE, *QUALITY_TOKENS, PROMPT, RESPONSE)
# Whole-line symbols keep indentation and line structure as their own tokens (STACK.md).
_WHITESPACE_SYMBOLS = ("\n", "\t")
_MAX_SENTENCE_CHARS = 4000  # SentencePiece skips training sentences over 4192 bytes

_TRAINER_OPTIONS = dict(
    # BPE, not unigram: a unigram model's equal-score segmentations of whitespace runs are broken
    # differently by tensorflow-text's SentencePiece build, so its ids would differ from ours.
    model_type="bpe",
    normalization_rule_name="identity",
    remove_extra_whitespaces=False,
    add_dummy_prefix=False,  # so tokens of concatenated pieces of text concatenate exactly
    allow_whitespace_only_pieces=True,
    byte_fallback=True,
    split_digits=True,
    character_coverage=0.9995,  # rarer characters are spelled in bytes
    user_defined_symbols=list(SPECIAL_TOKENS + _WHITESPACE_SYMBOLS),
    pad_id=PAD_ID, eos_id=EOS_ID, unk_id=UNK_ID, bos_id=-1,
    hard_vocab_limit=False,  # a small sample may not support the requested size
    input_sentence_size=0, shuffle_input_sentence=False,
    num_threads=1,  # training is deterministic for a given input
    minloglevel=2,
)


class SentencePieceVocabulary:
  """A SentencePiece model file, used through the `sentencepiece` library itself."""

  def __init__(self, path: epath.PathLike):
    self.path = os.fspath(path)
    self._proto = epath.Path(path).read_bytes()
    self.sha256 = hashlib.sha256(self._proto).hexdigest()
    self._load()

  def _load(self):
    self._sp = spm.SentencePieceProcessor(model_proto=self._proto)
    self.special_ids = {t: self._sp.piece_to_id(t) for t in SPECIAL_TOKENS}
    if self._sp.pad_id() != PAD_ID or self._sp.eos_id() != EOS_ID or self._sp.unk_id() != UNK_ID:
      raise ValueError(f"{self.path}: expected pad=0, eos=1, unk=2 (seqio convention)")
    missing = [t for t, i in self.special_ids.items() if i == UNK_ID]
    if missing:
      raise ValueError(f"{self.path}: the model lacks the special tokens {missing}")

  def __getstate__(self):  # workers receive the model bytes, not a file handle
    return {"path": self.path, "_proto": self._proto, "sha256": self.sha256}

  def __setstate__(self, state):
    self.__dict__.update(state)
    self._load()

  @property
  def size(self) -> int:
    return self._sp.get_piece_size()

  def encode(self, text: str) -> list[int]:
    return self._sp.encode(text)

  def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
    return self._sp.encode(list(texts))

  def decode(self, ids: Iterable[int]) -> str:
    return self._sp.decode([int(i) for i in ids])

  def to_seqio(self):
    """`seqio.SentencePieceVocabulary` over the same file (imports TensorFlow)."""
    import seqio  # pylint: disable=g-import-not-at-top
    return seqio.SentencePieceVocabulary(self.path)


class ByteVocabulary:
  """UTF-8 bytes with `seqio.ByteVocabulary` ids (byte + 3); the special tokens follow the bytes.

  Needs no training; for smoke tests and tokenizer-free baselines.
  """

  _OFFSET = 3
  path = ""

  def __init__(self):
    first = self._OFFSET + 256
    self.special_ids = {t: first + i for i, t in enumerate(SPECIAL_TOKENS)}
    self._special_pattern = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")
    self._special_bytes = {i: t.encode() for t, i in self.special_ids.items()}
    self.sha256 = hashlib.sha256(json.dumps(["byte", self._OFFSET, SPECIAL_TOKENS]).encode()).hexdigest()

  @property
  def size(self) -> int:
    return self._OFFSET + 256 + len(SPECIAL_TOKENS)

  def encode(self, text: str) -> list[int]:
    if "<" not in text:  # the common case: no special token can occur
      return (np.frombuffer(text.encode("utf-8"), np.uint8).astype(np.int32) + self._OFFSET).tolist()
    ids = []
    for part in self._special_pattern.split(text):
      if part in self.special_ids:
        ids.append(self.special_ids[part])
      elif part:
        ids.extend(b + self._OFFSET for b in part.encode("utf-8"))
    return ids

  def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
    return [self.encode(t) for t in texts]

  def decode(self, ids: Iterable[int]) -> str:
    out = bytearray()
    for i in ids:
      i = int(i)
      if self._OFFSET <= i < self._OFFSET + 256:
        out.append(i - self._OFFSET)
      elif i in self._special_bytes:
        out += self._special_bytes[i]
    return out.decode("utf-8", errors="ignore")

  def to_seqio(self):
    """`seqio.ByteVocabulary` (same ids for text without special tokens; imports TensorFlow)."""
    import seqio  # pylint: disable=g-import-not-at-top
    return seqio.ByteVocabulary()


Vocabulary = SentencePieceVocabulary | ByteVocabulary


def _training_sentences(texts: Iterable[str]) -> list[str]:
  """Lines of the sample (newlines are symbols of their own), cut to SentencePiece's limit."""
  sentences = []
  for text in texts:
    for line in text.split("\n"):
      for start in range(0, len(line), _MAX_SENTENCE_CHARS):
        sentences.append(line[start:start + _MAX_SENTENCE_CHARS])
  return [s for s in sentences if s]


def train_sentencepiece(texts: Iterable[str], size: int, cache_dir: epath.PathLike) -> epath.Path:
  """Trains (or finds in `cache_dir`) the model for this sample and size; returns its path.

  The file name carries the hash of the trainer options and the sample, so the same corpus trains
  once; the file appears atomically, so concurrent hosts at worst train it twice.
  """
  sentences = _training_sentences(texts)
  if not sentences:
    raise DataError("cannot train a SentencePiece model on an empty sample: no valid record was found in "
                    "the first records of the corpus (check their fields: id, text, domain)")
  options = dict(_TRAINER_OPTIONS, vocab_size=int(size))
  digest = hashlib.sha256(json.dumps(options, sort_keys=True).encode())
  for s in sentences:
    digest.update(s.encode("utf-8", "surrogatepass") + b"\0")
  path = epath.Path(cache_dir) / f"spm-{size}-{digest.hexdigest()[:20]}.model"
  if path.exists():
    return path
  model = io.BytesIO()
  spm.SentencePieceTrainer.train(sentence_iterator=iter(sentences), model_writer=model, **options)
  path.parent.mkdir(parents=True, exist_ok=True)
  tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
  try:
    tmp.write_bytes(model.getvalue())
    tmp.rename(path)
  finally:
    if tmp.exists():
      tmp.unlink()
  return path


def load_vocabulary(data_cfg, sample_texts: Iterable[str] | None = None) -> Vocabulary:
  """The vocabulary `data_cfg.vocab` names: bytes, a model file, or one trained on `sample_texts`.

  Args:
    data_cfg: `config.data` (see ixt_jax.data.config).
    sample_texts: the training sample; by default the first `vocab.sample_records` valid records
      of `data_cfg.train_dirs` (documents, prompts and critiques).
  """
  vcfg = data_cfg.vocab
  if vcfg.kind == "byte":
    return ByteVocabulary()
  if vcfg.model_path:
    return SentencePieceVocabulary(vcfg.model_path)
  if sample_texts is None:
    sample_texts = corpus.sample_texts(data_cfg.train_dirs, vcfg.sample_records)
  cache_dir = config.directory_or_default(vcfg.cache_dir, "vocab")
  return SentencePieceVocabulary(train_sentencepiece(sample_texts, vcfg.size, cache_dir))
