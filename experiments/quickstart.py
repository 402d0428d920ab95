"""The main job (`make quickstart`): build and annotate the built-in corpus, train IXT and an
unconditioned baseline at equal training compute on the same document order, print how they compare.

python -m experiments.quickstart [--workdir=runs/quickstart] [--size=1m] [--steps=300]

Each stage is the project's own entry point, run as a subprocess and printed, so any step can be
re-run by hand; every stage is cached or resumable, so a second call only prints the table.
"""
import time

from absl import flags
from etils import epath

from configs.common import format_variant
from experiments.common import prepare_builtin_corpus, run_module
from ixt_jax import rundir
from experiments import cli

flags.DEFINE_string("workdir", "runs/quickstart", "where the corpus, annotations and runs go")
flags.DEFINE_string("size", "1m", "model size from the ladder")
flags.DEFINE_integer("steps", 300, "train steps per run (both runs: equal FLOPs)")
flags.DEFINE_integer("seed", 0, "seed of both runs: same initialisation, same document order")

METHODS = ("ixt", "baseline")


def _row(name: str, loss: float | None, bpb: float | None, s: dict) -> str:
  figure = lambda x: f"{'untrained':>10}" if x is None else f"{x:>10.4f}"  # a condition the arm never saw
  return (f"{name:<26} {figure(loss)} {figure(bpb)} {s['tokens']:>11,} {s['doc_tokens']:>11,} "
          f"{s['documents']:>9,} {s['flops']:>10.3e} {s['wall_seconds']:>8.0f}s")


def comparison_table(summaries: dict[str, dict]) -> str:
  ixt, base = summaries["ixt"], summaries["baseline"]
  header = (f"{'held-out clean split':<26} {'loss':>10} {'bits/byte':>10} {'tokens':>11} {'doc tokens':>11} "
            f"{'documents':>9} {'FLOPs':>10} {'wall':>9}")
  lines = [header, "-" * len(header),
           _row("IXT, positive critique", ixt["eval"]["loss"], ixt["eval"]["bits_per_byte"], ixt),
           _row("IXT, no critique", ixt["eval"]["loss_unconditioned"], ixt["eval"]["bits_per_byte_unconditioned"], ixt),
           _row("baseline", base["eval"]["loss"], base["eval"]["bits_per_byte"], base)]
  delta = base["eval"]["loss"] - ixt["eval"]["loss"]
  lines.append(f"\nIXT (positive critique) vs baseline at equal training FLOPs: {delta:+.4f} nats/token "
               f"({100 * delta / base['eval']['loss']:+.1f}%) on documents the critic rates flawless.")
  scores = lambda s: ", ".join(f"{k} {s['eval'][k]:.3f}" for k in ("math_em", "code_pass1") if s["eval"].get(k) is not None)
  lines.append(f"task scores (greedy, held-out problems): IXT with positive critique: {scores(ixt) or 'n/a'}; "
               f"baseline: {scores(base) or 'n/a'}")
  domains = sorted(d for d in ixt["eval"]["per_domain"]["clean"] if d != "all_domains")
  lines.append("per domain (clean split loss): " + ", ".join(
      f"{d}: IXT {ixt['eval']['per_domain']['clean'][d]:.3f} / baseline {base['eval']['per_domain']['clean'][d]:.3f}"
      for d in domains))
  return "\n".join(lines)


def main(argv):
  del argv
  f = flags.FLAGS
  root = epath.Path(f.workdir)
  start = time.time()
  annotated = prepare_builtin_corpus(root)
  for method in METHODS:
    variant = format_variant({"method": method, "size": f.size, "steps": f.steps, "seed": f.seed, "data": annotated})
    run_module(["experiments.launch", f"--config=configs/quickstart.py:{variant}", f"--workdir={root / method}"])
  summaries = {m: rundir.read_json(rundir.path(root / m, rundir.SUMMARY)) for m in METHODS}
  print("\n" + comparison_table(summaries))
  print(f"\nquickstart took {time.time() - start:.0f}s. Run directories: {root / 'ixt'}, {root / 'baseline'} "
        f"(config.json, metrics.jsonl, summary.json, checkpoints/).\nTensorBoard: tensorboard --logdir {root}")


if __name__ == "__main__":
  cli.run(main)
