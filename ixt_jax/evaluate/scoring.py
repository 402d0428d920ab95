"""Log-probabilities of given token sequences under a model's parameters: one jitted forward pass.

What `/v1/completions` returns as `logprobs` (with `echo`, the prompt's own tokens, as lm-eval's
loglikelihood tasks need). Rows are right-padded into segment 0, which the attention mask keeps
apart from the text (segment 1); shapes are rounded up so few programs compile.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ixt_jax.parallel.mesh import data_parallel_size
from ixt_jax.parallel.rules import logical_to_mesh
from ixt_jax.parallel.sharding import use_mesh

_LENGTH_BUCKET = 64
MAX_TOP_K = 20  # alternatives per position a request may ask for (vLLM's default cap)


@dataclasses.dataclass(frozen=True)
class TokenScores:
  """For each token after the first: its log-probability and the top alternatives at its position."""
  logprobs: list[float]
  top_ids: list[list[int]]
  top_logprobs: list[list[float]]


def _score(graphdef, params, tokens_BxT, segment_ids_BxT, *, top_k: int):
  positions_BxT = jnp.broadcast_to(jnp.arange(tokens_BxT.shape[1]), tokens_BxT.shape)
  logits_BxTxV = nnx.merge(graphdef, params)(tokens_BxT, segment_ids_BxT, positions_BxT)
  logprobs_BxTxV = jax.nn.log_softmax(logits_BxTxV[:, :-1].astype(jnp.float32), axis=-1)
  chosen_BxT = jnp.take_along_axis(logprobs_BxTxV, tokens_BxT[:, 1:, None], axis=-1)[..., 0]
  top_BxTxK, top_ids_BxTxK = jax.lax.top_k(logprobs_BxTxV, top_k)
  return chosen_BxT, top_BxTxK, top_ids_BxTxK


class TokenScorer:
  """`score(params, sequences, top_k)`: TokenScores of each sequence, rows split over the mesh's data axes."""

  def __init__(self, graphdef: nnx.GraphDef, mesh: Mesh):
    self.graphdef, self.mesh = graphdef, mesh
    self._rows = data_parallel_size(mesh)
    self._batch_sharding = NamedSharding(mesh, logical_to_mesh(("batch", "length")))
    self._jitted = jax.jit(_score, static_argnames=("graphdef", "top_k"),
                           out_shardings=NamedSharding(mesh, PartitionSpec()))

  def score(self, params, sequences: Sequence[Sequence[int]], top_k: int = 1) -> list[TokenScores]:
    if any(len(s) < 2 for s in sequences):
      raise ValueError("a scored sequence needs at least 2 tokens (the first token is never predicted)")
    if not 1 <= top_k <= MAX_TOP_K:
      raise ValueError(f"top_k={top_k}: must be in 1..{MAX_TOP_K}")
    batch = -(-len(sequences) // self._rows) * self._rows
    length = -(-max(len(s) for s in sequences) // _LENGTH_BUCKET) * _LENGTH_BUCKET
    tokens = np.zeros((batch, length), np.int32)  # padding: segment id 0 masks it, any id does
    segment_ids = np.zeros((batch, length), np.int32)
    for row, ids in enumerate(sequences):
      tokens[row, :len(ids)], segment_ids[row, :len(ids)] = ids, 1
    put = functools.partial(jax.device_put, device=self._batch_sharding)
    with use_mesh(self.mesh):
      out = self._jitted(self.graphdef, params, put(tokens), put(segment_ids), top_k=top_k)
    chosen, top, top_ids = (np.asarray(x) for x in jax.device_get(out))
    return [TokenScores(chosen[row, :len(ids) - 1].tolist(), top_ids[row, :len(ids) - 1].tolist(),
                        top[row, :len(ids) - 1].tolist()) for row, ids in enumerate(sequences)]
