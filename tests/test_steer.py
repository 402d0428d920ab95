"""Steerability: samples judged for the planted flaw kinds, deterministic keys, and endpoints that see
information use (and see none where there is none)."""
import numpy as np
import pytest
from flax import nnx

from ixt_jax.data import conditions, formatting
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.evaluate import endpoints
from ixt_jax.evaluate.sampling import Sampler
from ixt_jax.evaluate.steer import SteerSettings, sample_condition
from ixt_jax.evaluate.steer_judge import judge
from ixt_jax.evaluate.steer_prompts import make_prompts
from ixt_jax.models import Transformer, model_config
from ixt_jax.parallel.mesh import make_mesh
from train_utils import tiny_config

CORPUS = {"seed": 0, "math": {"count": 40, "flaws": "wrong_answer"},
          "code": {"count": 40, "bug": "fixed", "exclude_templates": "gcd,clamp,evens,spread,caesar"},
          "text": {"count": 10, "flaws": "noise", "max_chars": 2000, "min_chars": 200}}


def test_samples_are_judged_for_the_planted_flaw_kinds():
  math, code, text = (make_prompts(CORPUS, (d,), 1)[0] for d in ("math", "code", "text"))
  steps = "\n".join(line for line in math.clean["text"].splitlines() if line.startswith("Step "))
  last = int(steps.splitlines()[-1].split("= ")[1].split()[0].rstrip("."))
  body = code.clean["text"][len(code.prompt):].split("\n\n\ndef test_")[0]
  samples = [
      (math, f"{steps}\nAnswer: {last}"), (math, f"{steps}\nAnswer: {last + 1}"), (math, "Step 1: no sum\nAnswer: 3"),
      (code, body), (code, body.replace("return", "return 1 +", 1)), (code, "    return (("),
      (text, "A clean, ordinary sentence of plain prose.\n"), (text, "A cle§n, ordin¶ry sent†nce of pl‡in prose.\n"),
      (text, "ok"),
  ]
  judged = judge([p for p, _ in samples], [s for _, s in samples], CORPUS)
  assert judged == [(True, False), (True, True), (False, None),
                    (True, False), (True, True), (False, None),
                    (True, False), (True, True), (False, None)]


def _steer(flaw_negative: float, flaw_positive: float, prompts: int = 48, k: int = 4, seed: int = 0) -> dict:
  """A steer.json of a model whose samples are flawed at the given rates, drawn on a fixed seed."""
  rng = np.random.default_rng(seed)
  draw = lambda p: [[bool(x) for x in row] for row in rng.random((prompts, k)) < p]
  well = [[True] * k for _ in range(prompts)]
  return {"prompts": [f"p{i}" for i in range(prompts)], "domains": ["math"] * prompts,
          "conditions": {"negative": {"well_formed": well, "flawed": draw(flaw_negative)},
                         "positive": {"well_formed": well, "flawed": draw(flaw_positive)}}}


def test_a_model_that_ignores_the_critique_gets_delta_zero_within_its_interval():
  runs = endpoints.Runs([{"method": "ixt", "seed": 0, "steer": _steer(0.5, 0.5, seed=1)},
                         {"method": "ixt_shuffled", "seed": 0, "steer": _steer(0.5, 0.5, seed=2)}])
  result = endpoints.endpoints(runs, ["math"], bootstrap=400)
  for name in ("delta", "delta_vs_twin", "twin_minus_arm"):
    v = result["ixt"][name]
    assert v["lo"] <= 0 <= v["hi"], (name, v)


def test_a_model_that_reads_the_critique_shows_delta_beyond_five_standard_errors():
  runs = endpoints.Runs([{"method": "ixt", "seed": 0, "steer": _steer(0.8, 0.2, seed=1)},
                         {"method": "ixt_shuffled", "seed": 0, "steer": _steer(0.5, 0.5, seed=2)}])
  result = endpoints.endpoints(runs, ["math"], bootstrap=400)
  delta = result["ixt"]["delta"]
  assert delta["value"] > 5 * delta["se"] and delta["lo"] > 0.4
  assert result["ixt"]["delta_vs_twin"]["lo"] > 0 and result["ixt"]["twin_minus_arm"]["lo"] > 0
  assert "delta_vs_twin" not in result["ixt_shuffled"]  # a twin has no twin of its own


@pytest.fixture(scope="module")
def tiny_model():
  vocab = vocab_lib.ByteVocabulary()
  cfg = model_config("1m", vocab_size=vocab.size, d_model=32, n_layers=1, n_heads=2, n_kv_heads=1, head_dim=16,
                     d_ff=64)
  graphdef, state = nnx.split(Transformer(cfg, rngs=nnx.Rngs(0)))
  return graphdef, nnx.to_pure_dict(state), vocab


def test_sampling_under_a_condition_is_deterministic_for_a_key(tiny_model):
  graphdef, params, vocab = tiny_model
  prompts = make_prompts(CORPUS, ("math",), 3)
  feedback = formatting.FeedbackSettings.from_config(tiny_config("unused").data)
  sources = conditions.Sources(positive=lambda d: "Fine.", negative=lambda r: (f"Wrong answer in {r.id}.", 0.5))
  mesh = make_mesh({"data": -1})

  def sample(condition, seed=0, max_batch=8):
    settings = SteerSettings(samples=2, max_new_tokens=12, seed=seed, max_batch=max_batch)
    return sample_condition(Sampler(graphdef, vocab, mesh, max_batch=max_batch), params, vocab, feedback, prompts,
                            condition, sources, settings, seq_len=512)

  first = sample("negative")
  assert sample("negative", max_batch=16) == first  # the same key whatever the batch around a row
  assert sample("negative", seed=1) != first
  assert sample("positive") != first  # another condition, the same keys: only the critique differs
  assert all(len(row) == 2 for row in first) and len(first) == len(prompts)
