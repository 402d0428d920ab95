"""ixt_jax parameters <-> a Hugging Face Llama checkpoint (config.json + model.safetensors).

The architectures agree (pre-norm RMSNorm blocks, rotary embeddings on half-split head dimensions,
grouped-query attention, SwiGLU, no biases) except in one place: ixt_jax scales its embeddings by
sqrt(d_model) on input and ties them to the output. Llama has no such scale, so the export is an
untied Llama: `embed_tokens` = embedding x sqrt(d_model), `lm_head` = embedding. An imported Llama
becomes an untied ixt_jax model the same way back. No torch: safetensors reads and writes the arrays.
"""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from etils import epath

from ixt_jax.errors import ConfigError
from ixt_jax.models.config import ModelConfig

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def is_llama_dir(path: epath.PathLike) -> bool:
  """Whether `path` holds a Hugging Face Llama checkpoint (rather than an ixt_jax run directory)."""
  config = epath.Path(path) / CONFIG_FILE
  return config.exists() and json.loads(config.read_text()).get("model_type") == "llama"


def llama_config(cfg: ModelConfig, max_positions: int, eos_id: int, pad_id: int) -> dict[str, Any]:
  """The `transformers` LlamaConfig of an ixt_jax model (untied: see the module docstring)."""
  return {
      "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": cfg.vocab_size,
      "hidden_size": cfg.d_model, "intermediate_size": cfg.d_ff, "num_hidden_layers": cfg.n_layers,
      "num_attention_heads": cfg.n_heads, "num_key_value_heads": cfg.n_kv_heads, "head_dim": cfg.head_dim,
      "hidden_act": "silu", "rms_norm_eps": cfg.norm_eps, "max_position_embeddings": max_positions,
      "rope_theta": cfg.rope_theta, "rope_parameters": {"rope_type": "default", "rope_theta": cfg.rope_theta},
      "attention_bias": False, "mlp_bias": False, "attention_dropout": 0.0, "tie_word_embeddings": False,
      "bos_token_id": None, "eos_token_id": eos_id, "pad_token_id": pad_id, "dtype": "float32",
  }


def model_config(hf: dict[str, Any], **numerics) -> ModelConfig:
  """The ixt_jax ModelConfig of a Llama config; refuses what ixt_jax does not compute the same way."""
  rope = hf.get("rope_parameters") or hf.get("rope_scaling") or {}
  if rope.get("rope_type", rope.get("type", "default")) != "default":
    raise ConfigError(f"a Llama with rope scaling {rope} cannot be imported: ixt_jax computes plain rotary angles")
  for key in ("attention_bias", "mlp_bias"):
    if hf.get(key):
      raise ConfigError(f"a Llama with {key}=true cannot be imported: ixt_jax layers have no biases")
  if hf.get("hidden_act", "silu") != "silu":
    raise ConfigError(f"hidden_act={hf['hidden_act']!r}: ixt_jax's MLP is SwiGLU (silu)")
  heads = hf["num_attention_heads"]
  return ModelConfig(
      vocab_size=hf["vocab_size"], d_model=hf["hidden_size"], n_layers=hf["num_hidden_layers"], n_heads=heads,
      n_kv_heads=hf.get("num_key_value_heads") or heads, head_dim=hf.get("head_dim") or hf["hidden_size"] // heads,
      d_ff=hf["intermediate_size"], tie_embeddings=False, rope_theta=float(rope.get("rope_theta", hf.get("rope_theta", 10_000.0))),
      norm_eps=hf["rms_norm_eps"], **numerics)


def _layers(blocks: dict) -> list[dict]:
  """Per-layer parameter dicts, from stacked (scanned) or listed (unrolled) blocks."""
  if all(isinstance(k, int) for k in blocks):
    return [blocks[i] for i in sorted(blocks)]
  n_layers = len(blocks["attn_norm"]["scale"])
  take = lambda tree, i: {k: take(v, i) if isinstance(v, dict) else v[i] for k, v in tree.items()}
  return [take(blocks, i) for i in range(n_layers)]


def to_llama(cfg: ModelConfig, params: dict) -> dict[str, np.ndarray]:
  """Llama tensors (name -> float32 array, `transformers` layout: Linear weights are [out, in])."""
  d, h, k, hd = cfg.d_model, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
  embedding = np.asarray(params["embedding"], np.float32)
  tensors = {"model.embed_tokens.weight": embedding * math.sqrt(d),
             "lm_head.weight": embedding if cfg.tie_embeddings else np.asarray(params["unembedding"]).T,
             "model.norm.weight": np.asarray(params["final_norm"]["scale"])}
  for i, layer in enumerate(_layers(params["blocks"])):
    attn, mlp, prefix = layer["attn"], layer["mlp"], f"model.layers.{i}."
    tensors.update({
        prefix + "input_layernorm.weight": layer["attn_norm"]["scale"],
        prefix + "post_attention_layernorm.weight": layer["mlp_norm"]["scale"],
        prefix + "self_attn.q_proj.weight": np.asarray(attn["q"]).reshape(d, h * hd).T,
        prefix + "self_attn.k_proj.weight": np.asarray(attn["k"]).reshape(d, k * hd).T,
        prefix + "self_attn.v_proj.weight": np.asarray(attn["v"]).reshape(d, k * hd).T,
        prefix + "self_attn.o_proj.weight": np.asarray(attn["o"]).reshape(h * hd, d).T,
        prefix + "mlp.gate_proj.weight": np.asarray(mlp["gate"]).T,
        prefix + "mlp.up_proj.weight": np.asarray(mlp["up"]).T,
        prefix + "mlp.down_proj.weight": np.asarray(mlp["down"]).T,
    })
  return {name: np.ascontiguousarray(value, np.float32) for name, value in tensors.items()}


def from_llama(cfg: ModelConfig, tensors: dict[str, np.ndarray]) -> dict:
  """ixt_jax parameters (scanned layout when cfg.scan_layers) of an untied `cfg` from Llama tensors."""
  d, h, k, hd = cfg.d_model, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
  get = lambda name: np.asarray(tensors[name], np.float32)
  embed = get("model.embed_tokens.weight")
  head = get("lm_head.weight") if "lm_head.weight" in tensors else embed  # a tied Llama stores one
  layers = []
  for i in range(cfg.n_layers):
    prefix = f"model.layers.{i}."
    layers.append({
        "attn_norm": {"scale": get(prefix + "input_layernorm.weight")},
        "mlp_norm": {"scale": get(prefix + "post_attention_layernorm.weight")},
        "attn": {"q": get(prefix + "self_attn.q_proj.weight").T.reshape(d, h, hd),
                 "k": get(prefix + "self_attn.k_proj.weight").T.reshape(d, k, hd),
                 "v": get(prefix + "self_attn.v_proj.weight").T.reshape(d, k, hd),
                 "o": get(prefix + "self_attn.o_proj.weight").T.reshape(h, hd, d)},
        "mlp": {"gate": get(prefix + "mlp.gate_proj.weight").T, "up": get(prefix + "mlp.up_proj.weight").T,
                "down": get(prefix + "mlp.down_proj.weight").T},
    })
  if cfg.scan_layers:
    stack = lambda *trees: {key: stack(*(t[key] for t in trees)) if isinstance(trees[0][key], dict)
                            else np.stack([t[key] for t in trees]) for key in trees[0]}
    blocks = stack(*layers)
  else:
    blocks = dict(enumerate(layers))
  return {"embedding": embed / math.sqrt(d), "unembedding": head.T.copy(), "blocks": blocks,
          "final_norm": {"scale": get("model.norm.weight")}}


def resize_vocabulary(tensors: dict[str, np.ndarray], vocab_size: int) -> dict[str, np.ndarray]:
  """Llama tensors with `vocab_size` rows of embedding and output: rows past the old size (new tokens)
  start at the mean of the old rows, the usual start for added tokens; rows past `vocab_size` go."""
  def fit(table):
    extra = max(vocab_size - len(table), 0)
    return np.concatenate([table[:vocab_size], np.repeat(table.mean(0, keepdims=True), extra, axis=0)])
  names = ("model.embed_tokens.weight", "lm_head.weight")
  return {name: fit(np.asarray(value, np.float32)) if name in names else value for name, value in tensors.items()}


def save(out_dir: epath.PathLike, config: dict[str, Any], tensors: dict[str, np.ndarray]) -> None:
  from safetensors.numpy import save_file  # pylint: disable=g-import-not-at-top  # the `hf` extra
  out_dir = epath.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True))
  save_file(tensors, str(out_dir / WEIGHTS_FILE), metadata={"format": "pt"})


def load(hf_dir: epath.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
  """(config, tensors) of a Llama directory: one model.safetensors or the shards its index lists.

  Read through safetensors' flax loader, which also reads bfloat16 (numpy has no such type).
  """
  from safetensors.flax import load_file  # pylint: disable=g-import-not-at-top  # the `hf` extra
  hf_dir = epath.Path(hf_dir)
  config = json.loads((hf_dir / CONFIG_FILE).read_text())
  index = hf_dir / f"{WEIGHTS_FILE}.index.json"
  files = sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.exists() else [WEIGHTS_FILE]
  tensors = {}
  for name in files:
    tensors.update(load_file(str(hf_dir / name)))
  return config, tensors
