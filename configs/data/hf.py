"""A corpus from Hugging Face `datasets` (local parquet / arrow / JSONL / CSV files, or a hub dataset).

python -m experiments.corpus --config=configs/data/hf.py --out=DIR \
    --config.source.data_files=/data/web-*.parquet [--config.source.name=json] \
    [--config.fields.text=content --config.fields.id=url --config.fields.domain=text]

Rows stream through (no `datasets` cache); annotate the result with experiments.annotate as usual.
"""
import ml_collections


def get_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  # datasets.load_dataset(name, config_name, data_files=, data_dir=, split=, streaming=True)
  config.source = ml_collections.ConfigDict({
      "name": "parquet",  # a builder (parquet, json, arrow, csv) or a dataset path / hub name
      "config_name": "",
      "data_files": "",  # comma-separated paths or globs
      "data_dir": "",
      "split": "train",
  })
  config.fields = ml_collections.ConfigDict({
      "text": "text",  # the column holding the document
      "id": "",  # the id column; '' = an id from the text's hash
      "domain": "text",  # one domain for every row (the critic judging it: text, math or code) ...
      "domain_field": "",  # ... or the column holding each row's domain
  })
  config.records_per_shard = 50_000
  config.prefix = "hf"  # shard names: <prefix>-00000.jsonl
  config.limit = 0  # > 0: import only the first rows
  return config
