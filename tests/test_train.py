"""The train step's objective, the loop end to end, and config errors before compiling."""
import json

import jax
import numpy as np
import pytest
from flax import nnx

from ixt_jax.data import pipeline, vocab as vocab_lib
from ixt_jax.models import Transformer, model_config
from ixt_jax.train import config as config_lib
from ixt_jax.train.loop import train_and_evaluate
from ixt_jax.rundir import read_metrics
from ixt_jax.train.step import model_loss
from train_utils import make_corpus, positive_critique, tiny_config


def test_loss_is_the_hand_computed_weighted_cross_entropy():
  cfg = model_config("1m", vocab_size=50, d_model=32, n_layers=1, n_heads=2, n_kv_heads=1, head_dim=16, d_ff=32)
  graphdef, params = nnx.split(Transformer(cfg, rngs=nnx.Rngs(0)))
  rng = np.random.default_rng(0)
  tokens = rng.integers(0, 50, (2, 10)).astype(np.int32)
  segment_ids = np.array([[1] * 6 + [2] * 4, [1] * 7 + [0] * 3], np.int32)
  positions = np.array([list(range(6)) + list(range(4)), list(range(7)) + [0] * 3], np.int32)
  weights = rng.random((2, 10)).astype(np.float32) * (segment_ids > 0)
  batch = {"tokens": tokens, "segment_ids": segment_ids, "positions": positions, "loss_weights": weights}
  loss, _ = model_loss(graphdef, params, batch, z_loss=0.0)

  logits = np.asarray(nnx.merge(graphdef, params)(tokens, segment_ids, positions), np.float64)
  log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  nats = weight_sum = 0.0
  for b in range(2):
    for t in range(9):  # position t predicts token t+1 within the same segment, weighted by t+1's weight
      if segment_ids[b, t + 1] == segment_ids[b, t] and segment_ids[b, t] > 0:
        nats -= weights[b, t + 1] * log_probs[b, t, tokens[b, t + 1]]
        weight_sum += weights[b, t + 1]
  np.testing.assert_allclose(loss, nats / weight_sum, rtol=1e-5)


def test_critique_and_padding_tokens_get_zero_gradient(tmp_path):
  c = tiny_config(make_corpus(tmp_path / "corpus", 60))
  vocab = vocab_lib.load_vocabulary(c.data)
  batch = next(pipeline.make_train_iterator(c.data, vocab, batch_size=4, seed=0))
  cfg = model_config("1m", vocab_size=vocab.size, d_model=32, n_layers=1, n_heads=2, n_kv_heads=1,
                     head_dim=16, d_ff=32)
  model = Transformer(cfg, rngs=nnx.Rngs(0))
  from ixt_jax.train.loss import next_token_targets, weighted_cross_entropy
  targets, weights = next_token_targets(batch["tokens"], batch["loss_weights"], batch["segment_ids"])
  logits = model(batch["tokens"], batch["segment_ids"], batch["positions"])
  grad = jax.grad(lambda l: weighted_cross_entropy(l, targets, weights)[0])(logits)
  per_position = np.abs(np.asarray(grad)).sum(-1)
  zero_target = np.asarray(weights) == 0
  critique_positions = np.pad(batch["loss_weights"][:, 1:] == 0, ((0, 0), (0, 1)), constant_values=True)
  assert (batch["segment_ids"] > 0).any() and (batch["loss_weights"][batch["segment_ids"] > 0] == 0).any()
  assert np.all(per_position[critique_positions] == 0)  # predicting a critique or padding token: no gradient
  assert np.all(per_position[zero_target] == 0)
  assert np.all(per_position[~zero_target] > 0)


def test_training_run_lowers_loss_and_writes_the_contract(tmp_path):
  corpus = make_corpus(tmp_path / "corpus")
  c = tiny_config(corpus, steps=40)
  summary = train_and_evaluate(c, tmp_path / "run", positive_critique)
  metrics = [m for m in read_metrics(tmp_path / "run") if "loss" in m]
  first, last = np.mean([m["loss"] for m in metrics[:3]]), np.mean([m["loss"] for m in metrics[-3:]])
  assert last < first - 0.5, (first, last)
  on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
  assert on_disk == json.loads(json.dumps(summary))
  for key in ("method", "seed", "n_params", "n_params_non_embedding", "tokens", "doc_tokens", "flops",
              "annotation_flops", "tokenizer"):
    assert key in summary, key
  for key in ("loss", "bits_per_byte", "loss_all", "loss_unconditioned", "loss_true_critique", "math_em",
              "code_pass1"):
    assert key in summary["eval"], key
  assert summary["tokens"] == 40 * 8 * 128
  assert 0 < summary["doc_tokens"] < summary["tokens"]  # critiques and padding are not documents
  assert 0 < summary["feedback_token_share"] < 1 - summary["doc_tokens"] / summary["tokens"]
  assert summary["condition"] == "positive"
  assert summary["flops"] == summary["tokens"] * summary["flops_per_token"]
  assert list((tmp_path / "run" / "tensorboard").iterdir())
  assert json.loads((tmp_path / "run" / "config.json").read_text())["config"]["method"] == "ixt"
  assert {"loss", "ce_loss", "grad_norm", "learning_rate", "tokens", "doc_tokens", "flops", "tokens_per_s",
          "mfu"} <= set(metrics[-1])


@pytest.mark.parametrize("field,value,message", [
    ("train.batch_size", 12, r"config.train.batch_size: 12 is not divisible by the data-parallel size 8"),
    ("mesh.tensor", 16, r"config.mesh: .*multiply to 16, which does not divide the 8 devices"),
    ("optimizer.schedule", "linear", r"config.optimizer.schedule"),
    ("data.feedback.placement", "none", r"config.data.feedback.placement: 'none' but method is ixt"),
    ("eval.tasks", "math,poetry", r"config.eval.tasks: unknown task\(s\) \['poetry'\]"),
    ("train.log_every", 5, r"config.data.train_dirs: .*absent-corpus'\] do not exist"),
])
def test_invalid_config_fails_before_compiling_naming_the_field(tmp_path, monkeypatch, field, value, message):
  c = tiny_config(tmp_path / "absent-corpus")
  section, key = field.rsplit(".", 1)
  node = c
  for part in section.split("."):
    node = node[part]
  node[key] = value
  monkeypatch.setattr(jax, "jit", lambda *a, **k: pytest.fail("compiled before validating"))
  with pytest.raises(ValueError, match=message):
    train_and_evaluate(c, tmp_path / "run", positive_critique)


def test_model_that_does_not_split_over_the_mesh_fails_before_the_vocabulary_is_built(tmp_path, monkeypatch):
  c = tiny_config(make_corpus(tmp_path / "corpus", 40))
  c.mesh.tensor, c.model.d_ff = 2, 63  # the MLP's 63 columns cannot split over 2 tensor shards
  monkeypatch.setattr(vocab_lib, "load_vocabulary", lambda *a, **k: pytest.fail("built the vocabulary first"))
  with pytest.raises(ValueError, match=r"dim 1 has size 63, not divisible by mesh axis 'tensor' of size 2"):
    train_and_evaluate(c, tmp_path / "run", positive_critique)


def test_the_run_config_is_resolved_into_a_copy(tmp_path):
  c = tiny_config(tmp_path / "corpus")
  resolved = config_lib.resolve_run_config(c, tmp_path / "run")
  assert c.data.quarantine_dir == ""  # the caller's config is not written into
  assert resolved.data.quarantine_dir == str(tmp_path / "run" / "quarantine")
  assert resolved.to_dict() == {**c.to_dict(), "data": {**c.data.to_dict(), "quarantine_dir": resolved.data.quarantine_dir}}
