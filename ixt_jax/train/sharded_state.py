"""The train state built directly sharded on the mesh, and the train step jitted onto it.

This is the one place the step is assembled: `step.make_train_step` is the pure function, `setup`
gives the shardings, `jit_train_step` puts the two together (with the per-batch counters).
"""
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
from ixt_jax.train.step import COUNTERS, MODEL_INPUTS, TrainState, init_state, make_train_step


@dataclasses.dataclass
class ShardedSetup:
  graphdef: nnx.GraphDef
  shardings: TrainState        # NamedSharding per leaf of the train state
  abstract: TrainState         # ShapeDtypeStruct (with sharding) per leaf: the restore target
  batch_sharding: NamedSharding
  make_state: Any              # () -> TrainState, freshly initialised on its shards
  mesh: Mesh

  @property
  def batch_shardings(self) -> dict[str, NamedSharding]:
    """Per key of a training batch: rows over the data axes (counters are one value a row)."""
    counter = NamedSharding(self.mesh, PartitionSpec(self.batch_sharding.spec[0]))
    return {k: counter if k in COUNTERS else self.batch_sharding for k in MODEL_INPUTS + COUNTERS}

  def to_device(self, batch: dict) -> dict:
    """A training batch's process-local rows -> global arrays sharded over the batch axes."""
    return {k: jax.make_array_from_process_local_data(s, batch[k]) for k, s in self.batch_shardings.items()}


def check_fits_mesh(make_module, mesh: Mesh) -> tuple[nnx.GraphDef, Any, Any]:
  """(graphdef, abstract module state, its partition specs); fails naming every parameter
  dimension that does not split evenly over the mesh. Shapes only: nothing is allocated."""
  graphdef, abstract_module_state = abstract_module(make_module)
  specs = nnx.to_pure_dict(state_specs(abstract_module_state))
  check_divisible(specs, jax.tree.map(lambda x: x.shape, nnx.to_pure_dict(abstract_module_state)), mesh)
  return graphdef, abstract_module_state, specs


def setup(model_cfg: ModelConfig, tx: optax.GradientTransformation, mesh: Mesh, seed: int) -> ShardedSetup:
  make_module = lambda: Transformer(model_cfg, rngs=nnx.Rngs(seed))
  graphdef, abstract_module_state, specs = check_fits_mesh(make_module, mesh)
  abstract_params = nnx.to_pure_dict(abstract_module_state)
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
  return ShardedSetup(graphdef, shardings, abstract, batch_sharding, make_state, mesh)


def jit_train_step(ss: ShardedSetup, tx: optax.GradientTransformation, schedule: optax.Schedule,
                   z_loss: float, microbatches: int):
  """train_step(state, batch) -> (state, metrics), jitted onto the shardings; the state is donated.

  The metrics (replicated) add each counter in `COUNTERS` summed over the global batch.
  """
  step_fn = make_train_step(ss.graphdef, tx, schedule, z_loss, microbatches)

  def step_with_counters(state, batch):
    state, metrics = step_fn(state, batch)
    return state, {**metrics, **{k: batch[k].sum(axis=0) for k in COUNTERS}}

  replicated = NamedSharding(ss.mesh, PartitionSpec())
  return jax.jit(step_with_counters, in_shardings=(ss.shardings, ss.batch_shardings),
                 out_shardings=(ss.shardings, replicated), donate_argnums=0)


def check_model_fits_mesh(model_cfg_for_vocab, mesh: Mesh) -> None:
  """The model's shape and its split over the mesh, checked before the vocabulary exists: with a
  stand-in vocabulary size that the mesh divides (the real one is checked again by `setup`)."""
  model_cfg = model_cfg_for_vocab(mesh.shape["tensor"] * 256)
  check_fits_mesh(lambda: Transformer(model_cfg, rngs=nnx.Rngs(0)), mesh)
