"""Vocabularies: a whitespace-preserving SentencePiece model trained once per corpus, any other
SentencePiece model, a Hugging Face `tokenizer.json` (ixt_jax.data.hf_vocab), or raw bytes.

Every vocabulary has one id for each feedback delimiter (SPECIAL_TOKENS), so a critique's boundaries
are single tokens, and names its own end-of-document (`eos_id`) and padding (`pad_id`) ids. A model
brought from elsewhere that lacks some of them gets them appended (new ids after its own; its
existing ids are unchanged). The SentencePiece model trained here follows the seqio/T5 id conventions
(pad=0, eos=1, unk=2) with settings under which text (code included) round-trips exactly and matches
`seqio.SentencePieceVocabulary`/tensorflow-text id for id (see STACK.md); it is cached in a cache
dir under the hash of its training input, so every run on a corpus shares one model file.

A run keeps a copy of its vocabulary's files in its directory (`save`; rundir.TOKENIZER), which is
what evaluation, serving and export read (`load_saved`).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from typing import Protocol

from etils import epath
import numpy as np
import sentencepiece as spm

from ixt_jax import rundir
from ixt_jax.data import config
from ixt_jax.data import corpus
from ixt_jax.errors import ConfigError, DataError

_TRAINED_PAD_ID, _TRAINED_EOS_ID, _TRAINED_UNK_ID = 0, 1, 2  # the seqio/T5 ids of the models trained here
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
    pad_id=_TRAINED_PAD_ID, eos_id=_TRAINED_EOS_ID, unk_id=_TRAINED_UNK_ID, bos_id=-1,
    hard_vocab_limit=False,  # a small sample may not support the requested size
    input_sentence_size=0, shuffle_input_sentence=False,
    num_threads=1,  # training is deterministic for a given input
    minloglevel=2,
)


class Vocabulary(Protocol):
  """What the data pipeline, training, sampling and export use of a vocabulary."""
  path: str  # the file it was read from ('' for bytes)
  sha256: str  # of everything that decides its ids: recorded in config.json and summary.json
  special_ids: dict[str, int]  # SPECIAL_TOKENS -> their single ids
  eos_id: int  # ends a document (and opens one no critique precedes)
  pad_id: int  # fills unused slots (always masked)
  size: int

  def encode(self, text: str) -> list[int]: ...
  def encode_batch(self, texts: Sequence[str]) -> list[list[int]]: ...
  def decode(self, ids: Iterable[int]) -> str: ...
  def save(self, directory: str) -> None: ...


def with_special_tokens(model: bytes) -> bytes:
  """The SentencePiece model `model` with what ixt_jax needs appended when missing: SPECIAL_TOKENS as
  user-defined pieces (always matched whole, like those of the models trained here) and an
  end-of-document control piece. Existing ids do not move; the same bytes when nothing is missing."""
  from sentencepiece import sentencepiece_model_pb2  # pylint: disable=g-import-not-at-top
  proto = sentencepiece_model_pb2.ModelProto.FromString(model)
  piece_type = sentencepiece_model_pb2.ModelProto.SentencePiece
  present = {p.piece for p in proto.pieces}
  added = [(t, piece_type.USER_DEFINED) for t in SPECIAL_TOKENS if t not in present]
  if proto.trainer_spec.eos_id < 0:
    proto.trainer_spec.eos_id = len(proto.pieces) + len(added)
    added.append((proto.trainer_spec.eos_piece, piece_type.CONTROL))
  if not added:
    return model
  for piece, kind in added:
    proto.pieces.add(piece=piece, score=0.0, type=kind)
  return proto.SerializeToString()


class SentencePieceVocabulary:
  """A SentencePiece model, used through the `sentencepiece` library itself; one made elsewhere gets
  the missing special tokens appended (`with_special_tokens`), and pads with its end-of-document id
  when it has no padding piece."""

  FILE = "tokenizer.model"  # its name in a run's tokenizer folder (the name Hugging Face uses too)

  def __init__(self, path: epath.PathLike):
    self.path = os.fspath(path)
    original = epath.Path(path).read_bytes()
    try:
      self._proto = with_special_tokens(original)
    except Exception as e:  # protobuf's DecodeError, or a message that is no model
      raise ConfigError(f"{self.path}: not a SentencePiece model ({type(e).__name__}: {e})") from None
    self.augmented = self._proto != original
    self.sha256 = hashlib.sha256(self._proto).hexdigest()
    self._load()

  def _load(self):
    self._sp = spm.SentencePieceProcessor(model_proto=self._proto)
    self.special_ids = {t: self._sp.piece_to_id(t) for t in SPECIAL_TOKENS}
    self.eos_id = self._sp.eos_id()
    self.pad_id = self._sp.pad_id() if self._sp.pad_id() >= 0 else self.eos_id

  def __getstate__(self):  # workers receive the model bytes, not a file handle
    return {"path": self.path, "_proto": self._proto, "sha256": self.sha256, "augmented": self.augmented}

  def __setstate__(self, state):
    self.__dict__.update(state)
    self._load()

  @property
  def size(self) -> int:
    return self._sp.get_piece_size()

  @property
  def model_proto(self) -> bytes:
    """The model as used (special tokens included)."""
    return self._proto

  def encode(self, text: str) -> list[int]:
    return self._sp.encode(text)

  def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
    return self._sp.encode(list(texts))

  def decode(self, ids: Iterable[int]) -> str:
    return self._sp.decode([int(i) for i in ids])

  def save(self, directory: str) -> None:
    rundir.write_bytes(rundir.path(directory, self.FILE), self._proto)

  def to_seqio(self):
    """`seqio.SentencePieceVocabulary` over the same model (imports TensorFlow)."""
    import seqio  # pylint: disable=g-import-not-at-top
    path = self.path
    if self.augmented:  # seqio reads a file: the model as used, special tokens included
      path = os.path.join(tempfile.mkdtemp(prefix="ixt_vocab-"), self.FILE)
      epath.Path(path).write_bytes(self._proto)
    return seqio.SentencePieceVocabulary(path)


class ByteVocabulary:
  """UTF-8 bytes with `seqio.ByteVocabulary` ids (byte + 3); the special tokens follow the bytes.

  Needs no training; for smoke tests and tokenizer-free baselines.
  """

  first_byte_id = 3  # seqio.ByteVocabulary: ids below are pad, eos, unk
  path = ""
  pad_id, eos_id = _TRAINED_PAD_ID, _TRAINED_EOS_ID

  def __init__(self):
    first = self.first_byte_id + 256
    self.special_ids = {t: first + i for i, t in enumerate(SPECIAL_TOKENS)}
    self._special_pattern = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")
    self._special_bytes = {i: t.encode() for t, i in self.special_ids.items()}
    self.sha256 = hashlib.sha256(json.dumps(["byte", self.first_byte_id, SPECIAL_TOKENS]).encode()).hexdigest()

  @property
  def size(self) -> int:
    return self.first_byte_id + 256 + len(SPECIAL_TOKENS)

  def encode(self, text: str) -> list[int]:
    if "<" not in text:  # the common case: no special token can occur
      return (np.frombuffer(text.encode("utf-8"), np.uint8).astype(np.int32) + self.first_byte_id).tolist()
    ids = []
    for part in self._special_pattern.split(text):
      if part in self.special_ids:
        ids.append(self.special_ids[part])
      elif part:
        ids.extend(b + self.first_byte_id for b in part.encode("utf-8"))
    return ids

  def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
    return [self.encode(t) for t in texts]

  def decode(self, ids: Iterable[int]) -> str:
    out = bytearray()
    for i in ids:
      i = int(i)
      if self.first_byte_id <= i < self.first_byte_id + 256:
        out.append(i - self.first_byte_id)
      elif i in self._special_bytes:
        out += self._special_bytes[i]
    return out.decode("utf-8", errors="ignore")

  def to_seqio(self):
    """`seqio.ByteVocabulary` (same ids for text without special tokens; imports TensorFlow)."""
    import seqio  # pylint: disable=g-import-not-at-top
    return seqio.ByteVocabulary()

  def save(self, directory: str) -> None:
    del directory  # nothing to keep: the ids follow from the code


def _vocabulary_class(kind: str):
  if kind == "huggingface":
    from ixt_jax.data import hf_vocab  # pylint: disable=g-import-not-at-top  # imports vocab (SPECIAL_TOKENS)
    return hf_vocab.HuggingFaceVocabulary
  return {"sentencepiece": SentencePieceVocabulary, "byte": ByteVocabulary}[kind]


def saved_file(kind: str, directory: str) -> str:
  """The file a run keeps its vocabulary of `kind` in, in `directory` (its rundir.TOKENIZER folder):
  a `data.vocab.model_path` that loads it again ('' for bytes, which keep no file)."""
  cls = _vocabulary_class(kind)
  return "" if cls is ByteVocabulary else rundir.path(directory, cls.FILE)


def load_saved(kind: str, directory: str) -> Vocabulary | None:
  """The vocabulary a run kept in `directory` (its rundir.TOKENIZER folder); None when it kept none
  (a run written before runs kept their tokenizer)."""
  path = saved_file(kind, directory)
  if not path:
    return ByteVocabulary()
  return _vocabulary_class(kind)(path) if rundir.exists(path) else None


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
    if not epath.Path(vcfg.model_path).exists():
      raise ConfigError(f"config.data.vocab.model_path={vcfg.model_path!r}: no such file or directory")
    try:
      return _vocabulary_class(vcfg.kind)(vcfg.model_path)
    except ConfigError as e:
      raise ConfigError(f"config.data.vocab.model_path: {e}") from None
  if sample_texts is None:
    sample_texts = corpus.sample_texts(data_cfg.train_dirs, vcfg.sample_records)
  cache_dir = config.directory_or_default(vcfg.cache_dir, "vocab")
  return SentencePieceVocabulary(train_sentencepiece(sample_texts, vcfg.size, cache_dir))
