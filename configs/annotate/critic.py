"""Annotate with a critic trained by `experiments.critic`, served by `experiments.serve` (or vLLM):
the served client with the critic's own prompt template, document cut, size and token budget.

python -m experiments.serve --run_dir=RUN_DIR --model_name=critic --port=8000 &
python -m experiments.annotate --config=configs/annotate/critic.py:RUN_DIR --input=DIR --output=DIR \
    [--config.served.base_url=http://127.0.0.1:8000/v1 --config.served.concurrency=16]
"""
import ml_collections

from configs.annotate import served
from ixt_jax import rundir
from ixt_jax.errors import ConfigError


def critic_settings(run_dir: str) -> dict:
  """The served-client fields a trained critic's run directory fixes."""
  if not rundir.is_finished(run_dir):
    raise ConfigError(f"{run_dir}: not a finished run (no {rundir.SUMMARY}); train a critic with "
                      "python -m experiments.critic")
  config = rundir.read_config(run_dir).config
  if "critic" not in config:
    raise ConfigError(f"{run_dir}: its config.json has no `critic` section; train a critic with "
                      "python -m experiments.critic")
  critic = config["critic"]
  return {"model": "critic", "n_params": rundir.read_summary(run_dir).n_params,
          "prompt_template": critic["prompt_template"], "max_document_chars": critic["max_document_chars"],
          "max_tokens": critic["max_tokens"], "temperature": 0.0}


def get_config(run_dir: str = "") -> ml_collections.ConfigDict:
  if not run_dir:
    raise ConfigError("configs/annotate/critic.py needs the critic's run directory: "
                      "--config=configs/annotate/critic.py:RUN_DIR")
  config = served.get_config()
  config.served.update(critic_settings(run_dir))
  return config
