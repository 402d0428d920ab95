"""Annotate with a reward model served behind an OpenAI-compatible API (vLLM, SGLang).

python -m experiments.annotate --config=configs/annotate/served.py --input=DIR --output=DIR \
    --config.served.base_url=http://HOST:8000/v1 --config.served.model=NAME \
    --config.served.n_params=7000000000 --config.served.api_key_env=CRITIC_API_KEY
"""
import ml_collections

from configs.annotate import builtin
from ixt_jax.feedback import served


def get_config() -> ml_collections.ConfigDict:
  config = builtin.get_config()
  config.critic = "served"
  config.batch_size = 64
  config.served = ml_collections.ConfigDict({
      "base_url": "http://127.0.0.1:8000/v1",
      "model": "critic",
      "n_params": 0,  # the critic model's parameter count: annotation compute = 2 x n_params x tokens
      "api_key_env": "",  # NAME of the environment variable holding the key ("" = no auth)
      "prompt_template": served.PROMPT_TEMPLATE,  # {domain} and {text} are filled in
      "max_document_chars": 0,  # the text is cut to its first this many characters (0: whole)
      "concurrency": 16,
      "timeout_s": 300.0,
      "max_retries": 4,
      "backoff_s": 1.0,  # doubles with every retry
      "max_tokens": 2048,
      "temperature": 0.0,
  })
  return config
