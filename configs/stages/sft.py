"""Stage 3 of 3: supervised fine-tuning on prompt/response records (loss on the response only;
the critique prefix still leads for IXT), from the mid-trained parameters."""
from configs import base


def get_config(arg=None):
  c = base.get_config(arg)
  c.optimizer.learning_rate = 5e-4
  c.optimizer.warmup_steps = min(10, c.train.steps // 10)
  c.data.feedback.weight.prompt = 0.0
  return c
