"""ixt_jax <-> `transformers`: an exported run loads in the real `transformers` with the same logits and
greedy tokens, and its tokenizer with the same ids; a Llama saved by `transformers` imports with its
logits, and a run starts from it (and from its tokenizer)."""
import inspect
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from experiments.export import export_run
from ixt_jax.data import hf_vocab, synthetic
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.interop import hf_tokenizer, llama
from ixt_jax.models import ModelConfig, Transformer
from ixt_jax.train.loop import train_and_evaluate
from train_utils import make_corpus, positive_critique, tiny_config

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

RTOL, ATOL = 1e-4, 1e-4


def _tokens(vocab_size, shape=(3, 24), seed=0):
  return np.random.default_rng(seed).integers(0, vocab_size, shape)


def _hf_logits(hf_dir, tokens):
  model = transformers.AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
  with torch.no_grad():
    return model, model(torch.tensor(tokens)).logits.numpy()


def _greedy(next_logits, tokens, steps):
  rows = np.asarray(tokens)
  for _ in range(steps):
    rows = np.concatenate([rows, next_logits(rows)[:, -1].argmax(-1)[:, None]], axis=1)
  return rows[:, tokens.shape[1]:]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
  root = tmp_path_factory.mktemp("export")
  c = tiny_config(make_corpus(root / "corpus"), steps=8)
  c.data.vocab.kind, c.data.vocab.size = "sentencepiece", 512  # the default kind: trained on the corpus
  c.model.d_model, c.model.n_layers, c.model.n_heads, c.model.n_kv_heads, c.model.head_dim = 48, 2, 6, 2, 8
  train_and_evaluate(c, root / "run", positive_critique)
  return root / "run"


def test_an_exported_run_has_the_same_logits_and_greedy_tokens_in_transformers(trained_run, tmp_path):
  from ixt_jax.evaluate.run_dir import load_run  # pylint: disable=g-import-not-at-top
  config = export_run(str(trained_run), str(tmp_path / "hf"))
  assert json.loads((tmp_path / "hf" / "config.json").read_text())["architectures"] == ["LlamaForCausalLM"]
  run = load_run(trained_run)
  forward = nnx.merge(run.graphdef, run.params)
  tokens = _tokens(config["vocab_size"])
  hf_model, hf_logits = _hf_logits(tmp_path / "hf", tokens)
  np.testing.assert_allclose(np.asarray(forward(jnp.asarray(tokens))), hf_logits, rtol=RTOL, atol=ATOL)
  with torch.no_grad():
    hf_tokens = hf_model.generate(torch.tensor(tokens[:, :8]), do_sample=False, max_new_tokens=12,
                                  min_new_tokens=12, pad_token_id=config["pad_token_id"]).numpy()[:, 8:]
  ixt_tokens = _greedy(lambda rows: np.asarray(forward(jnp.asarray(rows))), tokens[:, :8], 12)
  np.testing.assert_array_equal(ixt_tokens, hf_tokens)


@pytest.mark.parametrize("tied", [True, False])
def test_a_llama_saved_by_transformers_imports_with_its_logits(tmp_path, tied):
  hf_config = transformers.LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=2, head_dim=8, rms_norm_eps=1e-5,
                                       tie_word_embeddings=tied, max_position_embeddings=64)
  torch.manual_seed(0)
  hf_model = transformers.LlamaForCausalLM(hf_config)
  hf_model.save_pretrained(tmp_path / "llama")
  assert llama.is_llama_dir(tmp_path / "llama")
  config, tensors = llama.load(tmp_path / "llama")
  tokens = _tokens(97)
  with torch.no_grad():
    expected = hf_model(torch.tensor(tokens)).logits.numpy()
  for scan in (True, False):
    cfg = llama.model_config(config, scan_layers=scan)
    params = llama.from_llama(cfg, tensors)
    graphdef, abstract = nnx.split(nnx.eval_shape(lambda: Transformer(cfg, rngs=nnx.Rngs(0))))  # pylint: disable=cell-var-from-loop
    nnx.replace_by_pure_dict(abstract, jax.tree.map(jnp.asarray, params))
    np.testing.assert_allclose(np.asarray(nnx.merge(graphdef, abstract)(jnp.asarray(tokens))), expected,
                               rtol=RTOL, atol=ATOL)


def test_a_run_starts_from_a_llama_checkpoint_and_a_shape_mismatch_names_the_overrides(tmp_path):
  c = tiny_config(make_corpus(tmp_path / "corpus"), steps=2)
  c.optimizer.warmup_steps = 1
  hf_config = transformers.LlamaConfig(vocab_size=268, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=2, head_dim=8, rms_norm_eps=1e-6,
                                       tie_word_embeddings=True)  # 268: the byte vocabulary's size
  torch.manual_seed(0)
  transformers.LlamaForCausalLM(hf_config).save_pretrained(tmp_path / "llama")
  c.train.init_from = str(tmp_path / "llama")
  with pytest.raises(ValueError, match=r"--config.model.tie_embeddings=False"):
    train_and_evaluate(c, tmp_path / "refused", positive_critique)
  c.model.tie_embeddings = False
  summary = train_and_evaluate(c, tmp_path / "run", positive_critique)
  assert summary["steps"] == 2 and np.isfinite(summary["eval"]["loss_all"])


def test_a_model_config_round_trips_through_the_llama_config():
  cfg = ModelConfig(vocab_size=300, d_model=64, n_layers=3, n_heads=8, n_kv_heads=2, head_dim=8, d_ff=128,
                    tie_embeddings=False, rope_theta=5e5, norm_eps=1e-5)
  assert llama.model_config(llama.llama_config(cfg, 128, eos_id=1, pad_id=0)) == cfg


def _heldout_documents() -> list[str]:
  """1,000 documents the tokenizer never saw: text, math and indented code, and whole Python modules."""
  import argparse, ast, textwrap  # pylint: disable=g-import-not-at-top,multiple-imports
  documents = [r["text"] for r in synthetic.synthetic_records(994, seed=7)]
  documents += [inspect.getsource(module) for module in (argparse, ast, textwrap)]
  documents += ["<critique>ok</critique>\tdef f():\r\n   return 'ünïcode ✓ 𝔘'\n\n\n   ",
                "<quality_4><prompt>Add 2 and 2.<response>4", "    leading and trailing spaces    "]
  return documents


def _byte_level_bpe(directory) -> str:
  from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # pylint: disable=g-import-not-at-top
  tokenizer = Tokenizer(models.BPE())
  tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
  tokenizer.decoder = decoders.ByteLevel()
  tokenizer.train_from_iterator([r["text"] for r in synthetic.synthetic_records(200)], trainers.BpeTrainer(
      vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["<|endoftext|>"],
      show_progress=False))
  directory.mkdir(parents=True, exist_ok=True)
  tokenizer.save(str(directory / hf_vocab.FILE))
  return str(directory)


@pytest.mark.parametrize("kind", ["sentencepiece", "huggingface", "byte"])
def test_the_exported_tokenizer_gives_ixt_jax_ids_with_the_special_tokens(kind, trained_run, tmp_path):
  if kind == "sentencepiece":  # the run's own tokenizer, written by the export
    from ixt_jax.evaluate.run_dir import load_run  # pylint: disable=g-import-not-at-top
    export_run(str(trained_run), str(tmp_path / "hf"))
    vocab = load_run(trained_run).vocab
  else:
    vocab = (hf_vocab.HuggingFaceVocabulary(_byte_level_bpe(tmp_path / "bpe")) if kind == "huggingface"
             else vocab_lib.ByteVocabulary())
    hf_tokenizer.save(vocab, str(tmp_path / "hf"))
  tokenizer = transformers.AutoTokenizer.from_pretrained(tmp_path / "hf")
  documents = _heldout_documents()
  mismatched = [d for d in documents if tokenizer.encode(d, add_special_tokens=False) != vocab.encode(d)]
  print(f"{kind}: {len(documents) - len(mismatched)} of {len(documents)} documents encode to ixt_jax's ids")
  assert not mismatched, mismatched[:3]
  assert len(documents) == 1000 and sum("\n    " in d for d in documents) > 100  # indented code
  assert (tokenizer.eos_token_id, tokenizer.pad_token_id) == (vocab.eos_id, vocab.pad_id)
  for token in vocab_lib.SPECIAL_TOKENS:
    assert token in tokenizer.all_special_tokens and tokenizer.convert_tokens_to_ids(token) == vocab.special_ids[token]
  ids = vocab.encode(documents[0])
  assert tokenizer.decode(ids) == vocab.decode(ids) == documents[0]


def test_a_run_from_a_llama_with_a_tokenizer_takes_that_tokenizer_with_the_special_tokens_added(tmp_path):
  hf_dir = tmp_path / "llama"
  _byte_level_bpe(hf_dir)
  own_size = transformers.AutoTokenizer.from_pretrained(hf_dir).vocab_size  # 400: no ixt_jax tokens yet
  hf_config = transformers.LlamaConfig(vocab_size=own_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=2, head_dim=8, rms_norm_eps=1e-6,
                                       tie_word_embeddings=False)
  torch.manual_seed(0)
  transformers.LlamaForCausalLM(hf_config).save_pretrained(hf_dir)
  c = tiny_config(make_corpus(tmp_path / "corpus"), steps=2)
  c.data.vocab.kind = "sentencepiece"  # the default: the Llama's own tokenizer replaces it
  c.optimizer.warmup_steps = 1
  c.model.tie_embeddings = False
  c.train.init_from = str(hf_dir)
  summary = train_and_evaluate(c, tmp_path / "run", positive_critique)
  vocab = hf_vocab.HuggingFaceVocabulary(hf_dir)
  assert summary["tokenizer"] == vocab.sha256 and vocab.size == own_size + len(vocab_lib.SPECIAL_TOKENS)
  assert json.loads((tmp_path / "run" / "config.json").read_text())["model"]["vocab_size"] == vocab.size
  tensors = llama.load(hf_dir)[1]
  grown = llama.resize_vocabulary(tensors, vocab.size)["model.embed_tokens.weight"]
  np.testing.assert_array_equal(grown[:own_size], np.asarray(tensors["model.embed_tokens.weight"], np.float32))
  np.testing.assert_allclose(grown[own_size:], np.broadcast_to(grown[:own_size].mean(0), grown[own_size:].shape))
