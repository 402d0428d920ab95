"""The three-stage chain (pre-train -> mid-train -> SFT) end to end at tiny size."""
import json
import subprocess
import sys

import numpy as np

from ixt_jax.data import pipeline, subsets, vocab as vocab_lib
from train_utils import make_corpus, tiny_config


def test_sft_records_weigh_only_the_response(tmp_path):
  corpus = make_corpus(tmp_path / "corpus", 120)
  assert subsets.derive([str(corpus)], tmp_path / "sft", subsets.to_prompt_response) == 40  # the math third
  c = tiny_config(tmp_path / "sft")
  vocab = vocab_lib.load_vocabulary(c.data)
  batch = next(pipeline.make_train_iterator(c.data, vocab, batch_size=8, seed=0))
  weighted = vocab.decode(batch["tokens"][batch["loss_weights"] > 0].tolist())
  unweighted = vocab.decode(batch["tokens"][(batch["loss_weights"] == 0) & (batch["segment_ids"] > 0)].tolist())
  assert "Solution:" in weighted and "Problem:" not in weighted
  assert "Problem:" in unweighted


def test_three_stage_chain_runs_end_to_end(tmp_path):
  corpus = make_corpus(tmp_path / "corpus", 300)
  root = tmp_path / "chain"
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.stages", f"--workdir={root}", f"--annotated={corpus}", "--size=1m",
       "--steps=6", "--vocab=byte", "--seq_len=128"], capture_output=True, text=True)
  assert proc.returncode == 0, proc.stderr[-3000:]
  summaries = {s: json.loads((root / s / "summary.json").read_text()) for s in ("pretrain", "midtrain", "sft")}
  assert all(np.isfinite(summaries[s]["eval"]["loss_all"]) for s in ("pretrain", "midtrain"))
  # (the tiny SFT set holds out no document at 1%, so its held-out loss is NaN by design)
  logged = [json.loads(line) for line in (root / "sft" / "metrics.jsonl").read_text().splitlines()]
  assert [m["step"] for m in logged if "loss" in m][-1] == 6
  assert all(np.isfinite(m["loss"]) for m in logged if "loss" in m)
  for stage, previous in (("midtrain", "pretrain"), ("sft", "midtrain")):
    config = json.loads((root / stage / "config.json").read_text())
    assert config["config"]["train"]["init_from"] == str(root / previous)
    first = json.loads((root / stage / "metrics.jsonl").read_text().splitlines()[0])
    assert first["init_from"] == str(root / previous)
  assert json.loads((root / "data" / "midtrain" / "manifest.json").read_text())["records"] == 200
