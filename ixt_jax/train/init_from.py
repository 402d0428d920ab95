"""Start a stage (mid-training, SFT) from an earlier run's parameters, on this run's mesh."""
from __future__ import annotations

import json

import optax
from etils import epath
from jax.sharding import Mesh

from ixt_jax.models import ModelConfig
from ixt_jax.train.checkpoint import Checkpointer
from ixt_jax.train.sharded_state import setup as sharded_setup


def load_params(run_dir: epath.PathLike, model_cfg: ModelConfig, tx: optax.GradientTransformation, mesh: Mesh):
  """The latest parameters of `run_dir`, restored straight onto this mesh's shardings."""
  run_dir = epath.Path(run_dir)
  config_file = run_dir / "config.json"
  if not config_file.exists():
    raise FileNotFoundError(f"config.train.init_from={str(run_dir)!r}: no config.json there")
  earlier = ModelConfig.from_dict(json.loads(config_file.read_text())["model"])
  shape = lambda m: {k: v for k, v in m.__dict__.items() if k not in ("compute_dtype", "remat")}
  if shape(earlier) != shape(model_cfg):
    raise ValueError(f"config.train.init_from: {run_dir} trained {shape(earlier)}, this run builds {shape(model_cfg)}")
  checkpointer = Checkpointer(run_dir / "checkpoints", keep=1)
  step = checkpointer.latest_step()
  if step is None:
    raise FileNotFoundError(f"config.train.init_from={str(run_dir)!r}: no checkpoint in {run_dir / 'checkpoints'}")
  # The earlier optimizer state is restored with the parameters (its shape does not depend on
  # hyper-parameters) and dropped: the new stage starts a fresh optimizer.
  abstract = sharded_setup(model_cfg, tx, mesh, seed=0).abstract
  params = checkpointer.restore_state(step, abstract).params
  checkpointer.close()
  return params
