"""The run directory on a stand-in bucket (fsspec's memory://): whole-file writes, typed files."""
import subprocess
import sys

import fsspec
import pytest

from ixt_jax import rundir

SUMMARY = rundir.Summary(
    method="ixt", seed=1, model="1m", n_params=100, n_params_non_embedding=60, tokens=1000, doc_tokens=800,
    documents=10, flops=6e5, flops_per_token=600.0, annotation_flops=0.0, tokenizer="abc", steps=10,
    batch_size=4, seq_len=25, wall_seconds=1.5, bad_records={}, eval={"loss": 2.5, "math_em": None})


@pytest.fixture
def bucket():
  fs = fsspec.filesystem("memory")
  root = "memory://bucket-test/run"
  yield root
  fs.rm("/bucket-test", recursive=True)


def test_metrics_keep_every_line_once_across_a_resume(bucket):
  first = rundir.MetricsFile(bucket)
  for step in range(1, 9):
    first.add(step, {"loss": 1.0 / step})
    if step == 4:
      first.flush()  # a checkpoint at step 4
  first.flush()  # lines 5..8 reached the bucket, then the process died before the checkpoint at 8
  resumed = rundir.MetricsFile(bucket)
  resumed.truncate(4)
  for step in range(5, 11):
    resumed.add(step, {"loss": 1.0 / step})
  resumed.flush()
  logged = rundir.read_metrics(bucket)
  assert [m["step"] for m in logged] == list(range(1, 11))
  assert [m["loss"] for m in logged] == [1.0 / s for s in range(1, 11)]


def test_summary_round_trip_and_update_on_a_bucket(bucket):
  assert not rundir.is_finished(bucket)
  assert not rundir.update_summary_eval(bucket, {"math_em": 0.5})  # nothing to update yet
  rundir.write_summary(bucket, SUMMARY)
  assert rundir.is_finished(bucket)
  assert rundir.read_summary(bucket) == SUMMARY
  assert "budget" not in rundir.read_json(rundir.path(bucket, rundir.SUMMARY))  # only a sweep's runs carry one
  assert rundir.update_summary_eval(bucket, {"math_em": 0.5})
  assert rundir.read_summary(bucket).eval == {"loss": 2.5, "math_em": 0.5}


def test_summary_keeps_keys_it_does_not_know():
  d = {**SUMMARY.to_dict(), "budget": "C=1e12", "from_elsewhere": [1, 2]}
  summary = rundir.Summary.from_dict(d)
  assert summary.budget == "C=1e12" and summary.extra == {"from_elsewhere": [1, 2]}
  assert summary.to_dict() == d


def test_resolved_config_round_trip(bucket):
  resolved = rundir.ResolvedConfig(config={"method": "ixt"}, model={"d_model": 32}, tokenizer="abc",
                                   vocab_path="", n_params={"total": 5}, flops_per_token=6.0,
                                   mesh={"data": 8}, process_count=1)
  rundir.write_config(bucket, resolved)
  assert rundir.read_config(bucket) == resolved
  with pytest.raises(FileNotFoundError, match="no config.json"):
    rundir.read_config(bucket + "-absent")


def test_local_writes_replace_the_file_whole(tmp_path):
  rundir.write_json(tmp_path / "a" / "x.json", {"v": 1})
  rundir.write_json(tmp_path / "a" / "x.json", {"v": 2})
  assert rundir.read_json(tmp_path / "a" / "x.json") == {"v": 2}
  assert [p.name for p in (tmp_path / "a").iterdir()] == ["x.json"]  # no temporary file left


def test_importing_it_does_not_import_jax():
  code = "import sys, ixt_jax.rundir, ixt_jax.scaling.summaries; assert 'jax' not in sys.modules, 'jax'"
  subprocess.run([sys.executable, "-c", code], check=True)
