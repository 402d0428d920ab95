"""Bring your own tokenizer: a `tokenizers` BPE and a SentencePiece model made without ixt_jax's special
tokens gain them (their own ids unchanged), train and sample; a run copied elsewhere, with another
HOME and no training data, evaluates and serves from its own copy of the tokenizer."""
import io
import os
import pickle
import shutil

import pytest
import sentencepiece as spm
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from ixt_jax import rundir
from ixt_jax.data import config as data_config
from ixt_jax.data import hf_vocab, synthetic
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.errors import ConfigError
from ixt_jax.evaluate.run_dir import load_run
from ixt_jax.evaluate.run_eval import evaluate_run
from ixt_jax.evaluate.sampling import Sampler, SamplingSettings
from ixt_jax.evaluate.tasks import TaskSettings
from ixt_jax.train.loop import train_and_evaluate
from train_utils import make_corpus, positive_critique, tiny_config

CODE = "def f(x):\n    return  x + 1\t# ü ✓\n\n"


@pytest.fixture(scope="module")
def texts():
  return [r["text"] for r in synthetic.synthetic_records(200, seed=0)]


def _bpe_tokenizer_json(path, texts) -> str:
  """A byte-level BPE trained in the test, knowing only its own end-of-text token."""
  tokenizer = Tokenizer(models.BPE())
  tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
  tokenizer.decoder = decoders.ByteLevel()
  tokenizer.train_from_iterator(texts, trainers.BpeTrainer(
      vocab_size=350, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["<|endoftext|>"],
      show_progress=False))
  os.makedirs(path, exist_ok=True)
  tokenizer.save(os.path.join(path, "tokenizer.json"))
  return os.path.join(path, "tokenizer.json")


def _plain_sentencepiece(path, texts, **options) -> str:
  """A SentencePiece model with the library's defaults (unk=0, bos=1, eos=2, no pad, no special tokens)."""
  model = io.BytesIO()
  spm.SentencePieceTrainer.train(sentence_iterator=iter(texts), model_writer=model, vocab_size=300, minloglevel=2,
                                 **options)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "wb") as f:
    f.write(model.getvalue())
  return path


def _check_kept_and_reloaded(vocab, directory):
  saved_dir = os.path.join(directory, "saved")
  vocab.save(saved_dir)
  kind = "huggingface" if isinstance(vocab, hf_vocab.HuggingFaceVocabulary) else "sentencepiece"
  assert vocab_lib.load_saved(kind, saved_dir).sha256 == vocab.sha256
  clone = pickle.loads(pickle.dumps(vocab))  # as Grain workers receive it
  assert clone.encode(CODE) == vocab.encode(CODE) and clone.sha256 == vocab.sha256


def test_a_sentencepiece_model_without_the_special_tokens_gains_them(texts, tmp_path):
  path = _plain_sentencepiece(str(tmp_path / "plain.model"), texts)
  original = spm.SentencePieceProcessor(model_file=path)
  vocab = vocab_lib.SentencePieceVocabulary(path)
  assert vocab.augmented and vocab.size == original.get_piece_size() + len(vocab_lib.SPECIAL_TOKENS)
  assert sorted(vocab.special_ids.values()) == list(range(original.get_piece_size(), vocab.size))
  assert vocab.encode("alpha beta") == original.encode("alpha beta")  # its own ids do not move
  critique = vocab.encode("<critique>fine</critique>")
  assert vocab.special_ids["<critique>"] in critique and critique[-1] == vocab.special_ids["</critique>"]
  assert (vocab.eos_id, vocab.pad_id) == (original.eos_id(), original.eos_id())  # no pad: eos pads
  _check_kept_and_reloaded(vocab, tmp_path)
  no_eos = vocab_lib.SentencePieceVocabulary(_plain_sentencepiece(str(tmp_path / "no_eos.model"), texts, eos_id=-1))
  assert no_eos.eos_id == no_eos.size - 1 and no_eos.decode([no_eos.eos_id]) == ""  # a control piece


def test_a_tokenizers_bpe_gains_the_special_tokens(texts, tmp_path):
  path = _bpe_tokenizer_json(str(tmp_path / "bpe"), texts)
  base = Tokenizer.from_file(path).get_vocab_size()
  vocab = hf_vocab.HuggingFaceVocabulary(os.path.dirname(path))  # a model directory holding tokenizer.json
  assert vocab.eos_token == "<|endoftext|>" and vocab.pad_id == vocab.eos_id == 0
  assert sorted(vocab.special_ids.values()) == list(range(base, vocab.size))
  text = "<critique>ok</critique>" + CODE
  assert vocab.encode(text)[0] == vocab.special_ids["<critique>"] and vocab.decode(vocab.encode(text)) == text
  _check_kept_and_reloaded(vocab, tmp_path)


def test_a_tokenizer_that_is_not_there_or_not_a_model_names_the_field(tmp_path):
  cfg = data_config.get_data_config()
  cfg.vocab.model_path = str(tmp_path / "absent.model")
  with pytest.raises(ConfigError, match=r"config\.data\.vocab\.model_path='.*absent\.model': no such file"):
    vocab_lib.load_vocabulary(cfg)
  (tmp_path / "notes.model").write_text("not a model")
  cfg.vocab.model_path = str(tmp_path / "notes.model")
  with pytest.raises(ConfigError, match=r"config\.data\.vocab\.model_path: .*not a SentencePiece model"):
    vocab_lib.load_vocabulary(cfg)
  cfg.vocab.kind, cfg.vocab.model_path = "huggingface", str(tmp_path)
  with pytest.raises(ConfigError, match=r"config\.data\.vocab\.model_path: .*no tokenizer\.json"):
    vocab_lib.load_vocabulary(cfg)
  cfg.train_dirs, cfg.vocab.model_path = ["somewhere"], ""
  with pytest.raises(ConfigError, match=r"config\.data\.vocab\.model_path=''"):
    data_config.validate_data_config(cfg)


@pytest.mark.parametrize("kind", ["huggingface", "sentencepiece"])
def test_an_own_tokenizer_trains_samples_and_a_copied_run_evaluates_without_data_or_home(
    kind, texts, tmp_path, monkeypatch):
  corpus = make_corpus(tmp_path / "corpus", n=120)
  tokenizer_dir = tmp_path / "tokenizer"
  c = tiny_config(corpus, steps=2, checkpoint_every=2)
  c.optimizer.warmup_steps = 1
  c.data.vocab.kind = kind
  c.data.vocab.model_path = (_bpe_tokenizer_json(str(tokenizer_dir), texts) if kind == "huggingface" else
                             _plain_sentencepiece(str(tokenizer_dir / "plain.model"), texts))
  summary = train_and_evaluate(c, tmp_path / "run", positive_critique)
  assert summary["steps"] == 2

  moved = tmp_path / "elsewhere" / "run"
  shutil.copytree(tmp_path / "run", moved)
  for gone in (corpus, tokenizer_dir, tmp_path / "run", f"{corpus}-cache"):
    shutil.rmtree(gone, ignore_errors=True)
  monkeypatch.setenv("HOME", str(tmp_path / "fresh_home"))

  run = load_run(moved)
  assert run.vocab.sha256 == summary["tokenizer"] == rundir.read_config(moved).tokenizer
  prompt = [run.vocab.eos_id] + run.vocab.encode("def f(x):\n    return")
  completion = Sampler(run.graphdef, run.vocab, run.mesh).complete(
      run.params, [prompt], SamplingSettings(max_new_tokens=8))[0]
  assert completion.tokens and all(0 <= t < run.vocab.size for t in completion.tokens)
  assert isinstance(completion.text, str)
  if kind == "sentencepiece":  # what experiments.evaluate runs (the loading above is the same for both kinds)
    report = evaluate_run(moved, TaskSettings(tasks=()), speed_new_tokens=4)
    assert report["heldout"] and report["step"] == 2
