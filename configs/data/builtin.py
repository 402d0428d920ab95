"""Built-in corpora for the CPU quickstart: ~4.5k records, written in a few seconds.

python -m experiments.corpus --config=configs/data/builtin.py --out=DIR [--config.math.count=40000]
"""
import ml_collections


def get_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.seed = 0
  # Every field but count and shards goes to the domain's generator (see ixt_jax/data/corpora).
  # flaws / bug choose the planted flaw kinds ('' = all): the `actionable` regime of
  # configs/sweeps/pilot.py plants only flaws a ~100k-parameter model can produce and avoid.
  config.math = ml_collections.ConfigDict({"count": 2000, "shards": 2, "flaw_fraction": 0.3, "flaws": ""})
  config.code = ml_collections.ConfigDict({"count": 1500, "shards": 2, "flaw_fraction": 0.3, "bug": "random",
                                           "exclude_templates": ""})
  config.text = ml_collections.ConfigDict({
      "count": 1000, "shards": 2, "flaw_fraction": 0.2, "flaws": "",
      "max_chars": 2000, "min_chars": 200,
      "include_tests": False,  # the stdlib's test suites: ~3x more documents, mostly repetitive tests
  })
  # Human-annotated CHAMP solutions (270 problems, 2 annotated solutions each), already carrying
  # feedback: experiments.annotate keeps it. Post-training shaped: "prompt" is the problem.
  config.champ = ml_collections.ConfigDict({"include": False, "shards": 1})
  return config
