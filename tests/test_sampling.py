"""KV-cache decoding against full recomputation, sampling rules, and prompts laid out as in training."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from ixt_jax.data import examples, formatting, records
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.evaluate.prompts import prompt_ids
from ixt_jax.evaluate.sampling import Sampler, SamplingSettings, choose_tokens, cut_at_stop
from ixt_jax.models import Transformer, model_config
from ixt_jax.parallel.mesh import make_mesh
from ixt_jax.parallel.sharding import named_shardings, state_specs
from train_utils import tiny_config

PROMPT_LENGTHS = (1, 4, 11, 30)
NEW_TOKENS = 12


def _greedy_by_recomputation(forward, prompt, new_tokens):
  """The reference: the whole sequence through the training forward pass for every new token
  (right-padded to one length, which causal attention never looks at)."""
  sequence = list(prompt)
  for _ in range(new_tokens):
    padded = np.zeros((1, 64), np.int32)
    padded[0, :len(sequence)] = sequence
    token = int(jnp.argmax(forward(padded)[0, len(sequence) - 1]))
    sequence.append(token)
    if token == vocab_lib.ByteVocabulary.eos_id:
      break
  return sequence[len(prompt):]


@pytest.mark.parametrize("scan_layers,mesh_shape", [
    (True, {"data": -1}),
    (False, {"data": 2, "fsdp": 2, "tensor": 2}),
])
def test_kv_cache_greedy_tokens_equal_full_recomputation(scan_layers, mesh_shape):
  cfg = model_config("1m", vocab_size=64, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=8, d_ff=64,
                     scan_layers=scan_layers)  # grouped-query attention: 2 query heads per key/value head
  mesh = make_mesh(mesh_shape)
  graphdef, state = nnx.split(Transformer(cfg, rngs=nnx.Rngs(3)))
  params = nnx.to_pure_dict(state)
  sharded = jax.device_put(params, named_shardings(nnx.to_pure_dict(state_specs(state)), mesh))
  rng = np.random.default_rng(0)
  prompts = [rng.integers(3, 64, n).tolist() for n in PROMPT_LENGTHS]
  settings = SamplingSettings(max_new_tokens=NEW_TOKENS)

  cached = Sampler(graphdef, vocab_lib.ByteVocabulary(), mesh).generate(sharded, prompts, settings)
  recomputed = Sampler(graphdef, vocab_lib.ByteVocabulary(), mesh, use_cache=False).generate(sharded, prompts, settings)
  forward = jax.jit(lambda tokens: nnx.merge(graphdef, params)(tokens))
  expected = [_greedy_by_recomputation(forward, p, NEW_TOKENS) for p in prompts]
  assert cached == expected
  assert recomputed == expected
  streamed = {}  # each token handed over as the loop chooses it (what a live stream sends)
  live = Sampler(graphdef, vocab_lib.ByteVocabulary(), mesh).generate(
      sharded, prompts, settings, on_token=lambda i, token: streamed.setdefault(i, []).append(token))
  assert live == expected and [streamed[i] for i in range(len(prompts))] == expected
  assert len({tuple(e) for e in expected}) > 1  # the prompts lead somewhere different


def test_greedy_where_temperature_is_zero_and_sampling_stays_in_the_nucleus():
  probs = np.array([0.45, 0.3, 0.15, 0.1])
  logits = jnp.log(jnp.asarray(np.tile(probs, (4000, 1)), jnp.float32))
  rows = len(logits)
  key = jax.random.split(jax.random.key(0), rows)  # one key per row
  greedy = choose_tokens(logits, jnp.zeros(rows), jnp.ones(rows), key)
  assert np.all(np.asarray(greedy) == 0)
  tiny_nucleus = choose_tokens(logits, jnp.ones(rows), jnp.full(rows, 1e-3), key)
  assert np.all(np.asarray(tiny_nucleus) == 0)
  nucleus = np.asarray(choose_tokens(logits, jnp.ones(rows), jnp.full(rows, 0.7), key))
  assert set(nucleus) == {0, 1}  # 0.45 + 0.3 reaches 0.7: the two most likely tokens only
  np.testing.assert_allclose(np.mean(nucleus == 0), 0.45 / 0.75, atol=0.03)
  free = np.asarray(choose_tokens(logits, jnp.ones(rows), jnp.ones(rows), key))
  np.testing.assert_allclose(np.bincount(free, minlength=4) / rows, probs, atol=0.03)


def test_stop_strings_cut_the_text_at_the_first_one():
  assert cut_at_stop("x = 1\ndef test_f():\n", ("\ndef ", "\nclass ")) == ("x = 1", True)
  assert cut_at_stop("Answer: 4", ("\nProblem:",)) == ("Answer: 4", False)
  assert cut_at_stop("ab", ("", "b")) == ("a", True)


def test_conditioned_prompt_is_the_start_of_the_training_layout(tmp_path):
  c = tiny_config(tmp_path)
  vocab = vocab_lib.ByteVocabulary()
  settings = formatting.FeedbackSettings.from_config(c.data)
  critique = "Every step checks out."
  record = records.Record("r", "Problem: 2 + 3?\nSolution:\nAnswer: 5", "math", critique=critique, score=1.0)
  trained = examples.tokenize([formatting.format_for_training(record, settings, seed=0, epoch=0)], vocab, 128)
  ids = prompt_ids(vocab, settings, "Problem: 2 + 3?\nSolution:\n", "math", critique)
  assert trained[0]["tokens"][:len(ids)].tolist() == ids
  assert vocab.decode(ids) == f"<critique>{critique}</critique>Problem: 2 + 3?\nSolution:\n"
  # With no critique a body opens with <eos>, as every uncritiqued training document does.
  assert prompt_ids(vocab, settings, "Problem:", "math", None) == [vocab.eos_id] + vocab.encode("Problem:")

  chat = prompt_ids(vocab, settings, "", "text", None, prompt="Hello?")
  special = vocab.special_ids
  assert chat == [vocab.eos_id, special[vocab_lib.PROMPT], *vocab.encode("Hello?"), special[vocab_lib.RESPONSE]]

  c.data.feedback.kind = "quality_token"
  top = prompt_ids(vocab, formatting.FeedbackSettings.from_config(c.data), "x", "math", "any text")
  assert top == [special[vocab_lib.QUALITY_TOKENS[-1]]] + vocab.encode("x")

  c.data.feedback.placement = "suffix"
  with pytest.raises(ValueError, match="suffix"):
    prompt_ids(vocab, formatting.FeedbackSettings.from_config(c.data), "x", "math", critique)


def test_per_row_budgets_and_end_of_document():
  cfg = model_config("1m", vocab_size=32, d_model=16, n_layers=1, n_heads=2, n_kv_heads=1, head_dim=8, d_ff=32)
  mesh = make_mesh({"data": -1})
  graphdef, params = nnx.split(Transformer(cfg, rngs=nnx.Rngs(0)))
  sampler = Sampler(graphdef, vocab_lib.ByteVocabulary(), mesh)
  budgets = [1, 3, 70]  # the last one needs a second length bucket
  out = sampler.generate(nnx.to_pure_dict(params), [[5, 6]] * 3,
                         [SamplingSettings(max_new_tokens=b, ignore_eos=True) for b in budgets])
  assert [len(o) for o in out] == budgets
  stopped = sampler.generate(nnx.to_pure_dict(params), [[5, 6]], SamplingSettings(max_new_tokens=70))[0]
  eos = sampler.vocab.eos_id
  ended = eos in stopped
  assert (stopped[-1] == eos and stopped.count(eos) == 1) if ended else len(stopped) == 70
