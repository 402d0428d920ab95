"""The quickstart run: a ~1M-parameter model on the built-in corpus, minutes on a laptop CPU.

The base config (configs/base.py) with the quickstart's data as the default. Variants:
`--config=configs/quickstart.py:method=baseline,size=3m,steps=600` (`data=DIR` points at annotated
shards, default runs/quickstart/annotated; `vocab=byte` skips training a SentencePiece model).
"""
from configs import base, common

DATA = "runs/quickstart/annotated"


def get_config(arg=None):
  return base.get_config({"data": DATA, **common.parse_variant(arg)})
