"""The shape and numerics of a decoder-only transformer, validated before anything is built."""
from __future__ import annotations

import dataclasses

REMAT_POLICIES = ("none", "full", "dots", "dots_no_batch")
COMPUTE_DTYPES = ("float32", "bfloat16")
ATTENTION = ("auto", "xla", "cudnn", "splash")  # see models.attention


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """Everything `Transformer` needs; sizes come from `sizes.LADDER`."""
  vocab_size: int
  d_model: int
  n_layers: int
  n_heads: int
  n_kv_heads: int
  head_dim: int
  d_ff: int
  tie_embeddings: bool = True
  rope_theta: float = 10_000.0
  norm_eps: float = 1e-6
  compute_dtype: str = "float32"  # matmuls accumulate in float32 whatever this is
  remat: str = "none"             # jax.checkpoint policy per layer
  scan_layers: bool = True        # one compiled layer, scanned: compile time flat in depth
  attention: str = "auto"         # kernel; auto: splash on TPU, cuDNN on GPU (bf16), else XLA

  def __post_init__(self):
    for name in ("vocab_size", "d_model", "n_layers", "n_heads", "n_kv_heads", "head_dim", "d_ff"):
      if getattr(self, name) <= 0:
        raise ValueError(f"model.{name} must be positive, got {getattr(self, name)}")
    if self.n_heads % self.n_kv_heads:
      raise ValueError(f"model.n_heads={self.n_heads} must be a multiple of model.n_kv_heads={self.n_kv_heads}")
    if self.head_dim % 2:
      raise ValueError(f"model.head_dim={self.head_dim} must be even for rotary embeddings")
    if self.remat not in REMAT_POLICIES:
      raise ValueError(f"model.remat={self.remat!r}; expected one of {REMAT_POLICIES}")
    if self.compute_dtype not in COMPUTE_DTYPES:
      raise ValueError(f"model.compute_dtype={self.compute_dtype!r}; expected one of {COMPUTE_DTYPES}")
    if self.attention not in ATTENTION:
      raise ValueError(f"model.attention={self.attention!r}; expected one of {ATTENTION}")
    if self.attention == "cudnn" and self.compute_dtype != "bfloat16":
      raise ValueError("model.attention='cudnn' needs model.compute_dtype='bfloat16' (cuDNN flash "
                       "attention has no float32 kernel)")

  @classmethod
  def from_dict(cls, values) -> "ModelConfig":
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
      raise ValueError(f"unknown model config field(s) {unknown}; known: {sorted(known)}")
    return cls(**dict(values))
