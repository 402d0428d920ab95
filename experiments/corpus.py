r"""Writes raw corpora as shards plus a manifest: the built-in ones (math, code, text; optionally CHAMP),
or one from Hugging Face `datasets` (configs/data/hf.py).

python -m experiments.corpus --config=configs/data/builtin.py --out=DIR [--format=arrayrecord] \
    [--config.math.count=40000 --config.seed=1]
python -m experiments.corpus --config=configs/data/hf.py --out=DIR --config.source.data_files=a.parquet

Each shard is written atomically and the manifest last, so a directory with a manifest is complete.
"""
import platform

from absl import flags

from ixt_jax.data import hf_corpus, shards
from ixt_jax.data.corpora import writer
from ixt_jax.feedback import champ
from experiments import cli

_CONFIG = cli.define_config_file("config", "configs/data/builtin.py", "Corpus config.")
_OUT = flags.DEFINE_string("out", None, "Directory to write shards and manifest.json into.", required=True)
_FORMAT = flags.DEFINE_enum("format", "jsonl", sorted(shards.FORMATS), "Shard format.")


def main(argv):
  del argv
  config = _CONFIG.value
  if "source" in config:  # configs/data/hf.py: a corpus from Hugging Face `datasets`
    manifest = hf_corpus.write_corpus(_OUT.value, config)
    print(f"wrote {manifest['records']} records in {len(manifest['shards'])} shards to {_OUT.value}: "
          f"{manifest['domains']}")
    return
  manifest = writer.write_builtin(_OUT.value, config, _FORMAT.value)
  if config.champ.include:
    records = champ.champ_records()
    manifest["shards"] += writer.write_split(_OUT.value, "champ", records, config.champ.shards, _FORMAT.value)
    manifest["domains"]["math"] = manifest["domains"].get("math", 0) + len(records)
  manifest.update(
      format=_FORMAT.value, stage="corpus", seed=config.seed, config=config.to_dict(),
      records=sum(s["records"] for s in manifest["shards"]),
      python=platform.python_version())  # the text domain is this interpreter's stdlib
  writer.replace_manifest(_OUT.value, manifest)
  print(f"wrote {manifest['records']} records in {len(manifest['shards'])} shards to {_OUT.value}: "
        f"{manifest['domains']}")


if __name__ == "__main__":
  cli.run(main)
