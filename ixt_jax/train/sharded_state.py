"""Build (or describe, for restoring) the train state directly sharded on the mesh."""
from __future__ import annotations

import dataclasses
from typing import Any

import jax
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ixt_jax.models import ModelConfig, Transformer
from ixt_jax.parallel.rules import check_divisible, logical_to_mesh
from ixt_jax.parallel.sharding import abstract_module, init_sharded, named_shardings, state_specs
from ixt_jax.train.step import TrainState, init_state


@dataclasses.dataclass
class ShardedSetup:
  graphdef: nnx.GraphDef
  shardings: TrainState        # NamedSharding per leaf of the train state
  abstract: TrainState         # ShapeDtypeStruct (with sharding) per leaf: the restore target
  batch_sharding: NamedSharding
  make_state: Any              # () -> TrainState, freshly initialised on its shards


def setup(model_cfg: ModelConfig, tx: optax.GradientTransformation, mesh: Mesh, seed: int) -> ShardedSetup:
  make_module = lambda: Transformer(model_cfg, rngs=nnx.Rngs(seed))
  graphdef, abstract_module_state = abstract_module(make_module)
  specs = nnx.to_pure_dict(state_specs(abstract_module_state))
  abstract_params = nnx.to_pure_dict(abstract_module_state)
  check_divisible(specs, jax.tree.map(lambda x: x.shape, abstract_params), mesh)
  param_shardings = named_shardings(specs, mesh)
  replicated = NamedSharding(mesh, PartitionSpec())
  abstract_opt = jax.eval_shape(tx.init, abstract_params)
  # Optimizer moments are sharded like their parameters; counters are replicated.
  opt_shardings = optax.tree_map_params(tx, lambda _, sharding: sharding, abstract_opt, param_shardings,
                                        transform_non_params=lambda _: replicated,
                                        is_leaf=lambda x: isinstance(x, NamedSharding))
  shardings = TrainState(replicated, param_shardings, opt_shardings, replicated)
  abstract = jax.eval_shape(lambda p: init_state(p, tx, seed), abstract_params)
  abstract = jax.tree.map(lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), abstract, shardings)

  def make_state() -> TrainState:
    params = nnx.to_pure_dict(nnx.state(init_sharded(make_module, mesh)))
    return jax.jit(lambda p: init_state(p, tx, seed), out_shardings=shardings)(params)

  batch_sharding = NamedSharding(mesh, logical_to_mesh(("batch", "length")))
  return ShardedSetup(graphdef, shardings, abstract, batch_sharding, make_state)
