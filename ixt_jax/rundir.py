"""The run directory: what one training run leaves behind, its file names and its JSON.

  <run>/config.json     the resolved config, written once at the start (`ResolvedConfig`)
  <run>/metrics.jsonl   one JSON object a line, in step order (`MetricsFile`)
  <run>/summary.json    written last: its presence means "finished" (`Summary`); evaluation
                        updates its task scores
  <run>/eval.json       `experiments.evaluate`'s full report
  <run>/checkpoints/    orbax checkpoints (train state, data position, counters)
  <run>/tensorboard/    TensorBoard scalars
  <run>/quarantine/     the records the corpus scan rejected (default place)
  <run>/heldout.jsonl   the raw held-out records, what evaluation scores (no training data needed)
  <run>/tokenizer/      the run's own copy of its vocabulary's files (`vocab.save`), what evaluation,
                        serving and export read: a copied run needs neither the corpus nor a cache

JSON and paths only, through fsspec (no JAX): `train` writes the directory, `evaluate` updates it,
`scaling` and `experiments` read it, on a local disk or a bucket alike. Nothing here appends: a bucket
has no append (an object opened with "a" is rewritten), so every file is written whole.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import uuid
from collections.abc import Callable
from typing import Any

import fsspec

CONFIG = "config.json"
SUMMARY = "summary.json"
METRICS = "metrics.jsonl"
EVAL = "eval.json"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
QUARANTINE = "quarantine"
HELDOUT = "heldout.jsonl"
TOKENIZER = "tokenizer"  # tokenizer.model (SentencePiece) or tokenizer.json + tokenizer_config.json
WANDB_RUN_ID = "wandb_run_id"  # the W&B run a resumed run logs into (ixt_jax.train.wandb_writer)


def path(run_dir: str | os.PathLike, name: str) -> str:
  """`run_dir/name` as a string fsspec (and epath) can open."""
  return f"{str(run_dir).rstrip('/')}/{name}"


def exists(url: str | os.PathLike) -> bool:
  fs, local = fsspec.core.url_to_fs(str(url))
  return fs.exists(local)


def write_bytes(url: str | os.PathLike, data: bytes) -> None:
  """Writes `data` whole; a reader sees the old file or the new one, never half of one."""
  fs, local = fsspec.core.url_to_fs(str(url))
  fs.makedirs(fs._parent(local), exist_ok=True)  # pylint: disable=protected-access
  if getattr(fs, "local_file", False) or fs.protocol in ("file", ("file", "local")):
    tmp = f"{local}.tmp-{uuid.uuid4().hex}"  # rename is atomic on a local disk
    fs.pipe_file(tmp, data)
    os.replace(tmp, local)
  else:  # an object store commits an object whole
    fs.pipe_file(local, data)


def write_text(url: str | os.PathLike, text: str) -> None:
  write_bytes(url, text.encode())


def read_text(url: str | os.PathLike) -> str:
  with fsspec.open(str(url), "rt", encoding="utf-8") as f:
    return f.read()


def json_safe(value: Any) -> Any:
  """`value` with every NaN or infinite float replaced by None: JSON has no NaN, and readers choke on it."""
  if isinstance(value, float):
    return value if math.isfinite(value) else None
  if isinstance(value, dict):
    return {k: json_safe(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [json_safe(v) for v in value]
  return value


def write_json(url: str | os.PathLike, value: Any) -> None:
  """Pretty JSON, written whole; non-finite floats become null (`json_safe`)."""
  write_text(url, json.dumps(json_safe(value), indent=2, sort_keys=True, allow_nan=False, default=str))


def read_json(url: str | os.PathLike) -> Any:
  return json.loads(read_text(url))


def is_finished(run_dir: str | os.PathLike) -> bool:
  return exists(path(run_dir, SUMMARY))


@dataclasses.dataclass(frozen=True)
class ResolvedConfig:
  """config.json: the config as run, and what it resolved to."""
  config: dict[str, Any]  # the full run config (ConfigDict.to_dict())
  model: dict[str, Any]  # the ModelConfig's fields
  tokenizer: str  # sha256 of the vocabulary
  vocab_path: str = ""  # the vocabulary file the run was given or trained ('' for bytes); its copy: TOKENIZER
  n_params: dict[str, int] = dataclasses.field(default_factory=dict)
  flops_per_token: float = 0.0
  mesh: dict[str, int] = dataclasses.field(default_factory=dict)
  process_count: int = 1


def write_config(run_dir: str | os.PathLike, resolved: ResolvedConfig) -> None:
  write_json(path(run_dir, CONFIG), dataclasses.asdict(resolved))


def read_config(run_dir: str | os.PathLike) -> ResolvedConfig:
  url = path(run_dir, CONFIG)
  if not exists(url):
    raise FileNotFoundError(f"{run_dir}: no {CONFIG}; is this a run directory written by experiments.launch?")
  fields = {f.name for f in dataclasses.fields(ResolvedConfig)}
  return ResolvedConfig(**{k: v for k, v in read_json(url).items() if k in fields})


@dataclasses.dataclass
class Summary:
  """summary.json: one finished run, what `ixt_jax.scaling` fits (README "The run contract")."""
  method: str
  seed: int
  model: str  # the ladder size
  n_params: int
  n_params_non_embedding: int
  tokens: int  # trained tokens, critiques and padding included
  doc_tokens: int  # of which document tokens
  documents: int
  flops: float  # training FLOPs: tokens x flops_per_token
  flops_per_token: float
  annotation_flops: float  # this run's share of the critic's compute
  tokenizer: str
  steps: int
  batch_size: int
  seq_len: int
  wall_seconds: float
  bad_records: dict[str, int]
  eval: dict[str, Any]  # held-out losses, task scores (None until scored), per-domain losses
  budget: str | None = None  # the IsoFLOP budget a sweep planned this run for
  feedback_token_share: float | None = None  # critique tokens / all tokens trained on
  condition: str | None = None  # the condition eval.loss was scored under (conditions.own_condition)
  # A mixture's realised mix: {source: {weight (normalised), feedback, documents, tokens,
  # document_share, token_share}} (ixt_jax.data.mixture.realised_mix); absent without `data.sources`
  mixture: dict[str, dict[str, Any]] | None = None
  extra: dict[str, Any] = dataclasses.field(default_factory=dict)  # keys other writers added

  def to_dict(self) -> dict[str, Any]:
    d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
    for optional in ("budget", "feedback_token_share", "condition", "mixture"):  # absent from older summaries
      if d[optional] is None:
        del d[optional]
    return {**d, **self.extra}

  @classmethod
  def from_dict(cls, d: dict[str, Any]) -> Summary:
    names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
    return cls(**{k: v for k, v in d.items() if k in names}, extra={k: v for k, v in d.items() if k not in names})


def write_summary(run_dir: str | os.PathLike, summary: Summary) -> None:
  write_json(path(run_dir, SUMMARY), summary.to_dict())


def read_summary(run_dir: str | os.PathLike) -> Summary:
  return Summary.from_dict(read_json(path(run_dir, SUMMARY)))


def update_json(url: str | os.PathLike, change: Callable[[dict], dict]) -> None:
  """Replaces the JSON object at `url` by `change(object)`, written whole; a missing file is `{}`,
  except summary.json, which marks a finished run: an update never creates it."""
  if str(url).rstrip("/").endswith("/" + SUMMARY) and not exists(url):
    return
  write_json(url, change(read_json(url) if exists(url) else {}))


def update_summary_eval(run_dir: str | os.PathLike, scores: dict[str, Any]) -> bool:
  """Merges `scores` into a finished run's `eval` (as a dict: keys other writers left stay);
  False, and nothing written, for an unfinished run."""
  if not is_finished(run_dir):
    return False
  update_json(path(run_dir, SUMMARY), lambda summary: {**summary, "eval": {**summary.get("eval", {}), **scores}})
  return True


class MetricsFile:
  """metrics.jsonl kept in memory and written whole by `flush` (no append, so a bucket works).

  The writer calls `flush` at every checkpoint: what a checkpoint resumes from is on disk, and on
  resume `truncate(step)` keeps exactly the lines up to the checkpoint, so each step appears once.
  """

  def __init__(self, run_dir: str | os.PathLike):
    self.url = path(run_dir, METRICS)
    self._lines: list[str] = []
    self._flushed = 0

  def truncate(self, step: int) -> None:
    """Loads the file as it stands, keeping the lines up to `step`, and writes it back."""
    self._lines = [line for line in read_text(self.url).splitlines()
                   if json.loads(line)["step"] <= step] if exists(self.url) else []
    self._flushed = -1
    self.flush()

  def add(self, step: int, metrics: dict[str, Any]) -> None:
    self._lines.append(json.dumps(json_safe({"step": step, **metrics}), sort_keys=True, allow_nan=False))

  def flush(self) -> None:
    if self._flushed != len(self._lines):
      write_text(self.url, "".join(line + "\n" for line in self._lines))
      self._flushed = len(self._lines)


def read_metrics(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
  url = path(run_dir, METRICS)
  return [json.loads(line) for line in read_text(url).splitlines()] if exists(url) else []
