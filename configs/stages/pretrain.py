"""Stage 1 of 3: pre-training on the whole built-in corpus, warmup-stable-decay schedule.

Variants as in configs/base.py (method=, size=, steps=, data=, vocab=, seq_len=).
"""
from configs import base


def get_config(arg=None):
  c = base.get_config(arg)
  c.optimizer.schedule = "wsd"
  return c
