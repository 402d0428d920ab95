"""Study v2's runs: the plan (every arm, size, seed, mid-training and dose-response run with its
launch command), running them `jobs` at a time, and writing them out for Slurm or a shell.
experiments/study_v2.py parses the flags and calls these."""
import concurrent.futures
import dataclasses
import shlex
import shutil
import time

from etils import epath

from configs.sweeps import study_v2 as study_v2_config
from experiments import sweep_scripts
from experiments.study_v2_report import MID
from experiments.arms import launch_args, shared_vocab
from experiments.common import resolve_launch_config, run_module
from ixt_jax import rundir
from ixt_jax.data import vocab
from ixt_jax.feedback import critic_card
from ixt_jax.evaluate.steer import STEER_FILE
from ixt_jax.models import sizes

COPIED = (rundir.CONFIG, rundir.SUMMARY, STEER_FILE)
RUNS = "*/*/seed*"  # DIR/<stage>/<arm>/seed<k>
WALL_FILE = "wall.json"  # seconds this study has run, summed over every invocation


@dataclasses.dataclass(frozen=True)
class Run:
  stage: str  # a size, or MID
  arm: str
  seed: int
  workdir: epath.Path
  launch: tuple[str, ...]
  after: epath.Path | None = None  # the run this one continues (mid-training)

  @property
  def name(self) -> str:
    return f"{self.stage}/{self.arm}/seed{self.seed}"


def learning_rate(c, size: str) -> float:
  """The one rule every arm uses: lr_reference (N / n_reference)^-lr_exponent."""
  model = dict(c.models[size])
  n = sizes.param_counts(sizes.model_config(model.pop("size"), **model))["non_embedding"]
  return c.lr_reference * (n / c.n_reference) ** -c.lr_exponent


def plan(c, root: epath.Path, data: dict[str, epath.Path], vocab_path: str) -> list[Run]:
  """Every run in the order it trains: pre-training size by size, the mid-training runs right after the
  size they continue, the dose-response, then the runs on the model critic's annotation (if any)."""

  def run(stage, arm, seed, annotation, overrides, size, steps, lr, after=None) -> Run:
    workdir = root / stage / arm / f"seed{seed}"
    return Run(stage, arm, seed, workdir, tuple(launch_args(
        arm, (*c.overrides, *overrides), model=c.models[size], steps=steps, batch=c.batch_size, seq_len=c.seq_len,
        seed=seed, learning_rate=lr, data=data[annotation], workdir=workdir, vocab_path=vocab_path)), after)

  runs = []
  for size in c.sizes:
    lr = learning_rate(c, size)
    runs += [run(size, arm, seed, annotation, overrides, size, c.steps, lr)
             for seed in c.seeds for arm, (annotation, overrides) in c.arms.items()]
    if size == c.mid.size:
      for seed in c.seeds:
        start = root / size / c.mid.from_arm / f"seed{seed}"
        runs += [run(MID, arm, seed, annotation, (*overrides, f"train.init_from={start}"), size, c.mid.steps,
                     c.mid.learning_rate, after=start) for arm, (annotation, overrides) in c.mid.arms.items()]
  for arm in c.dose.arms:
    _, overrides = c.arms[arm]  # each point reads its own annotation
    runs += [run(c.dose.size, f"{arm}_{study_v2_config.dose_annotation(f)}", seed,
                 study_v2_config.dose_annotation(f), overrides, c.dose.size, c.steps, learning_rate(c, c.dose.size))
             for seed in c.dose.seeds for f in c.dose.fractions]
  critic = c.model_critic
  if critic.run_dir:
    for arm in critic.arms:
      _, overrides = c.arms[arm]
      runs += [run(critic.size, f"{arm}_{study_v2_config.MODEL_CRITIC}", seed, study_v2_config.MODEL_CRITIC,
                   overrides, critic.size, c.steps, learning_rate(c, critic.size)) for seed in critic.seeds]
  return runs


def model_critic_record(c, corpus: epath.Path, data: dict[str, epath.Path], annotation: dict) -> dict:
  """What places the model critic on the dose-response curve (study_v2_report.MODEL_CRITIC_FILE): its
  verdicts over the whole corpus against the verifiers', its annotation's cost, and its held-out card
  (experiments.critic_eval) where one was written."""
  run_dir = epath.Path(c.model_critic.run_dir)
  card = run_dir / critic_card.CARD_JSON
  return {"run_dir": str(run_dir), "summary": rundir.read_json(run_dir / rundir.SUMMARY),
          "corpus_verdicts": critic_card.corpus_verdicts(corpus, data["plain"],
                                                         data[study_v2_config.MODEL_CRITIC]),
          "annotation": critic_card.cost(annotation, c.model_critic.concurrency),
          "heldout_card": rundir.read_json(card) if card.exists() else None}


def steer_args(c, workdir: epath.Path) -> list[str]:
  """experiments.evaluate's arguments that sample one run's steer set (its endpoints come later)."""
  return ["experiments.evaluate", f"--runs={workdir}", f"--domains={','.join(c.domains)}", f"--prompts={c.prompts}",
          f"--samples={c.samples}", f"--steer_tokens={c.steer_tokens}", "--bootstrap=2"]


def train_and_steer(c, run: Run) -> float:
  """Trains the run (unless finished) and samples its steer set (unless sampled); returns seconds."""
  start = time.time()
  if not rundir.is_finished(run.workdir):
    run_module(list(run.launch))
  if not (run.workdir / STEER_FILE).exists():
    run_module(steer_args(c, run.workdir))
  return time.time() - start


def run_all(c, runs: list[Run], clock: "StudyClock") -> None:
  """`c.jobs` runs at a time in plan order; a mid-training run first waits for the run it continues."""
  todo = [r for r in runs if not (rundir.is_finished(r.workdir) and (r.workdir / STEER_FILE).exists())]
  print(f"study v2: {len(runs)} runs, {len(runs) - len(todo)} done, {len(todo)} to go, {c.jobs} at a time",
        flush=True)
  started = time.time()
  with concurrent.futures.ThreadPoolExecutor(c.jobs) as pool:
    futures: dict[epath.Path, concurrent.futures.Future] = {}
    for run in todo:
      futures[run.workdir] = pool.submit(_after, futures.get(run.after), c, run)
    names = {f: run.name for f, run in zip(futures.values(), todo)}
    for i, future in enumerate(concurrent.futures.as_completed(names), 1):
      seconds = future.result()  # a failed run stops the study: its command is printed above to rerun
      clock.save()
      elapsed = time.time() - started
      print(f"[{i}/{len(todo)}] {names[future]} done in {seconds:.0f} s; elapsed {elapsed / 60:.1f} min, "
            f"ETA {elapsed / i * (len(todo) - i) / 60:.1f} min", flush=True)


def _after(start: concurrent.futures.Future | None, c, run: Run) -> float:
  if start is not None:
    start.result()  # raises if the run this one continues failed
  return train_and_steer(c, run)


class StudyClock:
  """The study's wall time summed over every invocation (DIR/wall.json, saved as runs finish)."""

  def __init__(self, root: epath.Path):
    self.path, self.started = root / WALL_FILE, time.time()
    self.before = rundir.read_json(self.path)["seconds"] if self.path.exists() else 0.0

  def save(self) -> float:
    seconds = self.before + time.time() - self.started
    rundir.write_json(self.path, {"seconds": seconds})
    return seconds


def copy_results(runs: list[Run], results: epath.Path) -> None:
  for run in runs:
    out = results / "runs" / run.stage / run.arm / f"seed{run.seed}"
    out.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
      shutil.copyfile(run.workdir / name, out / name)


def vocabulary(root: epath.Path, runs: list[Run]) -> str:
  """The vocabulary every run reads: the one a run here already trained, else one trained now on the
  first run's corpus sample, so that runs may start in any order or all at once."""
  found = shared_vocab(root, RUNS)
  if found:
    return found
  first = resolve_launch_config(list(runs[0].launch[1:]))
  return str(vocab.load_vocabulary(first.data).path)


def emit(c, root: epath.Path, runs: list[Run], results: epath.Path, kind: str, derive: str) -> None:
  """DIR/runs.tsv + DIR/mid.tsv and two Slurm job arrays (or two shell scripts): the mid-training
  runs start from pre-training runs, so their array waits for the first one. `derive`: the command
  that writes the results once every run has finished."""
  parts = {"runs": [r for r in runs if r.stage != MID], "mid": [r for r in runs if r.stage == MID]}
  for name, part in parts.items():
    rows = [(i, r.name, r.stage, r.arm, r.seed, " && ".join(shlex.join(["python", "-m", *a])
                                                          for a in (r.launch, steer_args(c, r.workdir))))
            for i, r in enumerate(part)]
    sweep_scripts.write_table(root / f"{name}.tsv", ("index", "name", "stage", "arm", "seed", "command"), rows)
    then = "the mid-training part" if name == "runs" else derive
    if kind == "shell":
      print(sweep_scripts.write_launch_script(root, [row[-1] for row in rows], then, name=f"{name}.sh"))
    else:
      print(sweep_scripts.write_sbatch(root, len(rows), then, c.slurm.directives, c.slurm.setup, c.slurm.max_parallel,
                                       table=f"{name}.tsv", name=f"{name}.sbatch", job_name=f"ixt-study-{name}"))
  if kind == "slurm":
    print(f"in order: jid=$(sbatch --parsable {root / 'runs.sbatch'}); "
          f"sbatch --dependency=afterok:$jid {root / 'mid.sbatch'}")
  print(f"results, once every run has finished, into {results}: {derive}")
