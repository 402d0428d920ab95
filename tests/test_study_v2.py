"""Study v2's plan (experiments.study_v2): every arm compute-matched at every size, the mid-training arm
continuing its baseline, and the accelerator variant resolved and emitted for Slurm and a shell, on CPU."""
import collections

from etils import epath
import pytest

from configs.sweeps import accelerator_study, study_v2 as study_v2_config
from experiments import study_v2_runs as study_v2
from experiments.common import resolve_launch_config
from ixt_jax.models.sizes import param_counts, train_flops_per_token
from ixt_jax.train import config as run_config


def _plan(c, root):
  data = {"plain": root / "data" / "annotated", **{a: root / "data" / f"annotated_{a}" for a in c.annotations},
          study_v2_config.MODEL_CRITIC: root / "data" / f"annotated_{study_v2_config.MODEL_CRITIC}"}
  return study_v2.plan(c, root, data, str(root / "vocab.model"))


def _resolved(run):
  rc = resolve_launch_config(list(run.launch[1:]))
  model = run_config.model_config(rc, rc.data.vocab.size)  # as the trainer builds it
  tokens = rc.train.steps * rc.train.batch_size * rc.data.seq_len
  return rc, model, tokens, train_flops_per_token(model, rc.data.seq_len) * tokens


@pytest.mark.parametrize("get_config", [study_v2_config.get_config, accelerator_study.get_config],
                         ids=["cpu", "accelerator"])
def test_every_arm_at_a_size_has_the_same_flops_tokens_and_learning_rate(get_config, tmp_path):
  c = get_config()
  c.model_critic.run_dir = str(tmp_path / "critic")
  runs = _plan(c, epath.Path(tmp_path))
  assert len(runs) == (len(c.sizes) * len(c.arms) + len(c.mid.arms)) * len(c.seeds) + len(c.dose.arms) * len(
      c.dose.fractions) * len(c.dose.seeds) + len(c.model_critic.arms) * len(c.model_critic.seeds)
  by_stage = collections.defaultdict(set)
  seeds = collections.Counter()
  for run in runs:
    rc, model, tokens, flops = _resolved(run)
    assert rc.method == run.arm and rc.seed == run.seed and rc.train.steps >= 100
    assert rc.data.vocab.model_path == str(tmp_path / "vocab.model")  # one tokenizer for every arm
    by_stage[run.stage].add((tokens, flops, rc.optimizer.learning_rate, rc.optimizer.warmup_steps,
                             param_counts(model)["total"]))
    seeds[(run.stage, run.arm)] += 1
    if run.stage == study_v2.MID:
      assert rc.train.init_from == str(tmp_path / c.mid.size / c.mid.from_arm / f"seed{run.seed}") == str(run.after)
      assert run.after in {r.workdir for r in runs[:runs.index(run)]}  # planned (so trained) before it
    if "_flip" in run.arm:  # the dose-response: the arm's own config on an annotation with flipped verdicts
      arm = run.arm.rpartition("_flip")[0]
      assert run.stage == c.dose.size and arm in c.dose.arms
      assert rc.data.feedback.kind == (
          "quality_token" if arm == "ixt_quality_token" else "critique")
      assert rc.data.train_dirs == [str(tmp_path / "data" / f"annotated_{run.arm.split('_')[-1]}")]
    if run.arm.endswith(f"_{study_v2_config.MODEL_CRITIC}"):  # the arm's own config on the model critic's annotation
      assert run.stage == c.model_critic.size and run.arm.rpartition("_")[0] in c.model_critic.arms
      assert rc.data.train_dirs == [str(tmp_path / "data" / f"annotated_{study_v2_config.MODEL_CRITIC}")]
  assert set(by_stage) == {*c.sizes, study_v2.MID}
  assert all(len(points) == 1 for points in by_stage.values()), by_stage  # compute-matched at every size
  assert set(seeds.values()) == {3} | {len(c.dose.seeds)}
  lrs = {s: next(iter(by_stage[s]))[2] for s in c.sizes}
  assert lrs == pytest.approx({s: study_v2.learning_rate(c, s) for s in c.sizes})
  if get_config is accelerator_study.get_config:
    totals = sorted(next(iter(by_stage[s]))[4] for s in c.sizes)
    assert 1e7 <= totals[0] and totals[-1] <= 3e8  # 10-300M parameters
    assert set(c.domains) == {"math", "code", "text"}


def test_emit_writes_two_job_arrays_and_two_shell_scripts(tmp_path, capsys):
  c = accelerator_study.get_config()
  root = epath.Path(tmp_path)
  runs = _plan(c, root)
  for kind in ("slurm", "shell"):
    study_v2.emit(c, root, runs, root / "results", kind, derive="python -m experiments.study_v2 ...")
  printed = capsys.readouterr().out
  pre = (root / "runs.tsv").read_text().splitlines()
  mid = (root / "mid.tsv").read_text().splitlines()
  assert len(pre) - 1 == (len(c.sizes) * len(c.arms) + len(c.dose.arms) * len(c.dose.fractions)) * 3
  assert len(mid) - 1 == len(c.mid.arms) * 3
  command = pre[1].split("\t")[-1]
  assert command.startswith("python -m experiments.launch ") and " && python -m experiments.evaluate --runs=" in command
  assert "--domains=math,code,text" in command
  assert "#SBATCH --array=0-80" in (root / "runs.sbatch").read_text()
  assert "#SBATCH --gres=gpu:1" in (root / "mid.sbatch").read_text()
  assert f"sbatch --dependency=afterok:$jid {root / 'mid.sbatch'}" in printed
  shell = (root / "runs.sh").read_text().splitlines()
  assert sum(line.startswith("python -m experiments.launch ") for line in shell) == 81
