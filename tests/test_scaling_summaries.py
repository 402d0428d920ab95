"""Reading a sweep's summaries: any depth, local or bucket, only the required keys, bad files named."""
import json

import numpy as np
import pytest

from ixt_jax.scaling import summaries
from ixt_jax.scaling import synthetic

MINIMAL = {"method": "baseline", "n_params": 1000, "tokens": 5000, "flops": 3e10, "eval": {"loss": 3.2}}


def _write(path, summary):
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(summary if isinstance(summary, str) else json.dumps(summary))


def test_finds_summaries_at_any_depth_and_states_each_default_once(tmp_path):
  _write(tmp_path / "summary.json", MINIMAL)
  _write(tmp_path / "a" / "b" / "c" / "summary.json", {**MINIMAL, "method": "ixt"})
  _write(tmp_path / "a" / "metrics.jsonl", "not a summary")
  runs = summaries.load_runs(str(tmp_path))
  assert len(runs) == 2 and runs.methods == ["baseline", "ixt"]
  np.testing.assert_array_equal(runs.seed, [0, 0])
  np.testing.assert_array_equal(runs.annotation_flops, [0, 0])
  np.testing.assert_array_equal(runs.n("non_embedding"), runs.n("total"))
  assert len(runs.defaults) == 3
  for key in ("seed", "annotation_flops", "n_params_non_embedding"):
    assert sum(note.startswith(key) for note in runs.defaults) == 1
  assert np.isnan(runs.accuracy["eval.math_em"]).all()


def test_every_bad_file_is_named_in_one_error(tmp_path):
  _write(tmp_path / "good" / "summary.json", MINIMAL)
  _write(tmp_path / "no_flops" / "summary.json", {k: v for k, v in MINIMAL.items() if k != "flops"})
  _write(tmp_path / "broken" / "summary.json", "{not json")
  _write(tmp_path / "text_size" / "summary.json", {**MINIMAL, "n_params": "1B"})
  _write(tmp_path / "no_metric" / "summary.json", {**MINIMAL, "eval": {"loss": None}})
  with pytest.raises(ValueError) as error:
    summaries.load_runs(str(tmp_path))
  message = str(error.value)
  for bad in ("no_flops", "broken", "text_size", "no_metric"):
    assert f"{bad}/summary.json" in message
  assert "good/summary.json" not in message
  assert "'flops'" in message and "'eval.loss'" in message


def test_a_bucket_path_reads_through_fsspec():
  sweep = "memory://ixt-test-sweep"
  synthetic.write_sweep(sweep, synthetic.make_summaries([1e7, 3e7], tokens=[1e9], required_only=True))
  runs = summaries.load_runs(sweep)
  assert len(runs) == 4 and all(p.startswith("memory://") for p in runs.path)


def test_the_metric_is_a_dotted_path_and_missing_sweeps_say_so(tmp_path):
  _write(tmp_path / "r" / "summary.json", {**MINIMAL, "eval": {"loss": 3.2, "bits_per_byte": 1.1}})
  assert summaries.load_runs(str(tmp_path), metric="eval.bits_per_byte").metric.tolist() == [1.1]
  (tmp_path / "empty").mkdir()
  with pytest.raises(FileNotFoundError, match="no summary.json"):
    summaries.load_runs(str(tmp_path / "empty"))
  with pytest.raises(FileNotFoundError, match="no such sweep directory"):
    summaries.load_runs(str(tmp_path / "absent"))
