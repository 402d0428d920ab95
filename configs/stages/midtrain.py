"""Stage 2 of 3: mid-training on the math and code records, from the pre-trained parameters
(`--config.train.init_from=<pretrain run dir>`, which experiments.stages sets)."""
from configs import base


def get_config(arg=None):
  c = base.get_config(arg)
  c.optimizer.learning_rate = 1e-3
  c.optimizer.warmup_steps = min(10, c.train.steps // 10)
  c.optimizer.schedule = "wsd"
  return c
