"""What experiments.sweep writes for other machines: the runs table, a shell script and a Slurm job array.

Every run is one shell line, its experiments.launch command. Each line is safe to repeat: launch
skips a finished run and resumes an interrupted one.
"""
import os
import shlex
import sys
from collections.abc import Sequence

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


def fit_command(root: epath.Path) -> str:
  return shlex.join(["python", "-m", "experiments.fit", f"--sweep_dir={root / 'runs'}", f"--out={root / 'fits'}"])


def write_table(path: epath.Path, columns: Sequence[str], rows: Sequence[Sequence]) -> epath.Path:
  """A tab-separated table, header first; a Slurm array task i reads row i (its command is the last cell)."""
  lines = ["\t".join(columns)]
  for row in rows:
    cells = [str(v) for v in row]
    if any("\t" in cell or "\n" in cell for cell in cells):
      raise ValueError(f"run {cells[1]}: a tab or newline in its command or names would break {path.name}")
    lines.append("\t".join(cells))
  path.write_text("\n".join(lines) + "\n")
  return path


def write_runs_table(root: epath.Path, planned: list) -> epath.Path:
  """DIR/runs.tsv: one row per run (the array task index is its `index`), its command last."""
  rows = []
  for index, p in enumerate(planned):
    r = p.run
    rows.append((index, r.name, r.method, r.size, r.point, r.seed, r.steps, r.batch_size, r.learning_rate,
                 r.warmup_steps, r.tokens, r.flops, r.budget or "", run_command(p)))
  return write_table(root / TABLE, COLUMNS, rows)


def write_launch_script(root: epath.Path, commands: Sequence[str], then: str, name: str = "launch.sh") -> str:
  """DIR/<name>: every run's command, one a line; returns how to use it (`then`: what to run after)."""
  path = root / name
  lines = ["#!/usr/bin/env bash",
           f"# {len(commands)} runs, one a line, in any order or in parallel: a finished run is skipped and an",
           "# interrupted one resumes from its checkpoint. The exit status is 1 if any run failed.",
           *_preamble(), "status=0", *(f"{command} || status=1" for command in commands), "exit $status"]
  path.write_text("\n".join(lines) + "\n")
  return f"wrote {path}\nrun it: bash {path}\nthen: {then}"


def write_sbatch(root: epath.Path, tasks: int, then: str, directives=(), setup=(), max_parallel: int = 0,
                 table: str = TABLE, name: str = "sweep.sbatch", job_name: str = "ixt-sweep") -> str:
  """DIR/<name>: a Slurm job array, one task per row of DIR/<table>; returns how to submit it."""
  path, logs = root / name, root / "slurm"
  logs.mkdir(parents=True, exist_ok=True)
  throttle = f"%{max_parallel}" if max_parallel else ""
  lines = ["#!/usr/bin/env bash", f"#SBATCH --job-name={job_name}", f"#SBATCH --array=0-{tasks - 1}{throttle}",
           f"#SBATCH --output={logs}/%A_%a.out", "#SBATCH --open-mode=append", "#SBATCH --requeue",
           *(f"#SBATCH {d}" for d in directives),
           f"# Task i runs row i of {table} (line i + 2, after the header). A finished run is skipped and an",
           "# interrupted (preempted, requeued) one resumes from its checkpoint: submit again to finish.",
           "set -euo pipefail", *_preamble(), *setup,
           f"command=$(awk -F '\\t' -v row=$((SLURM_ARRAY_TASK_ID + 2)) 'NR == row {{print $NF}}' "
           f"{shlex.quote(str(root / table))})",
           'echo "$command"', 'eval "$command"']
  path.write_text("\n".join(lines) + "\n")
  return f"wrote {path} ({tasks} array tasks)\nsubmit it: sbatch {path}\nwhen every task has finished: {then}"
