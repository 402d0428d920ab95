r"""Train the thinking critic in one command: corpus -> verifier SFT set -> SFT run -> a saved critic.

python -m experiments.critic --workdir=runs/critic [--corpus=RAW_DIR] \
    [--config=configs/stages/critic.py:size=1m,steps=300] [--config.critic.max_document_chars=1000]

Writes (resumably; each part is skipped once done):
  WORKDIR/corpus      the built-in raw corpus (unless --corpus names one)
  WORKDIR/data/sft    SFT records: prompt = the document, response = <think>reasoning</think> Critique: ...
                      Score: ... (the built-in verifiers on the corpus's training split)
  WORKDIR/critic      the critic's run directory (checkpoint, summary.json; config.json keeps `critic`)
Then `python -m experiments.critic_eval --run_dir=WORKDIR/critic --corpus=...` serves it, measures it
against the verifiers on the held-out split and writes its card beside the checkpoint; annotate with
it by serving it (`python -m experiments.serve`) and `configs/annotate/served.py` with the settings
critic_eval prints.
"""
import os

os.environ.setdefault("EPATH_USE_TF", "false")

from absl import flags, logging  # pylint: disable=g-import-not-at-top
from etils import epath

from configs.annotate import builtin as builtin_annotate
from experiments import cli
from experiments.common import run_module
from ixt_jax import rundir
from ixt_jax.evaluate.run_eval import run_positive_critique
from ixt_jax.feedback import critic_sft
from ixt_jax.feedback.critics import make_critic
from ixt_jax.train.loop import train_and_evaluate

_CONFIG = cli.define_config_file("config", "configs/stages/critic.py", "critic run config", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", "runs/critic", "root of the critic's corpus, SFT set and run directory")
_CORPUS = flags.DEFINE_string("corpus", "", "raw corpus (shards + manifest); '' = write the built-in one")


def corpus_dir(root: epath.Path, given: str) -> epath.Path:
  """The raw corpus: the one given, else the built-in one, written (once) under root."""
  if given:
    return epath.Path(given)
  corpus = root / "corpus"
  if not (corpus / "manifest.json").exists():
    run_module(["experiments.corpus", "--config=configs/data/builtin.py", f"--out={corpus}"])
  return corpus


def main(argv):
  del argv
  if not flags.FLAGS["verbosity"].present:  # orbax logs every save at INFO
    logging.set_verbosity(logging.WARNING)
  root = epath.Path(_WORKDIR.value).absolute()  # orbax needs absolute paths
  c = _CONFIG.value
  corpus, sft_dir, run_dir = corpus_dir(root, _CORPUS.value), root / "data" / "sft", root / "critic"
  manifest = critic_sft.build_sft_set(
      corpus, sft_dir, make_critic(builtin_annotate.get_config()), prompt_template=c.critic.prompt_template,
      max_document_chars=c.critic.max_document_chars, heldout_fraction=c.critic.heldout_fraction)
  print(f"critic SFT set: {manifest['records']} records {manifest['domains']} in {sft_dir} "
        f"({manifest['heldout_for_critic_eval']} held out for critic_eval; {manifest['verifier_failures']} the "
        "verifiers could not judge)", flush=True)
  if rundir.is_finished(run_dir):
    print(f"{run_dir} is finished ({rundir.SUMMARY} present)")
  else:
    c = c.copy_and_resolve_references()
    c.data.train_dirs = [str(sft_dir)]
    train_and_evaluate(c, run_dir, run_positive_critique(c), None)
  print(f"critic saved in {run_dir}; measure it with\n"
        f"  python -m experiments.critic_eval --run_dir={run_dir} --corpus={corpus}")


if __name__ == "__main__":
  cli.run(main)
