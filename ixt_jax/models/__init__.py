"""Flax NNX decoder-only transformer, the size ladder, parameter and FLOP counts."""
from ixt_jax.models.config import ModelConfig
from ixt_jax.models.sizes import LADDER, model_config, param_counts, train_flops_per_token
from ixt_jax.models.transformer import Transformer

__all__ = ["ModelConfig", "LADDER", "model_config", "param_counts", "train_flops_per_token", "Transformer"]
