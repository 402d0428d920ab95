"""Pieces the orchestrating entry points (quickstart, stages, sweep, study) share."""
import subprocess
import sys
from collections.abc import Sequence

from absl import flags
from etils import epath
from ml_collections import config_flags


def run_module(args: list[str]) -> None:
  """Runs `python -m <args>` as a subprocess, printing the command so it can be re-run by hand."""
  print("\n$ python -m " + " ".join(args), flush=True)
  subprocess.run([sys.executable, "-m", *args], check=True)


def prepare_builtin_corpus(root: epath.Path, corpus_overrides: Sequence[str] = ()) -> epath.Path:
  """Writes (once) and annotates (resumably) the built-in corpus under `root`; returns the annotated dir.

  `corpus_overrides` are 'a.b=value' fields of configs/data/builtin.py (record counts, say).
  """
  corpus, annotated = root / "corpus", root / "annotated"
  if not (corpus / "manifest.json").exists():
    run_module(["experiments.corpus", "--config=configs/data/builtin.py", f"--out={corpus}",
                *(f"--config.{o}" for o in corpus_overrides)])
  if not (annotated / "manifest.json").exists():
    run_module(["experiments.annotate", "--config=configs/annotate/builtin.py", f"--input={corpus}",
                f"--output={annotated}"])
  return annotated


def resolve_launch_config(args: list[str]):
  """The run config experiments.launch builds from these arguments, resolved the same way (config_flags):
  the check that a planned command says what the plan's config says."""
  argv = ["launch", *(a for a in args if a.startswith("--config"))]
  flag_values = flags.FlagValues()
  try:
    # config_flags reads the config path from argv when the flag is defined, to define its override flags.
    config_flags.DEFINE_config_file("config", None, flag_values=flag_values, lock_config=True, sys_argv=argv)
    flag_values(argv)
    return flag_values.config
  except (flags.Error, AttributeError, KeyError, OSError) as e:  # an unknown key, a bad value, no such file
    raise ValueError(f"the launch config rejects `{' '.join(argv[1:])}` (run from the repository root: config "
                     f"paths are relative to it): {type(e).__name__}: {e}") from None
