"""Pieces the orchestrating entry points (quickstart, stages, sweep, study) share."""
import subprocess
import sys
from collections.abc import Sequence

from etils import epath


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
