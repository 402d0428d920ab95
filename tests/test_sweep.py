"""The sweep runner: grid arithmetic, run names, emitted scripts, failures, and a tiny sweep end to end."""
import json
import pathlib
import subprocess
import sys
import time

from etils import epath
import pytest

from configs.sweeps import cpu_small, cpu_study, cpu_tiny, pod_example
from experiments import sweep, sweep_scripts
from experiments.common import resolve_launch_config
from ixt_jax.models.sizes import model_config, param_counts, train_flops_per_token
from ixt_jax.scaling import grid
from train_utils import make_corpus

REPO = pathlib.Path(__file__).resolve().parents[1]
RULES = grid.Rules(lr_reference=1e-3, lr_exponent=0.5, n_reference=1e6, batch_reference=16, batch_exponent=0.0,
                   batch_multiple=8, warmup_fraction=0.1)
SIZES = [grid.Size("s", 1e6, 1_000_000), grid.Size("m", 4e6, 4_000_000), grid.Size("l", 1e7, 9_000_000)]
METHODS = ["ixt", "baseline"]
ROW_TOKENS = 16 * 128  # RULES' batch x the row length used below


def _plan(**kwargs):
  return grid.plan(SIZES, METHODS, RULES, 128, **kwargs)


def test_token_budgets_become_whole_steps_with_the_size_rules():
  runs = _plan(token_budgets=(100 * ROW_TOKENS, 300 * ROW_TOKENS))
  assert len(runs) == 3 * 2 * 2
  for r in runs:
    assert r.steps in (100, 300) and r.tokens == r.steps * ROW_TOKENS and r.budget is None
    assert r.warmup_steps == r.steps // 10 and r.batch_size == 16
  by_size = {r.size: r for r in runs}
  assert by_size["m"].learning_rate == pytest.approx(5e-4)  # 1e-3 * (4e6 / 1e6)^-0.5
  assert by_size["l"].flops == by_size["l"].tokens * 1e7
  assert runs[0].name == "ixt-s-D2.05e5-s0" and runs[0].point == "s/D2.05e5"


def test_isoflop_budgets_spend_c_over_flops_per_token_and_match_compute_across_methods():
  runs = _plan(compute_budgets=(1e12, 3e12))
  for r in runs:
    c = 1e12 if r.budget == "C=1e12" else 3e12
    cost = {s.label: s.flops_per_token for s in SIZES}[r.size]
    assert r.steps == round(c / cost / ROW_TOKENS)
    assert abs(r.flops - c) <= ROW_TOKENS * cost / 2  # within half a step of the budget
  points = {}
  for r in runs:
    points.setdefault(r.point, set()).add((r.steps, r.batch_size, r.learning_rate, r.warmup_steps, r.flops, r.seed))
  assert len(points) == 6 and all(len(same) == 1 for same in points.values())  # ixt and baseline identical
  assert [r.budget for r in runs[:6]] == ["C=1e12"] * 6  # smallest budget first


def test_extra_seeds_at_named_points_and_names_are_unique_and_deterministic():
  kwargs = dict(compute_budgets=(1e12, 3e12), seeds=(0,), extra_seeds=(1, 2), extra_seed_points=("m/C1e12", "l/C3e12"))
  runs = _plan(**kwargs)
  assert len(runs) == 2 * (6 + 2 * 2)
  for point in ("m/C1e12", "l/C3e12"):
    for method in METHODS:
      assert sorted(r.seed for r in runs if r.point == point and r.method == method) == [0, 1, 2]
  names = [r.name for r in runs]
  assert len(set(names)) == len(names) and names == [r.name for r in _plan(**kwargs)]
  assert "baseline-l-C3e12-s2" in names


def test_grids_that_cannot_be_met_fail_naming_the_problem():
  with pytest.raises(ValueError, match=r"size m at C1e10: 2500 tokens is 1.22 steps .* raise the budget"):
    _plan(compute_budgets=(1e10,))  # size s meets it in 5 steps; m's 1 step misses it by 18%
  with pytest.raises(ValueError, match="extra_seed_points"):
    _plan(compute_budgets=(1e12,), extra_seeds=(1,), extra_seed_points=("m/C2e12",))
  with pytest.raises(ValueError, match="'a-b'"):
    grid.plan([grid.Size("a-b", 1e6, 10)], METHODS, RULES, 128, token_budgets=(1e6,))
  with pytest.raises(ValueError, match="no budgets"):
    _plan()


def test_batch_rule_rounds_to_its_multiple_and_warmup_stays_below_steps():
  rules = grid.Rules(lr_reference=1e-3, lr_exponent=0.0, n_reference=1e6, batch_reference=16, batch_exponent=0.5,
                     batch_multiple=8, warmup_fraction=0.5)
  assert [rules.batch_size(n) for n in (1e6, 4e6, 9e6, 1e4)] == [16, 32, 48, 8]
  assert [rules.warmup_steps(s) for s in (1, 2, 10)] == [0, 1, 5]


def test_fit_minimums_are_the_fits_own():
  assert grid.unfittable_methods(_plan(compute_budgets=(1e12, 3e12))) == {}
  thin = grid.plan(SIZES[:2], METHODS, RULES, 128, compute_budgets=(1e12, 3e12))
  reasons = grid.unfittable_methods(thin)
  assert set(reasons) == set(METHODS) and "needs at least 3 model sizes" in reasons["ixt"]
  assert grid.isoflop_gaps(thin) and not grid.isoflop_gaps(_plan(compute_budgets=(1e12, 3e12)))


@pytest.mark.parametrize("config_module, vocab_size", [(cpu_small, 2048), (cpu_study, 2048), (pod_example, 32768), (cpu_tiny, 268)])
def test_shipped_sweeps_plan_and_meet_the_study_rules(config_module, vocab_size):
  c = config_module.get_config()
  sizes = []
  for label, fields in c.sizes.items():  # ladder arithmetic; experiments.sweep measures the real tokenizer
    fields = dict(fields)
    model = model_config(fields.pop("size"), vocab_size=vocab_size, **fields)
    sizes.append(grid.Size(label, train_flops_per_token(model, c.seq_len), param_counts(model)["non_embedding"]))
  runs = grid.plan(sizes, list(c.methods), grid.Rules(**c.rules), c.seq_len, token_budgets=c.token_budgets,
                   compute_budgets=c.compute_budgets, seeds=c.seeds, extra_seeds=c.extra_seeds,
                   extra_seed_points=c.extra_seed_points, budget_tolerance=c.budget_tolerance)
  assert grid.unfittable_methods(runs) == {} and not grid.isoflop_gaps(runs)
  if config_module is not cpu_tiny:  # a study: at least 3 seeds at 2 grid points per method
    for method in c.methods:
      seeded = {r.point for r in runs if r.method == method and r.seed == 2}
      assert len(seeded) >= 2 and all(
          {r.seed for r in runs if r.point == p and r.method == method} >= {0, 1, 2} for p in seeded)


def test_cpu_study_parts_tune_both_methods_and_run_controls_where_seed_noise_is_measured():
  lr, study, controls = (cpu_study.get_config(part) for part in cpu_study.PARTS)
  assert len(lr.sizes) == 2 and set(lr.methods) == {"ixt", "baseline"} and len(lr.lr_sweep.learning_rates) >= 3
  assert len(study.sizes) >= 4 and len(study.compute_budgets) >= 3 and "ixt_cooldown" in study.methods
  assert study.study_point in study.extra_seed_points and list(controls.sizes) == [study.study_point.split("/")[0]]
  assert set(cpu_study.CONTROLS) <= set(controls.methods) and {"ixt", "baseline"} <= set(controls.methods)
  # The controls reuse the grid's own ixt and baseline runs: the same rules and overrides give the same commands.
  assert (controls.rules, controls.overrides, controls.seq_len) == (study.rules, study.overrides, study.seq_len)
  with pytest.raises(ValueError, match="cpu_study part 'grid2'"):
    cpu_study.get_config("grid2")


def test_a_failed_run_is_counted_and_the_others_still_run(tmp_path):
  def planned(name, args, finished):
    workdir = epath.Path(tmp_path / name)
    workdir.mkdir()
    if finished:
      (workdir / "summary.json").write_text("{}")
    run = grid.Run(name, "ixt", "s", "s/C1", 0, 1, 8, 1e-3, 0, 8, 1.0, 10, "C=1")
    return sweep.PlannedRun(run, workdir, args)

  runs = [planned("done", ["ixt_no_such_module"], True),  # finished: skipped, never launched
          planned("crashes", ["ixt_no_such_module"], False),
          planned("stops", ["platform"], False),  # exits 0 without a summary, as a preempted run does
          planned("after", ["ixt_no_such_module"], True)]
  failed = sweep.run_locally(runs)
  assert failed == ["crashes (exit status 1)",
                    "stops (stopped before finishing; run the sweep again to resume it)"]


def test_emitted_slurm_array_and_shell_script_run_the_planned_commands(tmp_path):
  data = make_corpus(tmp_path / "corpus", 60)
  root = tmp_path / "sweep"
  done = subprocess.run([sys.executable, "-m", "experiments.sweep", "--config=configs/sweeps/cpu_tiny.py",
                         f"--workdir={root}", f"--data={data}", "--emit=slurm"],
                        cwd=REPO, capture_output=True, text=True, check=False)
  assert done.returncode == 0, done.stderr[-3000:]
  assert f"sbatch {root / 'sweep.sbatch'}" in done.stdout and not (root / "runs").exists()  # nothing trained

  rows = [line.split("\t") for line in (root / "runs.tsv").read_text().splitlines()]
  header, rows = rows[0], rows[1:]
  assert header == list(sweep_scripts.COLUMNS) and len(rows) == 12
  assert [int(row[0]) for row in rows] == list(range(12))
  sbatch = (root / "sweep.sbatch").read_text()
  assert "#SBATCH --array=0-11\n" in sbatch and "#SBATCH --requeue" in sbatch
  pick = next(line for line in sbatch.splitlines() if line.startswith("command=$("))
  for task in (0, 7, 11):
    picked = subprocess.run(["bash", "-c", f'SLURM_ARRAY_TASK_ID={task}; {pick}; printf %s "$command"'],
                            capture_output=True, text=True, check=True).stdout
    assert picked == rows[task][-1]
    assert picked.startswith("python -m experiments.launch ") and picked.endswith(f"--workdir={root}/runs/{rows[task][1]}")
    assert f"--config.budget={rows[task][12]} " in picked  # summary.json carries the IsoFLOP budget

  planned = sweep.plan_sweep(cpu_tiny.get_config(), str(data), epath.Path(root))
  assert [p.run.name for p in planned] == [row[1] for row in rows]
  script = sweep_scripts.write_launch_script(epath.Path(root), [sweep_scripts.run_command(p) for p in planned],
                                            sweep_scripts.fit_command(epath.Path(root)))
  assert f"bash {root / 'launch.sh'}" in script
  lines = (root / "launch.sh").read_text().splitlines()
  launches = [line for line in lines if line.startswith("python -m experiments.launch ")]
  assert len(launches) == 12 and all(line.endswith(" || status=1") for line in launches)
  resolved = resolve_launch_config(planned[5].args)  # the command says what the plan says
  assert (resolved.train.steps, resolved.train.batch_size, resolved.seed) == (planned[5].run.steps, 8, 0)
  assert resolved.optimizer.learning_rate == planned[5].run.learning_rate
  assert resolved.optimizer.warmup_steps == planned[5].run.warmup_steps and resolved.model.n_layers == 2

  unfair = cpu_tiny.get_config()
  unfair.methods.ixt = ("model.d_ff=96",)  # IXT would train a bigger model than the baseline
  with pytest.raises(ValueError, match="not the planned"):
    sweep.plan_sweep(unfair, str(data), epath.Path(root))


@pytest.mark.slow
def test_tiny_sweep_end_to_end_gives_tagged_summaries_fits_and_figures(tmp_path):
  data = make_corpus(tmp_path / "corpus", 400)
  root = tmp_path / "sweep"
  command = [sys.executable, "-m", "experiments.sweep", "--config=configs/sweeps/cpu_tiny.py", f"--workdir={root}",
             f"--data={data}"]
  start = time.time()
  done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
  print(f"tiny sweep (12 runs and the fit): {time.time() - start:.0f} s")
  assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]

  plan = {row.split("\t")[1]: row.split("\t") for row in (root / "runs.tsv").read_text().splitlines()[1:]}
  summaries = {p.parent.name: json.loads(p.read_text()) for p in (root / "runs").glob("*/summary.json")}
  assert set(summaries) == set(plan)
  for name, s in summaries.items():
    assert s["budget"] == plan[name][12] and s["flops"] == float(plan[name][11]) and s["steps"] == int(plan[name][6])
  for name, s in summaries.items():  # compute-matched: the baseline twin of every IXT run
    if s["method"] == "ixt":
      twin = summaries[name.replace("ixt-", "baseline-", 1)]
      assert (twin["flops"], twin["tokens"], twin["seed"]) == (s["flops"], s["tokens"], s["seed"])
  fits = json.loads((root / "fits" / "fits.json").read_text())
  assert set(fits["methods"]) == {"baseline", "ixt"} and "ixt" in fits["multiplier"]["methods"]
  assert "budget" in json.dumps(fits["methods"]["baseline"]["isoflop"])  # grouped by the tags
  for figure in ("loss_vs_compute", "multiplier"):
    assert (root / "fits" / f"{figure}.png").stat().st_size > 1000

  again = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
  assert again.returncode == 0 and "experiments.launch" not in again.stdout  # every run skipped


def test_planned_configs_are_what_their_commands_resolve_to_even_with_a_comma_in_the_data_path(tmp_path):
  data = make_corpus(tmp_path / "my,corpus", 60)
  planned = sweep.plan_sweep(cpu_tiny.get_config(), str(data), epath.Path(tmp_path / "sweep"))
  for p in (planned[0], planned[-1]):
    assert p.config.data.train_dirs == [str(data)]
    assert resolve_launch_config(p.args).to_dict() == p.config.to_dict()
