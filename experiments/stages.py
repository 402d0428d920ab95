"""The three-stage pipeline in one command: pre-train -> mid-train -> supervised fine-tuning.

python -m experiments.stages --workdir=runs/stages [--method=ixt|baseline] [--size=1m] [--steps=200]

Each stage is `experiments.launch` with `configs/stages/<stage>.py`, starting from the previous
stage's parameters (`train.init_from`) with a fresh optimizer and the pre-training vocabulary (the
copy the previous stage's run directory keeps).
Mid-training reads the math and code records; SFT reads math problems as prompt/response pairs
(loss on the response only). Every stage resumes or is skipped if finished, so the chain does too.
"""
from absl import flags
from etils import epath

from configs.common import format_variant
from experiments.common import prepare_builtin_corpus, run_module
from ixt_jax import rundir
from ixt_jax.data import subsets
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.train.heldout import format_loss
from experiments import cli

flags.DEFINE_string("workdir", "runs/stages", "root of the chain's data and run directories")
flags.DEFINE_string("annotated", "", "annotated shards to pre-train on ('' = build the built-in corpus)")
flags.DEFINE_enum("method", "ixt", ["ixt", "baseline"], "every stage conditioned (ixt) or not")
flags.DEFINE_string("size", "1m", "model size from the ladder")
flags.DEFINE_integer("steps", 200, "train steps per stage")
flags.DEFINE_string("vocab", "sentencepiece", "sentencepiece | byte")
flags.DEFINE_integer("seq_len", 256, "row length")

STAGES = ("pretrain", "midtrain", "sft")


def main(argv):
  del argv
  f = flags.FLAGS
  root = epath.Path(f.workdir)
  annotated = epath.Path(f.annotated) if f.annotated else prepare_builtin_corpus(root)
  data = {
      "pretrain": annotated,
      "midtrain": root / "data" / "midtrain",
      "sft": root / "data" / "sft",
  }
  subsets.derive([str(annotated)], data["midtrain"], subsets.domain_filter(("math", "code")))
  subsets.derive([str(annotated)], data["sft"], subsets.to_prompt_response)
  previous = None
  for stage in STAGES:
    variant = format_variant({"method": f.method, "size": f.size, "steps": f.steps, "data": data[stage],
                              "vocab": f.vocab, "seq_len": f.seq_len})
    args = ["experiments.launch", f"--config=configs/stages/{stage}.py:{variant}", f"--workdir={root / stage}"]
    if previous is not None:
      resolved = rundir.read_config(previous)
      kept = vocab_lib.saved_file(resolved.config["data"]["vocab"]["kind"], rundir.path(previous, rundir.TOKENIZER))
      vocab_path = kept if kept and rundir.exists(kept) else resolved.vocab_path  # a run from before the copy
      args += [f"--config.train.init_from={previous}", f"--config.data.vocab.model_path={vocab_path}"]
    run_module(args)
    previous = root / stage
  for stage in STAGES:
    summary = rundir.read_summary(root / stage)
    print(f"{stage:<9} held-out clean loss {format_loss(summary.eval['loss'])} "
          f"(no critique {format_loss(summary.eval['loss_unconditioned'])}), {summary.tokens:,} tokens")


if __name__ == "__main__":
  cli.run(main)
