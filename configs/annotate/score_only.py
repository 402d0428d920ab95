"""Annotate with a scalar reward model served by vLLM (`vllm serve MODEL --runner pooling`): its
score becomes a templated critique (ixt_jax/feedback/served_score.py).

python -m experiments.annotate --config=configs/annotate/score_only.py --input=DIR --output=DIR \
    --config.score_only.base_url=http://HOST:8000 --config.score_only.model=NAME \
    --config.score_only.n_params=1800000000 [--config.score_only.endpoint=pooling]
"""
import ml_collections

from configs.annotate import served as served_config
from ixt_jax.feedback import served_score


def get_config() -> ml_collections.ConfigDict:
  config = served_config.get_config()
  config.critic = "score_only"
  served = config.served.to_dict()
  for generation_only in ("max_tokens", "temperature"):
    del served[generation_only]
  config.score_only = ml_collections.ConfigDict({
      **served,
      "base_url": "http://127.0.0.1:8000",  # vLLM serves /classify and /pooling beside /v1
      "endpoint": "classify",  # or "pooling" (a reward model's per-token rewards: the last one counts)
      "score_index": 1,  # classify: the class whose probability is the score
      "squash": "sigmoid",  # pooling: the reward into [0, 1]; "clip" for a reward already on that scale
      "critique_template": served_score.CRITIQUE_TEMPLATE,  # {score} and {domain} are filled in
      "prompt_template": served_score.PROMPT_TEMPLATE,  # what the reward model reads: {domain}, {text}
  })
  del config.served
  return config
