"""A Hugging Face `tokenizers` vocabulary (`tokenizer.json`), with ixt_jax's special tokens added.

`data.vocab.kind=huggingface`, `data.vocab.model_path=` a tokenizer.json, or a directory holding one
(a Hugging Face model directory). A `tokenizer_config.json` beside it names the end-of-document and
padding tokens; without one the first of the usual end-of-document names the tokenizer has is used
(else `</s>` is added), and padding reuses it. SPECIAL_TOKENS that are not yet special tokens are
added (`add_special_tokens`: new ids after the tokenizer's own, which do not move).

Such a vocabulary is saved as a pair Hugging Face itself reads (`write_pretrained`): the tokenizer
with its added tokens, and a tokenizer_config.json naming eos, pad and the special tokens, so that
`transformers.AutoTokenizer.from_pretrained(directory)` loads it without custom code. The run
directory keeps this pair, and experiments.export writes it beside the model. `tokenizers` (a Rust
package) is imported only when such a vocabulary is used.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence

from etils import epath

from ixt_jax import rundir
from ixt_jax.data.vocab import SPECIAL_TOKENS
from ixt_jax.errors import ConfigError

FILE = "tokenizer.json"
CONFIG_FILE = "tokenizer_config.json"
# End-of-document tokens of common tokenizers, tried in order when no tokenizer_config.json names one.
_EOS_NAMES = ("</s>", "<|endoftext|>", "<eos>", "<|end_of_text|>")
_ADDED_EOS = "</s>"


def _token_name(token) -> str | None:
  """A tokenizer_config.json token entry ("</s>" or {"content": "</s>", ...}) as its text."""
  return token.get("content") if isinstance(token, dict) else token


def write_pretrained(directory: str, tokenizer_json: str, eos_token: str, pad_token: str) -> None:
  """tokenizer.json and a tokenizer_config.json that `transformers.AutoTokenizer` loads as-is
  (PreTrainedTokenizerFast: the tokenizer exactly as given, no model-specific rebuilding)."""
  settings = {"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": eos_token, "pad_token": pad_token,
              "extra_special_tokens": list(SPECIAL_TOKENS), "clean_up_tokenization_spaces": False,
              "add_bos_token": False, "add_eos_token": False}
  rundir.write_text(rundir.path(directory, FILE), tokenizer_json)
  rundir.write_json(rundir.path(directory, CONFIG_FILE), settings)


class HuggingFaceVocabulary:
  """A `tokenizers.Tokenizer` with SPECIAL_TOKENS and an end-of-document token (see module doc)."""

  FILE = FILE

  def __init__(self, path: epath.PathLike):
    from tokenizers import AddedToken, Tokenizer  # pylint: disable=g-import-not-at-top
    file = epath.Path(path)
    if file.is_dir():
      file = file / FILE
    if not file.exists():
      raise ConfigError(f"{os.fspath(path)}: no {FILE} (a Hugging Face tokenizer) there")
    self.path = os.fspath(file)
    try:
      tokenizer = Tokenizer.from_str(file.read_text())
    except Exception as e:  # tokenizers raises a plain Exception on a malformed file
      raise ConfigError(f"{self.path}: not a Hugging Face tokenizer.json ({e})") from None
    settings_file = file.parent / CONFIG_FILE
    settings = json.loads(settings_file.read_text()) if settings_file.exists() else {}
    specials = {t.content for t in tokenizer.get_added_tokens_decoder().values() if t.special}
    eos = _token_name(settings.get("eos_token")) or next(
        (t for t in _EOS_NAMES if t in specials or tokenizer.token_to_id(t) is not None), _ADDED_EOS)
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                  for t in (eos, *SPECIAL_TOKENS) if t not in specials])
    pad = _token_name(settings.get("pad_token"))
    self.eos_token = eos
    self.pad_token = pad if pad is not None and tokenizer.token_to_id(pad) is not None else eos
    self._json = tokenizer.to_str()
    self.sha256 = hashlib.sha256(json.dumps([self._json, self.eos_token, self.pad_token]).encode()).hexdigest()
    self._load()

  def _load(self):
    from tokenizers import Tokenizer  # pylint: disable=g-import-not-at-top
    self._tokenizer = Tokenizer.from_str(self._json)
    self.special_ids = {t: self._tokenizer.token_to_id(t) for t in SPECIAL_TOKENS}
    self.eos_id = self._tokenizer.token_to_id(self.eos_token)
    self.pad_id = self._tokenizer.token_to_id(self.pad_token)

  def __getstate__(self):  # workers rebuild the tokenizer from its JSON
    return {k: v for k, v in self.__dict__.items() if k != "_tokenizer"}

  def __setstate__(self, state):
    self.__dict__.update(state)
    self._load()

  @property
  def size(self) -> int:
    return self._tokenizer.get_vocab_size(with_added_tokens=True)

  @property
  def tokenizer_json(self) -> str:
    """The tokenizer as used (special tokens included), serialized."""
    return self._json

  def encode(self, text: str) -> list[int]:
    return self._tokenizer.encode(text, add_special_tokens=False).ids

  def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
    return [e.ids for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=False)]

  def decode(self, ids: Iterable[int]) -> str:
    return self._tokenizer.decode([int(i) for i in ids], skip_special_tokens=False)

  def save(self, directory: str) -> None:
    write_pretrained(directory, self._json, self.eos_token, self.pad_token)

  def to_seqio(self):
    raise ConfigError("config.data.vocab.kind='huggingface': the seqio task reads SentencePiece or byte "
                      "vocabularies only")
