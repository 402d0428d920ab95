"""Task scoring (math exact match, code pass@1 in the sandbox), held-out loss, and evaluating a run."""
import collections
import json
import time

import numpy as np
import pytest
from flax import nnx

from ixt_jax.data import pipeline, vocab as vocab_lib
from ixt_jax.data.corpora import generate
from ixt_jax.data.synthetic import write_corpus
from ixt_jax.evaluate import code_task, math_task
from ixt_jax.evaluate.run_dir import load_run
from ixt_jax.evaluate.run_eval import evaluate_run
from ixt_jax.evaluate.sampling import cut_at_stop
from ixt_jax.evaluate.tasks import TaskSettings, make_task_evaluator
from ixt_jax.feedback.code_tests import CodeTestCritic
from ixt_jax.feedback.critics import BuiltinCritic
from ixt_jax.models import Transformer, model_config
from ixt_jax.parallel.rules import logical_to_mesh
from ixt_jax.train import heldout
from ixt_jax.train.loop import train_and_evaluate
from ixt_jax.train.step import MODEL_INPUTS, model_loss
from train_utils import make_corpus, tiny_config

POSITIVE = "Every step checks out and all unit tests pass."


def builtin_corpus(directory, math: int, code: int, seed: int = 0):
  """Built-in math and code records annotated by the built-in critics (meta keeps the ground truth)."""
  records = generate("math", math, seed) + generate("code", code, seed)
  for record, feedback in zip(records, BuiltinCritic(CodeTestCritic())(records)):
    record["feedback"] = feedback.as_record_field()
  return write_corpus(directory, records, prefix="builtin")


def test_math_answers_are_scored_against_the_recomputed_truth():
  records = generate("math", 40, seed=0)
  problems = math_task.math_problems(records)
  assert len(problems) == 40 and all(p.prompt.endswith("\nSolution:\n") for p in problems)
  written = [r["text"][len(p.prompt):] for r, p in zip(records, problems)]
  # A planted flaw always ends in a wrong answer; the truth comes from meta, not the text.
  assert math_task.exact_matches(problems, written) == [r["meta"]["flaw"] is None for r in records]
  assert math_task.parse_answer("Step 1: 2 x 3 = 6.\nAnswer: 6\nAnswer: 7") == 6
  assert math_task.parse_answer("Answer: six") is None


def test_code_completions_pass_only_when_their_tests_pass():
  records = generate("code", 16, seed=0, flaw_fraction=0.5)
  problems = code_task.code_problems(records)
  assert len(problems) == 16 and all(p.prompt.rstrip().endswith('"""') for p in problems)
  # The record's own continuation, cut where the model's would be: body, then its test function.
  completions = [cut_at_stop(r["text"][len(p.prompt):], code_task.STOP)[0] for r, p in zip(records, problems)]
  passed = code_task.pass_at_1(problems, completions, timeout_s=5.0)
  assert passed == [r["meta"]["flaw"] is None for r in records]
  assert 0 < sum(passed) < len(passed)


def test_generated_code_cannot_hang_the_evaluator_or_touch_files_outside_its_sandbox(tmp_path):
  problem = code_task.code_problems(generate("code", 1, seed=0, flaw_fraction=0.0))[0]
  outside, secret = tmp_path / "escaped.txt", tmp_path / "secret.txt"
  secret.write_text("the caller's data")
  completions = [
      "    while True:\n        pass\n",
      f"    open({str(outside)!r}, 'w').write('x')\n    return 0\n",
      f"    return open({str(secret)!r}).read()\n",
      "    import os\n    os.system('sleep 60')\n",
  ]
  start = time.perf_counter()
  passed = code_task.pass_at_1([problem] * len(completions), completions, timeout_s=1.0)
  elapsed = time.perf_counter() - start
  assert passed == [False] * len(completions)
  assert elapsed < 30, elapsed  # each program is killed at its deadline
  assert not outside.exists()


def test_eval_loss_is_the_training_loss_on_the_same_batch(tmp_path):
  c = tiny_config(make_corpus(tmp_path / "corpus", 60))
  vocab = vocab_lib.load_vocabulary(c.data)
  batches = pipeline.make_eval_batches(c.data, vocab, batch_size=4, condition="positive",
                                       positive_critique=lambda _: POSITIVE, split="all")
  batch = {k: np.asarray(v) for k, v in next(iter(batches.values()))[0].items()}
  cfg = model_config("1m", vocab_size=vocab.size, d_model=32, n_layers=1, n_heads=2, n_kv_heads=1, head_dim=16, d_ff=32)
  graphdef, params = nnx.split(Transformer(cfg, rngs=nnx.Rngs(0)))
  inputs = {k: batch[k] for k in MODEL_INPUTS}
  nats, tokens = heldout.make_eval_step(graphdef)(params, inputs)
  loss, aux = model_loss(graphdef, params, inputs, z_loss=0.0)
  assert tokens > 0
  np.testing.assert_allclose(nats / tokens, loss, rtol=1e-6)
  np.testing.assert_allclose(tokens, aux["weight_sum"])


@pytest.fixture(scope="module")
def builtin_run(tmp_path_factory):
  root = tmp_path_factory.mktemp("builtin")
  c = tiny_config(builtin_corpus(root / "corpus", math=60, code=60), steps=4, checkpoint_every=4)
  c.optimizer.warmup_steps = 1
  c.data.seq_len = 256
  c.train.positive_critique = POSITIVE
  summary = train_and_evaluate(c, root / "run", lambda _: POSITIVE)
  return root / "run", summary


def test_evaluate_run_writes_eval_json_and_fills_the_summary(builtin_run):
  run_dir, training_summary = builtin_run
  settings = TaskSettings(max_problems=4, max_new_tokens=32)
  lm_eval_scores = {"none": {"tasks": {"ixt_arith_choice": {"acc": 0.25}}}}  # as experiments.evaluate records them
  (run_dir / "eval.json").write_text(json.dumps({"lm_eval": lm_eval_scores, "step": 0}))
  result = evaluate_run(run_dir, settings, speed_new_tokens=64)

  # Replaced, but lm-eval's scores, written by another command, are kept.
  assert json.loads((run_dir / "eval.json").read_text()) == {**json.loads(json.dumps(result)), "lm_eval": lm_eval_scores}
  # The same parameters on the same held-out batches: the numbers training reported.
  trained = training_summary["eval"]
  for name, key in (("clean", "loss"), ("all", "loss_all"), ("true_critique", "loss_true_critique")):
    np.testing.assert_allclose(result["heldout"][name]["all_domains"]["loss"], trained[key], rtol=1e-5)
  # Never trained without a critique: not scored without one, in held-out loss or tasks.
  assert "unconditioned" not in result["heldout"] and trained["loss_unconditioned"] is None
  scores = result["tasks"]
  assert set(scores) == {"math_em", "code_pass1"}
  assert all(0.0 <= s <= 1.0 for s in scores.values())
  assert all(len(samples) == 4 for samples in result["task_samples"].values())
  assert result["task_generation"]["tokens"] > 0
  assert set(result["sampling_speed"]) == {"batch_1", "batch_8"}
  summary = json.loads((run_dir / "summary.json").read_text())
  assert summary["eval"]["math_em"] == scores["math_em"] and summary["eval"]["code_pass1"] == scores["code_pass1"]
  assert summary["eval"]["loss"] == trained["loss"]  # the rest of the summary is kept
  assert not list(run_dir.glob(".*tmp*"))


def test_load_run_restores_only_parameters_onto_their_shards(builtin_run):
  run = load_run(builtin_run[0])
  assert run.step == 4 and set(run.params) == {"embedding", "blocks", "final_norm"}
  embedding = run.params["embedding"]
  assert embedding.sharding.mesh == run.mesh and embedding.sharding.spec == logical_to_mesh(("vocab", "embed"))
  assert run.vocab.sha256 == json.loads((builtin_run[0] / "config.json").read_text())["tokenizer"]


@pytest.mark.slow
def test_a_briefly_trained_model_beats_chance_at_math_exact_match(tmp_path):
  """~10 minutes on 2 CPU cores. Measured (1200 steps, 64 held-out problems): exact match 0.078
  (conditioned and unconditioned) against chance 0.025; 0.031 after 300 steps, 0.0625 after 900."""
  records = generate("math", 3000, seed=0)
  corpus = builtin_corpus(tmp_path / "corpus", math=3000, code=0)
  c = tiny_config(corpus, steps=1200, checkpoint_every=1200, eval_every=1200, batch_size=32, log_every=100)
  c.data.vocab.kind, c.data.vocab.size = "sentencepiece", 1024  # digits split: one token each
  c.data.seq_len = 256  # a whole problem and its solution fit in a row
  c.data.heldout.count, c.data.heldout.fraction = 64, 0.0
  c.model.d_model, c.model.n_layers, c.model.n_heads, c.model.n_kv_heads = 128, 4, 4, 2
  c.model.head_dim, c.model.d_ff = 32, 384
  train_and_evaluate(c, tmp_path / "run", lambda _: POSITIVE)
  run = load_run(tmp_path / "run")
  scores = make_task_evaluator(run.config, run.vocab, run.graphdef, run.mesh, lambda _: POSITIVE,
                               settings=TaskSettings(tasks=("math",), max_problems=64))(run.params)
  # Chance: always answering the most common answer of the training problems.
  chance = collections.Counter(r["meta"]["answer"] for r in records).most_common(1)[0][1] / len(records)
  print(f"math exact match {scores} vs chance {chance:.3f}")
  assert scores["math_em"] > chance
