"""The optional W&B logger, offline: the run file holds the same scalars as metrics.jsonl / TensorBoard,
the resolved config and the summary."""
import json

import pytest

from ixt_jax.train.loop import train_and_evaluate
from ixt_jax.rundir import read_metrics
from ixt_jax.train.metrics import MetricsWriter
from ixt_jax.train.wandb_writer import WandbWriter
from train_utils import make_corpus, tiny_config
from wandb_records import offline_run_file, read_records


@pytest.fixture(autouse=True)
def offline(monkeypatch):
  monkeypatch.setenv("WANDB_MODE", "offline")
  monkeypatch.setenv("WANDB_SILENT", "true")


def _values(items) -> dict:
  return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


def _of_kind(records, kind: str) -> list:
  return [getattr(r, kind) for r in records if r.WhichOneof("record_type") == kind]


def _logged(records) -> dict[int, dict]:
  """step -> the scalars logged at it (W&B's own `_step`, `_runtime`, ... left out)."""
  logged = {}
  for history in _of_kind(records, "history"):
    values = _values(history.item)
    logged.setdefault(values.pop("_step"), {}).update({k: v for k, v in values.items() if not k.startswith("_")})
  return logged


def _scalars(metrics: dict, prefix: str = "") -> dict:
  """TensorBoard's tags and values of one metrics.jsonl line: numbers, nested names joined by '/'."""
  out = {}
  for key, value in metrics.items():
    if isinstance(value, dict):
      out.update(_scalars(value, f"{prefix}{key}/"))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
      out[prefix + key] = value
  return out


def _assert_same_scalars(workdir):
  logged = _logged(read_records(offline_run_file(workdir / "wandb")))
  lines = read_metrics(workdir)
  assert lines
  for line in lines:
    step = line.pop("step")
    assert _scalars(line).items() <= logged[step].items(), step


def test_the_metrics_writer_logs_the_same_scalars_config_and_summary_to_wandb(tmp_path):
  writer = MetricsWriter(tmp_path, True, WandbWriter(tmp_path, {"config": {"method": "ixt"}}, project="ixt-test"))
  writer.write(0, {"bad_records": {"too_long": 2}, "init_from": "", "records_seen": 40})
  writer.write(1, {"loss": 3.5, "learning_rate": 1e-3, "flag": True})
  writer.write(2, {"loss": 3.25, "heldout": {"clean": {"all_domains": {"loss": 3.4}}}})
  writer.close({"eval": {"loss": 3.4}, "tokens": 1024})

  _assert_same_scalars(tmp_path)
  records = read_records(offline_run_file(tmp_path / "wandb"))
  assert _logged(records)[2] == {"loss": 3.25, "heldout/clean/all_domains/loss": 3.4}
  (run,) = _of_kind(records, "run")
  assert _values(run.config.update)["config"] == {"method": "ixt"}
  summary = {}
  for update in _of_kind(records, "summary"):
    summary.update(_values(update.update))
  assert summary["eval"] == {"loss": 3.4} and summary["tokens"] == 1024


@pytest.mark.slow
def test_training_with_wandb_project_set_logs_to_an_offline_run(tmp_path):
  c = tiny_config(make_corpus(tmp_path / "corpus", 120), steps=3, checkpoint_every=3)
  c.optimizer.warmup_steps = 1
  c.wandb.project = "ixt-test"
  summary = train_and_evaluate(c, tmp_path / "run", lambda _: "A flawless document.")

  _assert_same_scalars(tmp_path / "run")
  records = read_records(offline_run_file(tmp_path / "run" / "wandb"))
  assert {"loss", "mfu", "heldout/clean/all_domains/loss"} <= set(_logged(records)[3])
  (run,) = _of_kind(records, "run")
  config = _values(run.config.update)  # the resolved config.json
  assert config["config"]["wandb"]["project"] == "ixt-test" and config["n_params"]["total"] == summary["n_params"]
  final = {}
  for update in _of_kind(records, "summary"):
    final.update(_values(update.update))
  assert final["eval"]["loss"] == summary["eval"]["loss"] and final["tokens"] == summary["tokens"]
