"""The train loop's hooks, each on its own (no model, no compile)."""
import numpy as np
import pytest

from ixt_jax import rundir
from ixt_jax.train.checkpoint_hook import CheckpointHook
from ixt_jax.train.eval_hooks import HeldoutEval, TaskEval
from ixt_jax.train import resume
from ixt_jax.train.metrics import MetricsWriter
from ixt_jax.train.step_log import StepLog, Throughput


def _metrics(loss=2.0, grad_norm=1.0, doc_tokens=30, documents=2, critique_tokens=10):
  return {"loss": np.float32(loss), "grad_norm": np.float32(grad_norm), "learning_rate": np.float32(1e-3),
          "document_tokens": np.int32(doc_tokens), "documents": np.int32(documents),
          "critique_tokens": np.int32(critique_tokens)}


def _step_log(writer, total=4, log_every=2):
  progress = resume.fresh_progress()
  return StepLog(writer, Throughput(tokens_per_step=100, flops_per_token=6.0, peak_flops=1e6), total, log_every,
                 progress, lambda step: f"restart from checkpoint 0 (step {step})", printing=False)


def test_step_log_reads_one_step_late_counts_every_step_and_logs_at_intervals(tmp_path):
  writer = MetricsWriter(tmp_path, enabled=True)
  log = _step_log(writer)
  log.observe(1, _metrics(), first=True)  # the compiling step: reported at once
  assert log.progress["doc_tokens"] == 30
  log.observe(2, _metrics())
  assert log.progress["doc_tokens"] == 30  # step 2 is read when step 3 has been dispatched
  for step in (3, 4):
    log.observe(step, _metrics())
  log.flush()
  writer.close()
  assert log.progress == {"doc_tokens": 120, "documents": 8, "critique_tokens": 40, "process_count": 1}
  logged = rundir.read_metrics(tmp_path)
  assert [m["step"] for m in logged] == [2, 4]  # every log_every steps and the last
  assert logged[-1]["tokens"] == 400 and logged[-1]["doc_tokens"] == 120 and logged[-1]["flops"] == 2400.0
  assert logged[-1]["mfu"] == pytest.approx(logged[-1]["tokens_per_s"] * 6.0 / 1e6)


def test_step_log_stops_on_a_non_finite_loss_naming_the_step(tmp_path):
  log = _step_log(MetricsWriter(tmp_path, enabled=False))
  log.observe(1, _metrics(), first=True)
  log.observe(2, _metrics(grad_norm=float("inf")))
  with pytest.raises(FloatingPointError, match=r"gradient norm inf at step 2 \(restart from checkpoint 0"):
    log.flush()


def test_eval_hooks_are_due_on_their_schedules_and_log_what_they_score(tmp_path):
  writer = MetricsWriter(tmp_path, enabled=True)
  sets = {"clean": {"math": [{"document_bytes": np.array([5, 3])}]}}  # one batch: 6 nats over 4 tokens, 8 bytes
  heldout = HeldoutEval(lambda params, batch: (np.float32(6.0), np.float32(4.0)), sets, lambda b: b, every=3,
                        total_steps=10, writer=writer, printing=False)
  assert [s for s in range(1, 11) if heldout.due(s)] == [3, 6, 9, 10]
  tasks = TaskEval(lambda params: {"math_em": 0.25, "code_pass1": None}, every=0, total_steps=10, writer=writer,
                   printing=False)
  assert [s for s in range(1, 11) if tasks.due(s)] == [10]  # every=0: at the end only
  assert tasks(10, params=None) == {"math_em": 0.25, "code_pass1": None}
  assert heldout(10, params=None) == 1.5
  assert heldout.results["clean"]["all_domains"]["bits_per_byte"] == pytest.approx(6.0 / np.log(2) / 8)
  writer.close()
  assert rundir.read_metrics(tmp_path) == [{"step": 10, "tasks": {"math_em": 0.25}},
                                           {"step": 10, "heldout": heldout.results}]


def test_checkpoint_hook_saves_on_schedule_at_the_end_and_on_preemption(tmp_path):
  hook = CheckpointHook(tmp_path, every=4, keep=2, minutes=0.0, log_every=1, total_steps=10,
                        writer=MetricsWriter(tmp_path, enabled=False))
  assert [s for s in range(1, 11) if hook.due(s, preempted=False)] == [4, 8, 10]
  assert hook.due(5, preempted=True)
  assert "last good checkpoint, step None" in hook.last_good(3, seed=0)
  hook.close()
