"""A finished (or running) run directory loaded for evaluation: config, vocabulary, parameters, and
the held-out records, all from the run's own copies (rundir.TOKENIZER, rundir.HELDOUT), so a run
copied anywhere evaluates without its corpus or the user's cache.

Only the parameters of the latest checkpoint are read (orbax partial restore of the `state` item),
each straight onto its shard of the mesh: the optimizer state stays on disk, and no device ever
holds a full copy of a sharded parameter.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import ml_collections
from etils import epath
from flax import nnx
from jax.sharding import Mesh

from ixt_jax import rundir
from ixt_jax.data import corpus as corpus_lib
from ixt_jax.data import config as data_config
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.models import ModelConfig, Transformer
from ixt_jax.parallel.mesh import make_mesh
from ixt_jax.parallel.sharding import abstract_module
from ixt_jax.train.checkpoint import restore_params


@dataclasses.dataclass
class LoadedRun:
  path: epath.Path
  config: ml_collections.ConfigDict  # the run's resolved config
  model_config: ModelConfig
  vocab: Any
  graphdef: nnx.GraphDef
  params: Any  # pure dict of arrays, sharded on `mesh`
  mesh: Mesh
  step: int


def _find_vocabulary(run_dir: epath.Path, c: ml_collections.ConfigDict, sha256: str, path_used: str):
  """The run's vocabulary: its own copy in the run directory (rundir.TOKENIZER), checked by hash.

  A run written before runs kept that copy falls back to the model file it used, or one in the
  cache with the same hash; only when no file matches is it trained again from the corpus.
  """
  saved = vocab_lib.load_saved(c.data.vocab.kind, rundir.path(run_dir, rundir.TOKENIZER))
  if saved is not None:
    if saved.sha256 != sha256:
      raise ValueError(f"{run_dir}/{rundir.TOKENIZER} has hash {saved.sha256[:12]}, but the run was trained "
                       f"with {sha256[:12]}")
    return saved
  if c.data.vocab.kind == "sentencepiece" and not c.data.vocab.model_path:
    cache = data_config.directory_or_default(c.data.vocab.cache_dir, "vocab")
    candidates = [epath.Path(path_used)] if path_used else []
    candidates += sorted(cache.glob(f"spm-{c.data.vocab.size}-*.model")) if cache.exists() else []
    for path in candidates:
      if path.exists() and (vocab := vocab_lib.SentencePieceVocabulary(path)).sha256 == sha256:
        return vocab
  vocab = vocab_lib.load_vocabulary(c.data)
  if vocab.sha256 != sha256:
    raise ValueError(f"the vocabulary {vocab.path or c.data.vocab.kind!r} has hash {vocab.sha256[:12]}, but "
                     f"the run was trained with {sha256[:12]}")
  return vocab


def load_run(run_dir: epath.PathLike, mesh: Mesh | None = None, step: int | None = None) -> LoadedRun:
  """The run in `run_dir` with the parameters of checkpoint `step` (default: the latest).

  `mesh` defaults to the run's own mesh request (`config.mesh`, e.g. all devices on `data`).
  """
  path = epath.Path(run_dir)
  resolved = rundir.read_config(path)
  c = ml_collections.ConfigDict(resolved.config)
  model_cfg = ModelConfig.from_dict(resolved.model)
  vocab = _find_vocabulary(path, c, resolved.tokenizer, resolved.vocab_path)
  mesh = mesh or make_mesh(dict(c.mesh))
  graphdef, abstract = abstract_module(lambda: Transformer(model_cfg, rngs=nnx.Rngs(0)))
  params, step = restore_params(path / rundir.CHECKPOINTS, abstract, mesh, step)
  return LoadedRun(path, c, model_cfg, vocab, graphdef, params, mesh, step)


def load_corpus(run: LoadedRun) -> corpus_lib.Corpus:
  """The held-out records the run kept; a run written before runs kept them scans its corpus."""
  saved = rundir.path(run.path, rundir.HELDOUT)
  return corpus_lib.heldout_corpus(saved) if rundir.exists(saved) else corpus_lib.scan_corpus(run.config.data, run.vocab)
