r"""Study v2 (configs/sweeps/study_v2.py): does the model read its feedback?

  nice python -m experiments.study_v2 --config=configs/sweeps/study_v2.py --workdir=runs/study_v2 \
      [--results=experiments/results/study_v2]

DIR/data/corpus, annotated, annotated_giveaway   the pilot's actionable corpus, annotated plainly and
                                                 with the give-away critique
DIR/<size>/<arm>/seed<k>/                        one pre-training run (steer.json inside)
DIR/mid/<arm>/seed<k>/                           a mid-training run, from <mid.size>/<mid.from_arm>/seed<k>
DIR/data/annotated_critic                        with --config.model_critic.run_dir=CRITIC_RUN: the corpus
                                                 annotated by that critic (experiments.critic), served here
--results                                        runs/ (each run's config, summary and steer JSON),
                                                 study.json, tables.txt and the figures
                                                 (experiments.study_v2_report, from runs/ alone)

Runs go `jobs` at a time (each trains, then samples its steer set, in its own process); a finished
run or a sampled one is skipped, so the same command resumes the study after a crash or a kill.
"""
import os
import shlex
import sys

os.environ.setdefault("EPATH_USE_TF", "false")

from absl import app, flags
from etils import epath

from experiments import cli, study_v2_report
from experiments.arms import annotated_dirs
from configs.sweeps.study_v2 import MODEL_CRITIC
from experiments.serving import annotate_with_critic
from experiments.study_v2_runs import StudyClock, copy_results, emit, model_critic_record, plan, run_all, vocabulary
from ixt_jax import rundir

_CONFIG = cli.define_config_file("config", "configs/sweeps/study_v2.py", "study v2 config")
flags.DEFINE_string("workdir", "runs/study_v2", "study directory")
flags.DEFINE_string("results", "", "where the committed results go ('' = DIR/results)")
flags.DEFINE_enum("emit", None, ["shell", "slurm"], "write the runs as shell scripts or Slurm job arrays instead")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  c, root = _CONFIG.value, epath.Path(flags.FLAGS.workdir).absolute()
  results = epath.Path(flags.FLAGS.results or root / "results")
  clock = StudyClock(root)
  data = annotated_dirs(root / "data", c.corpus, c.annotations)
  if c.model_critic.run_dir:  # annotated by the served critic before any run starts
    data[MODEL_CRITIC] = root / "data" / f"annotated_{MODEL_CRITIC}"
    corpus = root / "data" / "corpus"  # the raw corpus annotated_dirs wrote
    annotation = annotate_with_critic(epath.Path(c.model_critic.run_dir).absolute(), corpus, data[MODEL_CRITIC],
                                      concurrency=c.model_critic.concurrency)
    results.mkdir(parents=True, exist_ok=True)
    rundir.write_json(results / study_v2_report.MODEL_CRITIC_FILE, model_critic_record(c, corpus, data, annotation))
  runs = plan(c, root, data, vocabulary(root, plan(c, root, data, "")))
  if flags.FLAGS.emit:
    derive = shlex.join(["python", "-m", "experiments.study_v2", *sys.argv[1:]]).replace(
        f" --emit={flags.FLAGS.emit}", "")
    emit(c, root, runs, results, flags.FLAGS.emit, derive)
    return
  run_all(c, runs, clock)
  seconds = clock.save()
  copy_results(runs, results)
  study = study_v2_report.derive(results, c.to_dict(), wall_seconds=seconds)
  study_v2_report.write(study, results)
  print(study_v2_report.summary_text(study), flush=True)


if __name__ == "__main__":
  cli.run(main)
