"""Training part 2: gradient accumulation, NaN guard, SIGTERM, resuming on another device count."""
import json
import os
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ixt_jax.data import pipeline, vocab as vocab_lib
from ixt_jax.parallel.mesh import make_mesh
from ixt_jax.parallel.sharding import use_mesh
from ixt_jax.train import config as config_lib
from ixt_jax.train.checkpoint import Checkpointer
from ixt_jax.train.loop import train_and_evaluate
from ixt_jax.rundir import read_metrics
from ixt_jax.train.optimizer import make_optimizer
from ixt_jax.train.sharded_state import ShardedSetup, setup
from ixt_jax.train.step import MODEL_INPUTS, make_train_step
from ixt_jax.data.synthetic import synthetic_records, write_corpus
from train_utils import make_corpus, positive_critique, tiny_config

TINY_RUN = os.path.join(os.path.dirname(__file__), "tiny_run.py")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  return make_corpus(tmp_path_factory.mktemp("guards") / "corpus")


def test_gradient_accumulation_equals_the_large_batch(corpus):
  c = tiny_config(corpus)
  vocab = vocab_lib.load_vocabulary(c.data)
  batch = next(pipeline.make_train_iterator(c.data, vocab, batch_size=32, seed=0))
  batch = {k: jnp.asarray(batch[k]) for k in MODEL_INPUTS}
  tx, schedule = make_optimizer(c.optimizer, 10)
  mesh = make_mesh({"data": -1})
  ss = setup(config_lib.model_config(c, vocab.size), tx, mesh, seed=0)
  results = []
  for microbatches in (1, 4):
    step = jax.jit(make_train_step(ss.graphdef, tx, schedule, 1e-4, microbatches))
    with use_mesh(mesh):
      results.append(step(ss.make_state(), batch))
  (one, m1), (four, m4) = results
  np.testing.assert_allclose(m1["loss"], m4["loss"], rtol=1e-6)
  np.testing.assert_allclose(m1["grad_norm"], m4["grad_norm"], rtol=1e-5)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7), one.params, four.params)


def test_nan_in_the_data_stops_the_run_naming_the_step_and_keeps_the_last_checkpoint(corpus, tmp_path, monkeypatch):
  to_device = ShardedSetup.to_device
  train_batches = []

  def poisoned(self, batch):
    """Passes training batches through; the 10th carries NaN loss weights."""
    train_batches.append(1)
    if len(train_batches) == 10:
      batch = {**batch, "loss_weights": np.full_like(batch["loss_weights"], np.nan)}
    return to_device(self, batch)

  monkeypatch.setattr(ShardedSetup, "to_device", poisoned)
  c = tiny_config(corpus, steps=16, checkpoint_every=4)
  with pytest.raises(FloatingPointError, match=r"non-finite loss nan .* at step 10 .*last good checkpoint, step 8"):
    train_and_evaluate(c, tmp_path / "run", positive_critique)
  checkpointer = Checkpointer(tmp_path / "run" / "checkpoints", keep=2)
  assert checkpointer.latest_step() == 8
  vocab = vocab_lib.load_vocabulary(c.data)
  tx, _ = make_optimizer(c.optimizer, 16)
  abstract = setup(config_lib.model_config(c, vocab.size), tx, make_mesh({"data": -1}), seed=0).abstract
  restored = checkpointer.restore_state(8, abstract)
  assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(restored.params))


def test_sigterm_saves_the_current_step_and_exits_cleanly(corpus, tmp_path):
  workdir = tmp_path / "run"
  log = tmp_path / "run.log"  # a file, not a pipe nobody reads while we wait
  proc = subprocess.Popen([sys.executable, TINY_RUN, str(corpus), str(workdir), "5000", "8", "checkpoint_every=10000"],
                          stdout=subprocess.DEVNULL, stderr=log.open("w"))
  deadline = time.time() + 300
  while time.time() < deadline and not [m for m in read_metrics(workdir) if m.get("step", 0) >= 5]:
    time.sleep(0.05)
  proc.send_signal(signal.SIGTERM)
  proc.wait(timeout=120)
  assert proc.returncode == 0, log.read_text()[-2000:]
  logged = max(m["step"] for m in read_metrics(workdir) if "loss" in m)
  checkpointer = Checkpointer(workdir / "checkpoints", keep=2)
  assert checkpointer.latest_step() == logged >= 5  # the step it stood at, not a scheduled one
  assert not (workdir / "summary.json").exists()


def _state_arrays(workdir, c, devices):
  """Params and optimizer state restored on a mesh of `devices` simulated devices, as numpy."""
  code = f"""
import os, sys, pickle
sys.path.insert(0, {os.path.dirname(__file__)!r})
from xla_env import xla_flags
os.environ["XLA_FLAGS"] = xla_flags({devices})
import jax, numpy as np
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.parallel.mesh import make_mesh
from ixt_jax.parallel.sharding import use_mesh
from ixt_jax.train import config as config_lib
from ixt_jax.train.checkpoint import Checkpointer
from ixt_jax.train.optimizer import make_optimizer
from ixt_jax.train.sharded_state import setup
from train_utils import tiny_config
c = tiny_config({str(c.data.train_dirs[0])!r}, steps={c.train.steps})
vocab = vocab_lib.load_vocabulary(c.data)
tx, _ = make_optimizer(c.optimizer, c.train.steps)
mesh = make_mesh({{"data": -1}})
abstract = setup(config_lib.model_config(c, vocab.size), tx, mesh, seed=0).abstract
ckpt = Checkpointer({str(workdir / "checkpoints")!r}, keep=2)
state = ckpt.restore_state(ckpt.latest_step(), abstract)
assert all(len(x.sharding.device_set) == {devices} for x in jax.tree.leaves(state.params))
sys.stdout.buffer.write(pickle.dumps(jax.tree.map(np.asarray, (state.params, state.opt_state))))
"""
  import pickle  # pylint: disable=g-import-not-at-top
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
  return pickle.loads(out.stdout)


def test_checkpoint_from_8_devices_restores_on_4_and_1_and_training_continues(corpus, tmp_path):
  c = tiny_config(corpus, steps=8, checkpoint_every=4)
  train_and_evaluate(c, tmp_path / "run8", positive_critique)
  on_8 = _state_arrays(tmp_path / "run8", c, 8)
  for devices in (4, 1):
    jax.tree.map(np.testing.assert_array_equal, _state_arrays(tmp_path / "run8", c, devices), on_8)
  # Continue the 8-device run on 4 devices: it resumes at step 8 and finishes.
  proc = subprocess.run([sys.executable, TINY_RUN, str(corpus), str(tmp_path / "run8"), "12", "4"],
                        capture_output=True, text=True)
  assert proc.returncode == 0, proc.stderr[-2000:]
  steps = [m["step"] for m in read_metrics(tmp_path / "run8") if "loss" in m]
  assert steps == list(range(1, 13))


def test_conditioning_cooldown_drops_critiques_from_the_same_stream_position(corpus, tmp_path):
  c = tiny_config(corpus, steps=8, checkpoint_every=4, conditioning_cooldown=0.5)
  c.data.feedback.repeat = "every"  # every row of a conditioned batch then opens with a critique
  vocab = vocab_lib.load_vocabulary(c.data)
  critique_open = vocab.encode(vocab_lib.CRITIQUE_OPEN)[0]
  conditioned = pipeline.make_train_iterator(c.data, vocab, batch_size=8, seed=0)
  for _ in range(4):
    assert (next(conditioned)["tokens"] == critique_open).any()
  position = conditioned.get_state()
  cooled_cfg = tiny_config(corpus)
  cooled_cfg.data.feedback.repeat = "every"
  cooled_cfg.data.feedback.dropout = 1.0
  cooled = pipeline.make_train_iterator(cooled_cfg.data, vocab, batch_size=8, seed=0)
  cooled.set_state(position)
  cooled_batch, conditioned_batch = next(cooled), next(conditioned)
  assert not (cooled_batch["tokens"] == critique_open).any()
  assert cooled_batch["document_tokens"].sum() > conditioned_batch["document_tokens"].sum() > 0
  # The run switches at step 5 of 8 and says so through its document-token counts: no critique
  # tokens are spent, so more document tokens fit in the second half.
  train_and_evaluate(c, tmp_path / "run", positive_critique)
  logged = {m["step"]: m for m in read_metrics(tmp_path / "run") if "loss" in m}
  first_half = logged[4]["doc_tokens"]
  second_half = logged[8]["doc_tokens"] - first_half
  assert second_half > first_half


def test_a_critic_that_never_rates_a_document_flawless_gets_a_warning_and_null_not_nan(tmp_path, capsys):
  records = synthetic_records(200, seed=0)
  for record in records:  # a served critic's continuous scores may never reach the "flawless" bar of 1.0
    record["feedback"]["score"] = min(record["feedback"]["score"], 0.9)
  c = tiny_config(write_corpus(tmp_path / "corpus", records), steps=2)
  c.optimizer.warmup_steps = 1
  summary = train_and_evaluate(c, tmp_path / "run", positive_critique)
  out = capsys.readouterr().out
  assert "WARNING: the clean split is empty (the highest held-out score is 0.9)" in out
  assert "data.heldout.clean_score" in out and "compiling the train step" in out
  assert summary["eval"]["loss"] is None and summary["eval"]["loss_all"] > 0
  reject = lambda constant: pytest.fail(f"{constant} written into JSON")
  for name in ("summary.json", "metrics.jsonl"):
    for line in [(tmp_path / "run" / name).read_text()] if name.endswith(".json") else (
        tmp_path / "run" / name).read_text().splitlines():
      json.loads(line, parse_constant=reject)
