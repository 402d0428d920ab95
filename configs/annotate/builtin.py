"""Annotate with the built-in verifiers: math recomputed, code unit-tested in a sandbox, text measured.

python -m experiments.annotate --config=configs/annotate/builtin.py --input=DIR --output=DIR
"""
import ml_collections


def get_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.critic = "builtin"  # or "served" (see configs/annotate/served.py)
  config.batch_size = 256  # records per critic call
  config.keep_existing_feedback = True  # records that already carry feedback (human) keep it
  config.giveaway = False  # the positive control: critiques of flawed records quote the flawed line
  # A critic of known quality (study v2's dose-response): this share of verdicts reversed, chosen by a
  # hash of the record id and flip_seed (ixt_jax/feedback/flipped.py).
  config.flip_fraction = 0.0
  config.flip_seed = 0
  config.cache = True  # judge identical texts once (cache/ in the output directory)
  # Records of a domain with no verifier (web, say) go to this domain's critic; "fail": refuse such
  # a corpus before any work, listing the known domains.
  config.unknown_domain = "text"
  config.code = ml_collections.ConfigDict({
      "timeout_s": 2.0,  # per record, all its tests
      "memory_mb": 256,  # address space per process
      "records_per_sandbox": 128,  # records judged by one sandbox (each in its own child process)
      "concurrency": 2,  # sandboxes at once
  })
  return config
