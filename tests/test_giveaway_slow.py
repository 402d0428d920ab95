"""The positive control, end to end: a tiny model trained on critiques that give the flaw away writes
it when shown a negative, and not when shown a positive (Delta > 5 standard errors).

Slow tier (minutes): corpus, give-away annotation, training, steering, endpoints, as the pilot runs them.
"""
import subprocess
import sys

import pytest

from ixt_jax.evaluate import endpoints
from ixt_jax.evaluate.run_dir import load_run
from ixt_jax.evaluate.run_eval import run_positive_critique
from ixt_jax.evaluate.steer import SteerSettings, steer_run
from ixt_jax.train.loop import train_and_evaluate
from ixt_jax.train.config import get_run_config

DOMAIN = "text"  # the domain where the pilot's baseline flaw rate lies in 0.2-0.8 at this scale
STEPS = 600


def _module(*args):
  subprocess.run([sys.executable, "-m", *args], check=True, capture_output=True)


@pytest.mark.slow
def test_giveaway_control_shows_delta_beyond_five_standard_errors(tmp_path):
  corpus, annotated = tmp_path / "corpus", tmp_path / "annotated"
  _module("experiments.corpus", "--config=configs/data/builtin.py", f"--out={corpus}", "--config.math.count=0",
          "--config.code.count=0", "--config.text.count=600", "--config.text.shards=1",
          "--config.text.flaw_fraction=0.5", "--config.text.flaws=noise")
  _module("experiments.annotate", "--config=configs/annotate/builtin.py", "--config.giveaway=True",
          f"--input={corpus}", f"--output={annotated}")
  c = get_run_config()
  c.method = "ixt_giveaway"
  c.data.train_dirs = [str(annotated)]
  c.data.vocab.size = 1024
  c.data.vocab.cache_dir = str(tmp_path / "vocab")
  c.data.quarantine_dir = str(tmp_path / "quarantine")
  c.model.d_model, c.model.n_layers, c.model.n_heads, c.model.n_kv_heads = 64, 2, 4, 2
  c.model.head_dim, c.model.d_ff = 16, 192
  c.train.steps, c.train.batch_size, c.train.eval_every = STEPS, 8, STEPS
  c.train.checkpoint_every, c.train.log_every = STEPS, 100
  c.train.peak_flops_per_device = 1e12
  c.optimizer.learning_rate, c.optimizer.warmup_steps = 1e-2, STEPS // 10
  c.eval.tasks = ""
  train_and_evaluate(c, tmp_path / "run", run_positive_critique(c))
  run = load_run(tmp_path / "run")
  steer = steer_run(run, run_positive_critique(run.config),
                    SteerSettings(domains=(DOMAIN,), prompts=48, samples=4, max_new_tokens=96), show_progress=False)
  result = endpoints.endpoints(endpoints.Runs([{"method": c.method, "seed": 0, "steer": steer}]), [DOMAIN], 400)
  delta = result[c.method]["delta"]
  assert delta["value"] > 5 * delta["se"], (delta, steer["rates"])
