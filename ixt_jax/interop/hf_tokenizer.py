"""A run's vocabulary as a Hugging Face tokenizer: tokenizer.json + tokenizer_config.json that
`transformers.AutoTokenizer.from_pretrained` loads without custom code, with the same ids.

- huggingface: the tokenizer as used (special tokens added), unchanged.
- sentencepiece: converted by `transformers`' own SpmConverter.build_tokenizer_from_spm_proto, which
  follows the model's normalizer spec (no whitespace collapsing, no dummy prefix for the models
  trained here), ranks BPE merges by piece score, keeps byte fallback and isolates user-defined
  pieces (newline, tab, the special tokens). Measured on the models trained here: the ids of 1,011
  texts (synthetic text, math and code, whole stdlib modules, tabs, CRLF, non-BMP characters, special
  tokens) equal SentencePiece's, every one; `transformers.LlamaTokenizer` over the same model file
  (legacy=False) matched none of them. A model brought from elsewhere with a dummy prefix and
  whitespace collapsing (T5-style unigram) converts less exactly: 6 of the same 1,011 texts differed
  (runs of '#'), and the dummy prefix lands differently next to special tokens.
  Needs `transformers` (the `transformers` extra).
- Text spelling the control tokens' names ("</s>", "<pad>", "<unk>") becomes that control token in
  `transformers` (its special tokens are matched in text) but stays text in ixt_jax.
- byte: a BPE with no merges whose every character falls back to its bytes: ids byte + 3.

In every case the critique markers, quality and chat tokens are special tokens of the result.
"""
from __future__ import annotations

from ixt_jax.data import hf_vocab
from ixt_jax.data import vocab as vocab_lib


def _from_sentencepiece(vocab: vocab_lib.SentencePieceVocabulary):
  from sentencepiece import sentencepiece_model_pb2  # pylint: disable=g-import-not-at-top
  from transformers.convert_slow_tokenizer import SpmConverter  # pylint: disable=g-import-not-at-top
  proto = sentencepiece_model_pb2.ModelProto.FromString(vocab.model_proto)
  if proto.trainer_spec.model_type == proto.trainer_spec.UNIGRAM:  # the converter's cue: pieces with scores
    pieces = [(p.piece, p.score) for p in proto.pieces]
  else:  # BPE: piece -> id, merges ranked by score
    pieces = {p.piece: i for i, p in enumerate(proto.pieces)}
  return SpmConverter.build_tokenizer_from_spm_proto(proto, pieces, legacy=True)


def _from_bytes():
  from tokenizers import Tokenizer, decoders, models  # pylint: disable=g-import-not-at-top
  ids = {"<pad>": vocab_lib.ByteVocabulary.pad_id, "</s>": vocab_lib.ByteVocabulary.eos_id, "<unk>": 2}
  ids.update({f"<0x{b:02X}>": vocab_lib.ByteVocabulary.first_byte_id + b for b in range(256)})
  tokenizer = Tokenizer(models.BPE(vocab=ids, merges=[], unk_token="<unk>", byte_fallback=True))
  tokenizer.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse()])
  return tokenizer


def save(vocab: vocab_lib.Vocabulary, out_dir: str) -> None:
  """Writes `vocab` into `out_dir` as a Hugging Face tokenizer (see the module docstring)."""
  if isinstance(vocab, hf_vocab.HuggingFaceVocabulary):
    vocab.save(out_dir)
    return
  from tokenizers import AddedToken  # pylint: disable=g-import-not-at-top
  tokenizer = _from_sentencepiece(vocab) if isinstance(vocab, vocab_lib.SentencePieceVocabulary) else _from_bytes()
  tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in vocab_lib.SPECIAL_TOKENS])
  eos, pad = tokenizer.id_to_token(vocab.eos_id), tokenizer.id_to_token(vocab.pad_id)
  hf_vocab.write_pretrained(out_dir, tokenizer.to_str(), eos, pad)
