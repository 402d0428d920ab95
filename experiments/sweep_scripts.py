"""What experiments.sweep writes for other machines: the runs table, a shell script and a Slurm job array.

Every run is one shell line, its experiments.launch command. Each line is safe to repeat: launch
skips a finished run and resumes an interrupted one.
"""
import os
import shlex
import sys

from etils import epath

TABLE = "runs.tsv"
COLUMNS = ("index", "name", "method", "size", "point", "seed", "steps", "batch_size", "learning_rate",
           "warmup_steps", "tokens", "flops", "budget", "command")


def run_command(planned_run) -> str:
  return shlex.join(["python", "-m", *planned_run.args])


def _preamble() -> list[str]:
  """Run from here (config paths are relative to it), in this Python environment."""
  lines = [f"cd {shlex.quote(os.getcwd())}"]
  if sys.prefix != sys.base_prefix:  # a virtual environment
    lines.append(f"source {shlex.quote(os.path.join(sys.prefix, 'bin', 'activate'))}")
  return lines


def _fit_command(root: epath.Path) -> str:
  return shlex.join(["python", "-m", "experiments.fit", f"--sweep_dir={root / 'runs'}", f"--out={root / 'fits'}"])


def write_runs_table(root: epath.Path, planned: list) -> epath.Path:
  """DIR/runs.tsv: one row per run (the array task index is its `index`), its command last."""
  rows = ["\t".join(COLUMNS)]
  for index, p in enumerate(planned):
    r = p.run
    values = (index, r.name, r.method, r.size, r.point, r.seed, r.steps, r.batch_size, r.learning_rate,
              r.warmup_steps, r.tokens, r.flops, r.budget or "", run_command(p))
    cells = [str(v) for v in values]
    if any("\t" in cell or "\n" in cell for cell in cells):
      raise ValueError(f"run {r.name}: a tab or newline in its command or names would break {TABLE}")
    rows.append("\t".join(cells))
  path = root / TABLE
  path.write_text("\n".join(rows) + "\n")
  return path


def write_launch_script(root: epath.Path, planned: list) -> str:
  """DIR/launch.sh: every run's command, one a line; returns how to use it."""
  path = root / "launch.sh"
  lines = ["#!/usr/bin/env bash",
           f"# {len(planned)} runs, one a line, in any order or in parallel: a finished run is skipped and an",
           "# interrupted one resumes from its checkpoint. The exit status is 1 if any run failed.",
           *_preamble(), "status=0", *(f"{run_command(p)} || status=1" for p in planned), "exit $status"]
  path.write_text("\n".join(lines) + "\n")
  return f"wrote {path}\nrun it: bash {path}\nthen fit: {_fit_command(root)}"


def write_sbatch(root: epath.Path, planned: list, directives=(), setup=(), max_parallel: int = 0) -> str:
  """DIR/sweep.sbatch: a Slurm job array, one task per row of DIR/runs.tsv; returns how to submit it."""
  path, logs = root / "sweep.sbatch", root / "slurm"
  logs.mkdir(parents=True, exist_ok=True)
  throttle = f"%{max_parallel}" if max_parallel else ""
  lines = ["#!/usr/bin/env bash", "#SBATCH --job-name=ixt-sweep", f"#SBATCH --array=0-{len(planned) - 1}{throttle}",
           f"#SBATCH --output={logs}/%A_%a.out", "#SBATCH --open-mode=append", "#SBATCH --requeue",
           *(f"#SBATCH {d}" for d in directives),
           f"# Task i trains row i of {TABLE} (line i + 2, after the header). A finished run is skipped and an",
           "# interrupted (preempted, requeued) one resumes from its checkpoint: submit again to finish the sweep.",
           "set -euo pipefail", *_preamble(), *setup,
           f"command=$(awk -F '\\t' -v row=$((SLURM_ARRAY_TASK_ID + 2)) 'NR == row {{print $NF}}' "
           f"{shlex.quote(str(root / TABLE))})",
           'echo "$command"', 'eval "$command"']
  path.write_text("\n".join(lines) + "\n")
  return f"wrote {path} ({len(planned)} array tasks)\nsubmit it: sbatch {path}\nwhen every task has finished: " + \
      _fit_command(root)
