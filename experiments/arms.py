"""The runs of an information-use experiment (the pilot, study v2): its annotated corpus, and the
experiments.launch command of one arm at one size, seed and budget."""
from collections.abc import Mapping, Sequence

from etils import epath

from experiments.common import prepare_builtin_corpus, run_module
from ixt_jax import rundir
from ixt_jax.data import shards


GIVEAWAY = {"giveaway": ("giveaway=True",)}  # the positive control's annotation


def annotated_dirs(root: epath.Path, corpus_overrides,
                   annotations: Mapping[str, Sequence[str]] = GIVEAWAY) -> dict[str, epath.Path]:
  """{"plain": annotated, name: annotated_<name>, ...} of one corpus: the built-in verifiers' annotation,
  and one more per entry of `annotations` (name -> overrides of configs/annotate/builtin.py)."""
  dirs = {"plain": prepare_builtin_corpus(root, corpus_overrides)}
  for name, overrides in annotations.items():
    dirs[name] = root / f"annotated_{name}"
    if not (dirs[name] / shards.MANIFEST).exists():
      run_module(["experiments.annotate", "--config=configs/annotate/builtin.py",
                  *(f"--config.{o}" for o in overrides), f"--input={root / 'corpus'}", f"--output={dirs[name]}"])
  return dirs


def launch_args(arm: str, overrides: Sequence[str], *, model: Mapping, steps: int, batch: int, seq_len: int,
                seed: int, learning_rate: float, data: epath.Path, workdir: epath.Path,
                vocab_path: str = "") -> list[str]:
  """experiments.launch's arguments for one run: the quickstart config at this size and budget, warmup
  10% of the steps, evaluated and checkpointed at the end, then the arm's own overrides."""
  model = dict(model)
  variant = f"method={arm},size={model.pop('size')},steps={steps},batch={batch},data={data},seq_len={seq_len}"
  args = ["experiments.launch", f"--config=configs/quickstart.py:{variant}", f"--workdir={workdir}",
          f"--config.seed={seed}", f"--config.optimizer.learning_rate={learning_rate}",
          f"--config.optimizer.warmup_steps={steps // 10}", "--config.eval.tasks=",
          f"--config.train.eval_every={steps}", f"--config.train.checkpoint_every={min(500, steps)}",
          f"--config.train.log_every={min(100, steps)}", "--config.train.eval_batch_size=32"]
  args += [f"--config.model.{k}={v}" for k, v in model.items()]
  args += [f"--config.data.vocab.model_path={vocab_path}"] if vocab_path else []
  return args + [f"--config.{o}" for o in overrides]


def shared_vocab(root: epath.Path, runs: str = "*") -> str:
  """The vocabulary the first run in `root/<runs>` trained, so every arm reads the same tokens."""
  for config_file in sorted(root.glob(f"{runs}/{rundir.CONFIG}")):
    path = rundir.read_json(config_file).get("vocab_path")
    if path:
      return path
  return ""
