"""Start a stage (mid-training, SFT) from earlier parameters, on this run's mesh: an ixt_jax run
directory's latest checkpoint, or a Hugging Face Llama checkpoint (config.json + safetensors)."""
from __future__ import annotations

import dataclasses

import jax
from etils import epath
from flax import nnx
from jax.sharding import Mesh

from ixt_jax import rundir
from ixt_jax.data import hf_vocab
from ixt_jax.errors import ConfigError
from ixt_jax.interop import llama
from ixt_jax.models import ModelConfig, Transformer
from ixt_jax.parallel.rules import check_divisible
from ixt_jax.parallel.sharding import abstract_module, named_shardings, state_specs
from ixt_jax.train.checkpoint import restore_params

_NUMERICS = ("compute_dtype", "remat", "scan_layers", "attention")  # how a model computes, not what it is


def _shape(cfg: ModelConfig) -> dict:
  return {k: v for k, v in cfg.__dict__.items() if k not in _NUMERICS}


def load_params(source: epath.PathLike, model_cfg: ModelConfig, mesh: Mesh):
  """The parameters at `source` (config.train.init_from), restored straight onto this mesh's shardings."""
  source = epath.Path(source)
  if llama.is_llama_dir(source):
    return _load_llama(source, model_cfg, mesh)
  if not rundir.exists(rundir.path(source, rundir.CONFIG)):
    raise FileNotFoundError(f"config.train.init_from={str(source)!r}: no {rundir.CONFIG} there")
  earlier = ModelConfig.from_dict(rundir.read_config(source).model)
  if _shape(earlier) != _shape(model_cfg):
    raise ValueError(f"config.train.init_from: {source} trained {_shape(earlier)}, this run builds {_shape(model_cfg)}")
  if not (source / rundir.CHECKPOINTS).exists():
    raise FileNotFoundError(f"config.train.init_from={str(source)!r}: no {rundir.CHECKPOINTS} in {source}")
  abstract = abstract_module(lambda: Transformer(model_cfg, rngs=nnx.Rngs(0)))[1]
  return restore_params(source / rundir.CHECKPOINTS, abstract, mesh)[0]


def _own_tokenizer_size(hf_dir: epath.Path) -> int | None:
  """The size of the Llama's own tokenizer as a run uses it (special tokens added); None without one."""
  return hf_vocab.HuggingFaceVocabulary(hf_dir).size if (hf_dir / hf_vocab.FILE).exists() else None


def _load_llama(hf_dir: epath.Path, model_cfg: ModelConfig, mesh: Mesh):
  """A Llama checkpoint's parameters, each device reading only its own shard of every array."""
  hf_config, tensors = llama.load(hf_dir)
  imported = llama.model_config(hf_config, **{k: getattr(model_cfg, k) for k in _NUMERICS})
  if imported.vocab_size != model_cfg.vocab_size and model_cfg.vocab_size == _own_tokenizer_size(hf_dir):
    # The run reads this Llama's own tokenizer, which gained ixt_jax's special tokens (or the Llama's
    # table is padded past it): fit the table to the tokenizer.
    tensors = llama.resize_vocabulary(tensors, model_cfg.vocab_size)
    imported = dataclasses.replace(imported, vocab_size=model_cfg.vocab_size)
  if _shape(imported) != _shape(model_cfg):
    overrides = " ".join(f"--config.model.{k}={getattr(imported, k)}" for k in (
        "d_model", "n_layers", "n_heads", "n_kv_heads", "head_dim", "d_ff", "tie_embeddings"))
    raise ConfigError(f"config.train.init_from={str(hf_dir)!r}: that Llama is {_shape(imported)}, this run builds "
                      f"{_shape(model_cfg)}; build the same model with {overrides} (and its tokenizer)")
  params = llama.from_llama(imported, tensors)
  abstract = abstract_module(lambda: Transformer(model_cfg, rngs=nnx.Rngs(0)))[1]
  specs = nnx.to_pure_dict(state_specs(abstract))
  check_divisible(specs, params, mesh)
  return jax.tree.map(lambda array, sharding: jax.make_array_from_callback(
      array.shape, sharding, lambda index: array[index]), params, named_shardings(specs, mesh))
