r"""Annotates raw record shards with a critic: every record gets {critique, score, critic}.

python -m experiments.annotate --config=configs/annotate/builtin.py --input=DIR --output=DIR \
    [--format=jsonl|arrayrecord] [--worker_index=i --num_workers=n] [--retry_failed]

Safe to kill and re-run (finished shards are skipped, the one in progress is redone). With several
workers each takes shards i % num_workers == worker_index and is resumable alone; the last to
finish writes summary.json and manifest.json. --retry_failed re-judges only the failed records
listed in OUTPUT/failures/.
"""
from absl import flags

from ixt_jax.data import shards
from ixt_jax.errors import ConfigError
from ixt_jax.feedback import annotate_stats
from ixt_jax.feedback.annotate import annotate_directory, refuse_unknown_domains
from ixt_jax.feedback.critics import make_critic
from experiments import cli

_CONFIG = cli.define_config_file("config", "configs/annotate/builtin.py", "Annotation config.")
_INPUT = flags.DEFINE_string("input", None, "Directory of raw shards (with manifest.json).", required=True)
_OUTPUT = flags.DEFINE_string("output", None, "Directory for annotated shards.", required=True)
_FORMAT = flags.DEFINE_enum("format", None, sorted(shards.FORMATS), "Output format (default: the input's).")
_WORKER_INDEX = flags.DEFINE_integer("worker_index", 0, "This worker's index.")
_NUM_WORKERS = flags.DEFINE_integer("num_workers", 1, "Workers sharing the shards.")
_RETRY_FAILED = flags.DEFINE_boolean("retry_failed", False, "Re-judge only the records that failed.")


def main(argv):
  del argv
  config = _CONFIG.value
  if not isinstance(config.batch_size, int) or config.batch_size < 1:
    raise ConfigError(f"config.batch_size={config.batch_size!r}: must be an integer >= 1")
  critic = make_critic(config)
  refuse_unknown_domains(_INPUT.value, critic)
  summary = annotate_directory(
      _INPUT.value, _OUTPUT.value, critic, fmt=_FORMAT.value, worker_index=_WORKER_INDEX.value,
      num_workers=_NUM_WORKERS.value, retry_failed=_RETRY_FAILED.value, batch_size=config.batch_size,
      keep_existing_feedback=config.keep_existing_feedback, use_cache=config.cache)
  if summary is None:
    print(f"worker {_WORKER_INDEX.value}/{_NUM_WORKERS.value} done; other workers' shards are still missing")
  else:
    print(annotate_stats.describe(summary))
    print(f"summary: {_OUTPUT.value}/summary.json")


if __name__ == "__main__":
  cli.run(main)
