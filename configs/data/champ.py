"""Only the human-annotated CHAMP solutions (from the installed champ-dataset package)."""
import ml_collections

from configs.data import builtin


def get_config() -> ml_collections.ConfigDict:
  config = builtin.get_config()
  for domain in ("math", "code", "text"):
    config[domain].count = 0
  config.champ.include = True
  return config
