"""The thinking critic end to end at tiny size: `experiments.critic` trains it on the verifiers'
reasoning, `experiments.serve` serves it on loopback, the served client annotates shards with it
(every record once, also across a kill), and a run trained on them is charged the annotation compute."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from configs.annotate import critic as critic_config
from ixt_jax.data import shards
from ixt_jax.feedback.annotate import annotate_directory
from ixt_jax.feedback.critics import make_critic
from ixt_jax.train.loop import train_and_evaluate
from serve_utils import ROOT, served
from train_utils import positive_critique, tiny_config
from xla_env import xla_flags

# A tiny model learns the verifiers' response to these in a hundred steps: every document is cut
# to its first 48 characters of plain prose, so the text critic always says the same thing (a
# model this small still needs the documents it annotates to read like those it learnt from).
_CRITIC = ["--config=configs/stages/critic.py:steps=100,vocab=byte,seq_len=256,batch=4",
           "--config.critic.max_document_chars=48", "--config.critic.max_tokens=200",
           "--config.model.d_model=64", "--config.model.n_layers=2", "--config.model.n_heads=4",
           "--config.model.n_kv_heads=2", "--config.model.head_dim=16", "--config.model.d_ff=128",
           "--config.optimizer.learning_rate=0.02"]


def _write_corpus(directory, prefix: str, n: int, per_shard: int):
  records = [{"id": f"{prefix}{i}", "domain": "text",
              "text": f"Note {i}: " + "plain words about the topic here. " * (3 + i % 4)} for i in range(n)]
  entries = []
  for start in range(0, n, per_shard):
    name = f"{prefix}-{start // per_shard:05d}-of-{-(-n // per_shard):05d}.jsonl"
    entries.append({"path": name, "records": shards.write_shard(directory / name, records[start:start + per_shard])})
  shards.write_manifest(directory, {"format": "jsonl", "records": n, "shards": entries})
  return directory


def _ids(directory):
  return [json.loads(b)["id"] for p in shards.list_shards(directory) for b in shards.read_shard(p)]


@pytest.fixture(scope="module")
def critic(tmp_path_factory):
  """(run directory, base URL) of a tiny critic trained by experiments.critic and served."""
  root = tmp_path_factory.mktemp("critic")
  corpus = _write_corpus(root / "corpus", "train", 48, 48)
  proc = subprocess.run([sys.executable, "-m", "experiments.critic", f"--workdir={root / 'w'}", f"--corpus={corpus}",
                         *_CRITIC], cwd=ROOT, env=dict(os.environ, XLA_FLAGS=xla_flags(1)), capture_output=True,
                        text=True, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  run_dir = root / "w" / "critic"
  assert json.loads((root / "w" / "data" / "sft" / "manifest.json").read_text())["records"] > 30
  with served(run_dir, "--model_name=critic", "--max_batch=8", "--max_tokens_limit=200") as base_url:
    yield run_dir, base_url


def test_the_served_critic_annotates_every_record_once_and_the_run_pays_for_it(critic, tmp_path):
  run_dir, base_url = critic
  config = critic_config.get_config(str(run_dir))
  config.served.base_url, config.served.concurrency = base_url, 8
  raw = _write_corpus(tmp_path / "raw", "doc", 16, 8)
  summary = annotate_directory(raw, tmp_path / "annotated", make_critic(config), show_progress=False)
  assert sorted(_ids(tmp_path / "annotated")) == sorted(_ids(raw)) and summary["failures"]["count"] == 0
  records = [json.loads(b) for p in shards.list_shards(tmp_path / "annotated") for b in shards.read_shard(p)]
  assert all(r["feedback"]["critic"] == "served:critic" and r["feedback"]["critique"] for r in records)
  n_params = json.loads((run_dir / "summary.json").read_text())["n_params"]
  assert summary["critic"]["n_params"] == n_params and summary["generated_tokens"] > 0
  assert summary["annotation_flops"] == 2 * n_params * summary["tokens"] > 0
  assert shards.read_manifest(tmp_path / "annotated")["annotation_flops"] == summary["annotation_flops"]

  c = tiny_config(tmp_path / "annotated", steps=2)
  c.optimizer.warmup_steps = 1
  downstream = train_and_evaluate(c, tmp_path / "run", positive_critique)
  on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
  assert on_disk["annotation_flops"] == downstream["annotation_flops"] > 0
  assert on_disk["annotation_flops"] <= summary["annotation_flops"]


@pytest.mark.slow  # ~10 s more; test_annotate.py keeps the same guarantee in the default tier
def test_a_killed_served_annotation_resumes_with_no_record_lost_or_repeated(critic, tmp_path):
  run_dir, base_url = critic
  raw, out = _write_corpus(tmp_path / "raw", "doc", 48, 4), tmp_path / "out"
  command = [sys.executable, "-m", "experiments.annotate", f"--config=configs/annotate/critic.py:{run_dir}",
             f"--config.served.base_url={base_url}", "--config.served.concurrency=4", f"--input={raw}",
             f"--output={out}"]
  proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.monotonic() + 120
  while not (out / "doc-00000-of-00012.jsonl").exists() and proc.poll() is None and time.monotonic() < deadline:
    time.sleep(0.01)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  done = [p for p in shards.list_shards(raw) if (out / p.name).exists()]
  assert 0 < len(done) < 12, "the kill should land mid-run"
  subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
  assert sorted(_ids(out)) == sorted(_ids(raw)) and len(_ids(out)) == 48
  manifest = shards.read_manifest(out)
  assert manifest["records"] == 48 and manifest["failures"] == 0 and manifest["annotation_flops"] > 0
