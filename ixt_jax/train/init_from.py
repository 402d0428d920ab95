"""Start a stage (mid-training, SFT) from an earlier run's parameters, on this run's mesh."""
from __future__ import annotations

from etils import epath
from flax import nnx
from jax.sharding import Mesh

from ixt_jax import rundir
from ixt_jax.models import ModelConfig, Transformer
from ixt_jax.parallel.sharding import abstract_module
from ixt_jax.train.checkpoint import restore_params


def load_params(run_dir: epath.PathLike, model_cfg: ModelConfig, mesh: Mesh):
  """The latest parameters of `run_dir`, restored straight onto this mesh's shardings."""
  run_dir = epath.Path(run_dir)
  if not rundir.exists(rundir.path(run_dir, rundir.CONFIG)):
    raise FileNotFoundError(f"config.train.init_from={str(run_dir)!r}: no {rundir.CONFIG} there")
  earlier = ModelConfig.from_dict(rundir.read_config(run_dir).model)
  shape = lambda m: {k: v for k, v in m.__dict__.items() if k not in ("compute_dtype", "remat")}
  if shape(earlier) != shape(model_cfg):
    raise ValueError(f"config.train.init_from: {run_dir} trained {shape(earlier)}, this run builds {shape(model_cfg)}")
  if not (run_dir / rundir.CHECKPOINTS).exists():
    raise FileNotFoundError(f"config.train.init_from={str(run_dir)!r}: no {rundir.CHECKPOINTS} in {run_dir}")
  abstract = abstract_module(lambda: Transformer(model_cfg, rngs=nnx.Rngs(0)))[1]
  return restore_params(run_dir / rundir.CHECKPOINTS, abstract, mesh)[0]
