r"""Measure a trained critic against the verifiers, through the served path, and write its card.

python -m experiments.critic_eval --run_dir=runs/critic/critic [--corpus=RAW_DIR] [--per_domain=200] \
    [--concurrency=16] [--base_url=http://HOST:PORT/v1]

Takes up to --per_domain records of each domain from the corpus's held-out split (the documents the
critic's SFT set left out), judges them with the built-in verifiers (the reference) and annotates
them with the critic served by `experiments.serve` on loopback (or at --base_url) through the served
client and `experiments.annotate`'s driver (configs/annotate/critic.py), so failures, retries and
annotation compute are counted as in any annotation. Writes the card, `critic_card.json` and
`critic_card.txt`, beside the checkpoint: precision and recall of "flawed" per domain and planted
flaw kind beside a majority-class critic, score calibration, parse-failure rate, tokens per critique
and records/s at the concurrency used. Re-running reuses a finished annotation (OUT/annotated).
"""
import json
import os

os.environ.setdefault("EPATH_USE_TF", "false")

from absl import flags  # pylint: disable=g-import-not-at-top
from etils import epath

from configs.annotate import builtin as builtin_annotate
from configs.annotate import critic as critic_annotate
from experiments import cli
from experiments.serving import annotate_with_critic
from ixt_jax import rundir
from ixt_jax.data import shards
from ixt_jax.errors import ConfigError
from ixt_jax.feedback import annotate_stats, critic_card, critic_sft
from ixt_jax.feedback.critic import Failure
from ixt_jax.feedback.critics import make_critic

_RUN_DIR = flags.DEFINE_string("run_dir", None, "the critic's run directory (experiments.critic)", required=True)
_CORPUS = flags.DEFINE_string("corpus", "", "raw corpus; '' = the one the critic's SFT set came from")
_PER_DOMAIN = flags.DEFINE_integer("per_domain", 200, "held-out records measured per domain (at most)")
_CONCURRENCY = flags.DEFINE_integer("concurrency", 16, "requests in flight (and the server's batch)")
_BASE_URL = flags.DEFINE_string("base_url", "", "an already served critic; '' = serve it here on loopback")
_OUT = flags.DEFINE_string("out", "", "working directory; '' = RUN_DIR/critic_eval")


def heldout_records(corpus: epath.PathLike, fraction: float, per_domain: int) -> list[dict]:
  """The first `per_domain` held-out records of each domain, in corpus order."""
  chosen, counts = [], {}
  for path in shards.list_shards(corpus):
    for raw in shards.read_shard(path):
      record = json.loads(raw)
      domain = record.get("domain", "text")
      if counts.get(domain, 0) < per_domain and critic_sft.is_heldout(record, fraction):
        counts[domain] = counts.get(domain, 0) + 1
        chosen.append(record)
  return chosen


def training_scores(sft_dir: epath.PathLike) -> dict[str, list[float]]:
  """The verifiers' scores of the critic's training documents, per domain."""
  scores: dict[str, list[float]] = {}
  for path in shards.list_shards(sft_dir):
    for raw in shards.read_shard(path):
      record = json.loads(raw)
      scores.setdefault(record["domain"], []).append(record["meta"]["score"])
  return scores


def main(argv):
  del argv
  run_dir = epath.Path(_RUN_DIR.value).absolute()
  settings = critic_annotate.critic_settings(str(run_dir))
  config = rundir.read_config(run_dir).config
  summary = rundir.read_summary(run_dir)
  sft_dir = config["data"]["train_dirs"][0]
  corpus = _CORPUS.value or shards.read_manifest(sft_dir)["source"]
  out = epath.Path(_OUT.value) if _OUT.value else run_dir / "critic_eval"
  records = heldout_records(corpus, config["critic"]["heldout_fraction"], _PER_DOMAIN.value)
  if not records:
    raise ConfigError(f"--corpus={corpus}: no held-out records (critic.heldout_fraction="
                      f"{config['critic']['heldout_fraction']})")
  heldout_dir = out / "heldout"
  if not (heldout_dir / shards.MANIFEST).exists():
    name = "heldout-00000-of-00001.jsonl"
    shards.write_shard(heldout_dir / name, records)
    shards.write_manifest(heldout_dir, {"format": "jsonl", "records": len(records),
                                        "shards": [{"path": name, "records": len(records)}]})
  verifier = make_critic(builtin_annotate.get_config())
  seen = [critic_sft.visible(r, settings["max_document_chars"]) for r in records]
  reference = {r["id"]: v.score for r, v in zip(records, verifier(seen)) if not isinstance(v, Failure)}
  annotation = annotate_with_critic(run_dir, heldout_dir, out / "annotated", concurrency=_CONCURRENCY.value,
                                    base_url=_BASE_URL.value)
  judged = critic_card.annotated_scores(out / "annotated")
  card = {
      "critic": {"name": run_dir.name, "run_dir": str(run_dir), "model": summary.model, "n_params": summary.n_params,
                 "training_tokens": summary.tokens, "training_documents": summary.documents,
                 "training_seconds": summary.wall_seconds, "steps": summary.steps, **settings},
      "corpus": str(corpus), "reference": "the built-in verifiers on the text the critic reads",
      "verdicts": critic_card.verdicts(records, reference, judged,
                                       critic_card.majority_flawed(training_scores(sft_dir))),
      "cost": critic_card.cost(annotation, _CONCURRENCY.value),
  }
  rundir.write_json(run_dir / critic_card.CARD_JSON, card)
  text = critic_card.describe(card)
  rundir.write_text(run_dir / critic_card.CARD_TEXT, text + "\n")
  print(annotate_stats.describe(annotation))
  print(text)
  print(f"card: {run_dir / critic_card.CARD_JSON}, {run_dir / critic_card.CARD_TEXT}")


if __name__ == "__main__":
  cli.run(main)
