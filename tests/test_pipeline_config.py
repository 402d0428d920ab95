"""The data config: defaults per the batch contract, and errors that name the field."""
import re

import pytest

from ixt_jax.data import config


def valid():
  cfg = config.get_data_config()
  cfg.train_dirs = ["/data/corpus"]
  return cfg


def test_defaults_validate_and_follow_the_contract():
  cfg = valid()
  config.validate_data_config(cfg)
  assert cfg.seq_len == 256 and cfg.max_bad_fraction == 0.01
  assert config.critique_weight(cfg.feedback) == 0.0
  cfg.feedback.placement = "suffix"
  assert config.critique_weight(cfg.feedback) == 1.0
  cfg.feedback.weight.critique = 0.5
  assert config.critique_weight(cfg.feedback) == 0.5


@pytest.mark.parametrize("field, value", [
    ("train_dirs", []),
    ("seq_len", 8),
    ("vocab.kind", "wordpiece"),
    ("vocab.size", 100),
    ("feedback.placement", "middle"),
    ("feedback.kind", "stars"),
    ("feedback.template", "<critique></critique>"),
    ("feedback.dropout", 1.5),
    ("feedback.annotated_fraction", -0.1),
    ("feedback.weight.critique", -1.0),
    ("feedback.weight.document_by_score", "cubic"),
    ("heldout.fraction", 1.0),
    ("heldout.count", -2),
    ("max_bad_fraction", 2.0),
    ("worker_count", -1),
    ("pack_bins", 0),
])
def test_invalid_fields_are_named(field, value):
  cfg = valid()
  node = cfg
  *parents, leaf = field.split(".")
  for p in parents:
    node = node[p]
  node[leaf] = value
  with pytest.raises(ValueError, match=re.escape(f"config.data.{field}={value!r}")):
    config.validate_data_config(cfg)
