"""The annotation driver: one annotated record per input, resumable, shardable, failures retryable."""
import codecs
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from etils import epath

from configs.data import builtin
from ixt_jax.data import shards
from ixt_jax.data.corpora import writer
from ixt_jax.feedback.annotate import annotate_directory
from ixt_jax.feedback.critic import Failure, Feedback

REPO = epath.Path(__file__).parent.parent


class FakeCritic:
  """Approves everything, counts what it was asked, and fails the ids in `fail` (as a server might)."""
  name = "fake"
  n_params = 1000

  def __init__(self, fail=()):
    self.fail, self.seen = set(fail), []

  def describe(self):
    return {"name": self.name, "n_params": self.n_params}

  def __call__(self, records):
    self.seen += [r["id"] for r in records]
    return [Failure("server said no", self.name, raw="<html>") if r["id"] in self.fail
            else Feedback(f"fine: {r['domain']}", 0.75, self.name, tokens=10) for r in records]


def _corpus(directory, math=40, code=0, text=10, shards_per_domain=2):
  config = builtin.get_config()
  config.math.count, config.code.count, config.text.count = math, code, text
  config.math.shards = config.text.shards = shards_per_domain
  config.code.shards = max(1, min(shards_per_domain, code))
  manifest = writer.write_builtin(directory, config, "jsonl")
  shards.write_manifest(directory, {**manifest, "format": "jsonl", "stage": "corpus",
                                    "records": sum(s["records"] for s in manifest["shards"])})


def _ids(directory):
  return [json.loads(b)["id"] for path in shards.list_shards(directory) for b in shards.read_shard(path)]


def _records(directory):
  return [json.loads(b) for path in shards.list_shards(directory) for b in shards.read_shard(path)]


def test_annotates_every_record_once_then_skips_finished_shards(tmp_path):
  _corpus(tmp_path / "raw")
  critic = FakeCritic()
  summary = annotate_directory(tmp_path / "raw", tmp_path / "out", critic, fmt="arrayrecord", show_progress=False)
  assert sorted(_ids(tmp_path / "out")) == sorted(_ids(tmp_path / "raw")) and len(critic.seen) == 50
  manifest = shards.read_manifest(tmp_path / "out")
  assert manifest["format"] == "arrayrecord" and manifest["stage"] == "annotate" and manifest["records"] == 50
  assert [s["path"] for s in manifest["shards"]] == [p.name.replace(".jsonl", ".arrayrecord") for p in
                                                     shards.list_shards(tmp_path / "raw")]
  for record in _records(tmp_path / "out"):
    assert record["feedback"] == {"critique": f"fine: {record['domain']}", "score": 0.75, "critic": "fake"}
    assert "meta" in record
  assert summary["annotated"] == 50 and summary["failures"]["count"] == 0
  assert summary["tokens"] == 500 and summary["annotation_flops"] == 2 * 1000 * 500
  assert summary["score_histogram"]["counts"][7] == 50 and set(summary["domains"]) == {"math", "text"}
  assert json.loads((tmp_path / "out" / "summary.json").read_text()) == summary
  again = FakeCritic()
  assert annotate_directory(tmp_path / "raw", tmp_path / "out", again, fmt="arrayrecord",
                            show_progress=False) == summary and again.seen == []


def test_workers_split_shards_and_the_last_one_completes_the_directory(tmp_path):
  _corpus(tmp_path / "raw", shards_per_domain=3)
  first, second = FakeCritic(), FakeCritic()
  assert annotate_directory(tmp_path / "raw", tmp_path / "out", first, worker_index=0, num_workers=2,
                            show_progress=False) is None
  assert not (tmp_path / "out" / shards.MANIFEST).exists()
  summary = annotate_directory(tmp_path / "raw", tmp_path / "out", second, worker_index=1, num_workers=2,
                               show_progress=False)
  assert not set(first.seen) & set(second.seen) and len(first.seen) + len(second.seen) == 50
  assert summary["annotated"] == 50 and sorted(_ids(tmp_path / "out")) == sorted(_ids(tmp_path / "raw"))
  with pytest.raises(ValueError, match="worker_index"):
    annotate_directory(tmp_path / "raw", tmp_path / "out", first, worker_index=2, num_workers=2)


def test_failures_are_listed_with_reasons_and_retried_alone(tmp_path):
  _corpus(tmp_path / "raw")
  raw_ids = _ids(tmp_path / "raw")
  failing = set(raw_ids[3:6]) | {raw_ids[-1]}
  summary = annotate_directory(tmp_path / "raw", tmp_path / "out", FakeCritic(fail=failing), show_progress=False)
  assert summary["failures"] == {"count": 4, "by_reason": {"server said no": 4}, "files": "failures/*.failures"}
  listed = [json.loads(b) for p in sorted((tmp_path / "out" / "failures").iterdir()) for b in shards.read_shard(p)]
  assert {f["id"] for f in listed} == failing and all(f["raw"] == "<html>" for f in listed)
  assert set(_ids(tmp_path / "out")) == set(raw_ids) - failing
  retry = FakeCritic()
  summary = annotate_directory(tmp_path / "raw", tmp_path / "out", retry, retry_failed=True, show_progress=False)
  assert sorted(retry.seen) == sorted(failing)  # only the failed records are judged again
  assert _ids(tmp_path / "out") == raw_ids and summary["failures"]["count"] == 0  # in input order, once each
  assert not list((tmp_path / "out" / "failures").iterdir())


def test_existing_feedback_is_kept_and_identical_texts_are_judged_once(tmp_path):
  human = {"critique": "A human liked it.", "score": 1.0, "critic": "human:test"}
  records = [{"id": f"r{i}", "text": "same text" if i % 2 else f"text {i}", "domain": "text"} for i in range(10)]
  records[0]["feedback"] = human
  shards.write_shard(tmp_path / "raw" / "mixed-00000-of-00001.jsonl", [*records, b"{not json"])
  critic = FakeCritic()
  summary = annotate_directory(tmp_path / "raw", tmp_path / "out", critic, show_progress=False)
  assert len(critic.seen) == 5  # r0 kept; r1, r3, r5, r7, r9 share one text; r2, r4, r6, r8
  out = _records(tmp_path / "out")
  assert out[0]["feedback"] == human and len(out) == 10
  assert summary["kept_existing_feedback"] == 1 and summary["cache_hits"] == 4
  (reason,) = summary["failures"]["by_reason"]  # the broken line, listed rather than lost
  assert summary["failures"]["count"] == 1 and reason.startswith("undecodable input record: Expecting")
  (tmp_path / "out" / "mixed-00000-of-00001.jsonl").unlink()  # a re-run finds the cache on disk
  rerun = FakeCritic()
  annotate_directory(tmp_path / "raw", tmp_path / "out", rerun, show_progress=False)
  assert rerun.seen == []
  # a reader globbing the folder for records (as people do with a dataset folder) finds records only
  globbed = [json.loads(line) for p in (tmp_path / "out").rglob("*.jsonl") for line in p.read_text().splitlines()]
  assert sorted(r["id"] for r in globbed) == sorted(r["id"] for r in out)
  assert list((tmp_path / "out" / "cache").glob("*.cache")) and list((tmp_path / "out" / "failures").iterdir())


def test_killed_mid_run_and_rerun_gives_exactly_one_record_per_input(tmp_path):
  raw, out = tmp_path / "raw", tmp_path / "out"
  _corpus(raw, math=2000, code=600, text=100, shards_per_domain=6)
  command = [sys.executable, "-m", "experiments.annotate", "--config=configs/annotate/builtin.py",
             f"--input={raw}", f"--output={out}"]
  (tmp_path / "tmp").mkdir()  # where the killed run's sandboxes leave their temp dirs
  env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
  proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.monotonic() + 120
  while not (out / "code-00000-of-00006.jsonl").exists() and proc.poll() is None and time.monotonic() < deadline:
    time.sleep(0.01)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  done = [p for p in shards.list_shards(raw) if (out / p.name).exists()]
  assert 0 < len(done) < len(shards.list_shards(raw)), "the kill should land mid-run"
  assert not (out / shards.MANIFEST).exists()
  subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
  raw_ids, out_ids = _ids(raw), _ids(out)
  assert len(out_ids) == len(raw_ids) == 2700 and sorted(out_ids) == sorted(raw_ids)
  manifest = shards.read_manifest(out)
  assert manifest["records"] == 2700 and manifest["failures"] == 0 and manifest["annotation_flops"] == 0
  summary = json.loads((out / "summary.json").read_text())
  assert summary["records"] == 2700 and summary["critic"]["sandbox"]


def test_a_byte_order_mark_opening_a_raw_file_does_not_lose_its_first_record(tmp_path):
  lines = [shards.encode_record({"id": f"r{i}", "text": f"text {i}", "domain": "text"}) for i in range(3)]
  shards.write_shard(tmp_path / "raw" / "bom-00000-of-00001.jsonl", [codecs.BOM_UTF8 + lines[0], *lines[1:]])
  summary = annotate_directory(tmp_path / "raw", tmp_path / "out", FakeCritic(), show_progress=False)
  assert summary["failures"]["count"] == 0 and [r["id"] for r in _records(tmp_path / "out")] == ["r0", "r1", "r2"]
