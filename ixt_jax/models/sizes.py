"""The size ladder and the parameter / FLOP arithmetic every other stage trusts.

Pure Python (no JAX): `scaling` and configs use it too. Tests check these counts against the real
parameter tree and the FLOPs against XLA's own cost analysis.
"""
from __future__ import annotations

from ixt_jax.models.config import ModelConfig

# Named shapes. vocab_size here is a default; a run replaces it with its tokenizer's size.
# The two largest are the paper's dense scales (shape-only on a laptop).
LADDER: dict[str, dict[str, int]] = {
    "1m": dict(d_model=128, n_layers=4, n_heads=4, n_kv_heads=2, head_dim=32, d_ff=384, vocab_size=2048),
    "3m": dict(d_model=192, n_layers=6, n_heads=6, n_kv_heads=2, head_dim=32, d_ff=512, vocab_size=2048),
    "8m": dict(d_model=256, n_layers=8, n_heads=8, n_kv_heads=4, head_dim=32, d_ff=768, vocab_size=2048),
    "20m": dict(d_model=384, n_layers=10, n_heads=6, n_kv_heads=3, head_dim=64, d_ff=1024, vocab_size=2048),
    "d512": dict(d_model=512, n_layers=8, n_heads=8, n_kv_heads=8, head_dim=64, d_ff=1536, vocab_size=2048),
    "50m": dict(d_model=512, n_layers=14, n_heads=8, n_kv_heads=4, head_dim=64, d_ff=1536, vocab_size=8192),
    "125m": dict(d_model=768, n_layers=12, n_heads=12, n_kv_heads=4, head_dim=64, d_ff=2048, vocab_size=32768),
    "350m": dict(d_model=1024, n_layers=24, n_heads=16, n_kv_heads=4, head_dim=64, d_ff=2816, vocab_size=32768),
    "1b": dict(d_model=2048, n_layers=16, n_heads=16, n_kv_heads=8, head_dim=128, d_ff=5632, vocab_size=32768),
    "3b": dict(d_model=2560, n_layers=32, n_heads=20, n_kv_heads=4, head_dim=128, d_ff=6912, vocab_size=128256),
    "7.5b": dict(d_model=4096, n_layers=32, n_heads=32, n_kv_heads=8, head_dim=128, d_ff=14336, vocab_size=128256),
    "12b": dict(d_model=5120, n_layers=40, n_heads=32, n_kv_heads=8, head_dim=128, d_ff=14336, vocab_size=131072),
}


def model_config(size: str, **overrides) -> ModelConfig:
  """The ladder shape `size` with any field replaced (e.g. vocab_size from the tokenizer)."""
  if size not in LADDER:
    raise ValueError(f"unknown model size {size!r}; the ladder has {list(LADDER)}")
  return ModelConfig.from_dict({**LADDER[size], **overrides})


def layer_matmul_params(cfg: ModelConfig) -> int:
  q_and_o = 2 * cfg.d_model * cfg.n_heads * cfg.head_dim
  k_and_v = 2 * cfg.d_model * cfg.n_kv_heads * cfg.head_dim
  swiglu = 3 * cfg.d_model * cfg.d_ff
  return q_and_o + k_and_v + swiglu


def param_counts(cfg: ModelConfig) -> dict[str, int]:
  """Parameters of the tree `Transformer(cfg)` builds: total, non-embedding and matmul.

  Non-embedding excludes the token embedding and, when untied, the output projection (Kaplan et
  al.'s convention); matmul counts every weight a token is multiplied by, the output projection
  included, which is what FLOPs follow.
  """
  embedding = cfg.vocab_size * cfg.d_model
  unembedding = 0 if cfg.tie_embeddings else embedding
  norms = (2 * cfg.n_layers + 1) * cfg.d_model
  layers = cfg.n_layers * layer_matmul_params(cfg)
  return {
      "total": embedding + unembedding + layers + norms,
      "non_embedding": layers + norms,
      "matmul": layers + cfg.vocab_size * cfg.d_model,
  }


def attention_flops_per_token(cfg: ModelConfig, seq_len: int) -> int:
  """Forward+backward FLOPs of scores and weighted values (full rows: XLA does not skip the mask)."""
  return 12 * cfg.n_layers * seq_len * cfg.n_heads * cfg.head_dim


def train_flops_per_token(cfg: ModelConfig, seq_len: int) -> int:
  """Training FLOPs per token: 6 x matmul parameters plus the attention term."""
  return 6 * param_counts(cfg)["matmul"] + attention_flops_per_token(cfg, seq_len)


def forward_flops_per_token(cfg: ModelConfig, seq_len: int) -> int:
  return train_flops_per_token(cfg, seq_len) // 3
