r"""The critique's share of the tokens a run trains on, with its critique once per document or per chunk.

  python -m experiments.token_share --data=DIR [--batches=400] [--seq_len=256] [--batch=8]

Reads the first batches of the training stream of the annotated shards in DIR (prefix placement,
the quickstart layout) under `data.feedback.repeat=every` and `first` and prints, for each, the
feedback token share (critique tokens / row tokens) and the document token share (document tokens
/ row tokens), the numbers a run's summary.json reports as `feedback_token_share`.
"""
import os

os.environ.setdefault("EPATH_USE_TF", "false")

import json  # pylint: disable=g-import-not-at-top

from absl import flags

from experiments import cli

from ixt_jax.data import config as data_config
from ixt_jax.data import pipeline, vocab as vocab_lib

_DATA = flags.DEFINE_string("data", None, "annotated shards", required=True)
_BATCHES = flags.DEFINE_integer("batches", 400, "training batches read under each setting")
_SEQ_LEN = flags.DEFINE_integer("seq_len", 256, "row length")
_BATCH = flags.DEFINE_integer("batch", 8, "rows per batch")


def token_shares(data_cfg, vocab, batches: int, batch_size: int) -> dict[str, float]:
  """{"feedback_token_share", "document_token_share"} over the first `batches` training batches."""
  stream = pipeline.make_train_iterator(data_cfg, vocab, batch_size=batch_size, seed=0)
  critique = document = rows = 0
  for _ in range(batches):
    batch = next(stream)
    critique += int(batch["critique_tokens"].sum())
    document += int(batch["document_tokens"].sum())
    rows += batch["tokens"].size
  return {"feedback_token_share": critique / rows, "document_token_share": document / rows}


def main(argv):
  del argv
  cfg = data_config.get_data_config()
  cfg.train_dirs = [_DATA.value]
  cfg.seq_len = _SEQ_LEN.value
  vocab = vocab_lib.load_vocabulary(cfg)
  shares = {}
  for repeat in ("every", "first"):
    cfg.feedback.repeat = repeat
    shares[repeat] = token_shares(cfg, vocab, _BATCHES.value, _BATCH.value)
  print(json.dumps(shares, indent=2))


if __name__ == "__main__":
  cli.run(main)
