"""Stage 1 of 3: pre-training on the whole built-in corpus, warmup-stable-decay schedule.

Variants as in configs/quickstart.py (method=, size=, steps=, data=, vocab=, seq_len=).
"""
from configs import quickstart


def get_config(arg=None):
  c = quickstart.get_config(arg)
  c.optimizer.schedule = "wsd"
  return c
