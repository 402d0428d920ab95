"""The run config every stage shares (model, mesh, optimizer, schedule, data), and its checks.

Configs in `configs/` start from `get_run_config()` and change fields; the dict is locked, so an
override of a key that does not exist fails at flag parsing, naming the key. `resolve_run_config`
is the one entry: it copies the caller's config, fills the run-directory defaults, builds the mesh
and checks everything that can be checked before any data is read or anything compiled
(`validate_run_config`, then the model's shape against the mesh); the library takes the result as given.
"""
from __future__ import annotations

import ml_collections
from etils import epath
from ml_collections import config_dict

from ixt_jax import rundir
from ixt_jax.data import hf_vocab
from ixt_jax.data.config import get_data_config, resolve_data_config, validate_data_config
from ixt_jax.errors import ConfigError
from ixt_jax.models.config import ModelConfig
from ixt_jax.models.sizes import LADDER

# Other method names are variants (controls, ablations) that set their own feedback knobs.
METHODS = ("ixt", "baseline")
SCHEDULES = ("cosine", "wsd")
SHAPE_FIELDS = ("d_model", "n_layers", "n_heads", "n_kv_heads", "head_dim", "d_ff")


def get_run_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.method = "ixt"  # ixt: critique prefix; baseline: the same documents, no critique
  c.seed = 0        # derives model init, data order and critique dropout

  c.model = ml_collections.ConfigDict()
  c.model.size = "1m"  # a name in ixt_jax.models.sizes.LADDER
  for field in SHAPE_FIELDS:  # None = the ladder's value
    c.model[field] = config_dict.placeholder(int)
  c.model.tie_embeddings = True
  c.model.compute_dtype = "float32"
  c.model.remat = "none"
  c.model.scan_layers = True
  c.model.attention = "auto"  # auto | xla | cudnn | splash (ixt_jax.models.attention)

  c.mesh = ml_collections.ConfigDict({"data": -1, "fsdp": 1, "tensor": 1})
  c.distributed = ml_collections.ConfigDict({"mode": "auto", "coordinator_address": "",
                                             "num_processes": 0, "process_id": -1})

  c.optimizer = ml_collections.ConfigDict()
  c.optimizer.learning_rate = 3e-3
  c.optimizer.b1 = 0.9
  c.optimizer.b2 = 0.95
  c.optimizer.eps = 1e-8
  c.optimizer.weight_decay = 0.1
  c.optimizer.clip_norm = 1.0
  c.optimizer.schedule = "cosine"  # or wsd: warmup, stable, decay over the last decay_fraction
  c.optimizer.warmup_steps = 50
  c.optimizer.decay_fraction = 0.2
  c.optimizer.min_lr_ratio = 0.1

  c.train = ml_collections.ConfigDict()
  c.train.batch_size = 16  # global rows per step
  c.train.steps = 200
  c.train.microbatches = 1  # gradient accumulation: the batch is split into this many slices
  c.train.z_loss = 1e-4
  c.train.log_every = 10
  c.train.checkpoint_every = 100
  c.train.checkpoint_minutes = 30.0  # also save on this wall-clock interval (0 = off)
  c.train.keep_checkpoints = 2  # the last N, plus the best by held-out loss
  # A finished run dir: start this stage from its parameters, fresh optimizer; or a Hugging Face Llama
  # directory, whose tokenizer.json (if any) becomes the run's tokenizer unless data.vocab.model_path names one
  c.train.init_from = ""
  c.train.conditioning_cooldown = 0.0  # last fraction of steps trained with every critique dropped
  c.train.eval_every = 100  # held-out loss per domain every this many steps (and at the end)
  c.train.eval_batch_size = 16
  c.train.peak_flops_per_device = 0.0  # 0 = known accelerator peak, or a matmul timed at start-up
  c.train.positive_critique = ""  # '' = what the built-in critic writes for a flawless document

  c.eval = ml_collections.ConfigDict()  # task scores (greedy sampling); held-out loss is train.eval_every
  c.eval.tasks = "math,code"  # comma-separated: math, code, humaneval; '' = none
  c.eval.every = 0  # also score tasks every this many steps (0 = at the end only)
  c.eval.max_problems = 64  # per task
  c.eval.max_new_tokens = 256
  c.eval.timeout_s = 5.0  # per generated program in the sandbox

  c.wandb = ml_collections.ConfigDict()  # an optional W&B run beside TensorBoard (ixt_jax.train.wandb_writer)
  c.wandb.project = ""  # '' = off
  c.wandb.entity = ""
  c.wandb.name = ""  # '' = the workdir's name
  c.wandb.group = ""

  c.data = get_data_config()
  # This run's share of the critic's compute (0 for verifier critics); < 0: read from the training
  # data's manifests, in proportion to the records read (ixt_jax/data/annotation_cost.py).
  c.annotation_flops = -1.0
  c.budget = ""  # the IsoFLOP budget a sweep planned this run for; copied into summary.json
  c.lock()
  return c


def _fail(field: str, message: str):
  raise ConfigError(f"config.{field}: {message}")


def model_config(c: ml_collections.ConfigDict, vocab_size: int) -> ModelConfig:
  """The ModelConfig of this run: the ladder shape, any shape override, the tokenizer's vocab."""
  if c.model.size not in LADDER:
    _fail("model.size", f"{c.model.size!r} is not in the ladder {list(LADDER)}")
  fields = dict(LADDER[c.model.size], vocab_size=vocab_size)
  fields.update({k: c.model[k] for k in SHAPE_FIELDS if c.model[k] is not None})
  fields.update(tie_embeddings=c.model.tie_embeddings, compute_dtype=c.model.compute_dtype,
                remat=c.model.remat, scan_layers=c.model.scan_layers, attention=c.model.attention)
  try:
    return ModelConfig.from_dict(fields)
  except ValueError as e:  # ModelConfig names the field ("model.remat=...")
    raise ConfigError(f"config.{e}") from None


def resolve_run_config(c: ml_collections.ConfigDict, workdir: epath.PathLike) -> ml_collections.ConfigDict:
  """A locked copy of `c` with the run directory's defaults filled in, and what the data config
  implies (data.resolve_data_config); the caller's `c` is untouched."""
  c = c.copy_and_resolve_references()
  if (c.train.init_from and not c.data.vocab.model_path and c.data.vocab.kind != "byte"
      and (epath.Path(c.train.init_from) / hf_vocab.FILE).exists()):
    # A pre-trained Hugging Face model brings its tokenizer: its ids are what the imported embeddings mean.
    c.data.vocab.kind, c.data.vocab.model_path = "huggingface", c.train.init_from
  if not c.data.quarantine_dir:
    c.data.quarantine_dir = rundir.path(workdir, rundir.QUARANTINE)
  resolve_data_config(c.data)
  c.lock()
  return c


def eval_tasks(c: ml_collections.ConfigDict) -> tuple[str, ...]:
  return tuple(t for t in c.eval.tasks.split(",") if t)


def validate_run_config(c: ml_collections.ConfigDict, n_devices: int, data_parallel: int) -> None:
  """Fails before any compute, naming the field and the numbers."""
  if c.method == "baseline" and c.data.feedback.placement != "none":
    _fail("data.feedback.placement", f"{c.data.feedback.placement!r} but method is baseline (needs 'none')")
  if c.method == "ixt" and c.data.feedback.placement == "none":
    _fail("data.feedback.placement", "'none' but method is ixt (needs 'prefix' or 'suffix')")
  if c.optimizer.schedule not in SCHEDULES:
    _fail("optimizer.schedule", f"{c.optimizer.schedule!r}; expected one of {SCHEDULES}")
  for field in ("steps", "batch_size", "log_every", "checkpoint_every", "eval_every", "eval_batch_size",
                "keep_checkpoints"):
    if c.train[field] <= 0:
      _fail(f"train.{field}", f"must be positive, got {c.train[field]}")
  if c.optimizer.warmup_steps < 0 or c.optimizer.warmup_steps >= c.train.steps:
    _fail("optimizer.warmup_steps", f"{c.optimizer.warmup_steps} must be in [0, train.steps={c.train.steps})")
  if not 0 <= c.optimizer.decay_fraction <= 1:
    _fail("optimizer.decay_fraction", f"{c.optimizer.decay_fraction} must be in [0, 1]")
  if c.train.batch_size % data_parallel:
    _fail("train.batch_size", f"{c.train.batch_size} is not divisible by the data-parallel size "
          f"{data_parallel} (mesh data x fsdp)")
  if c.train.microbatches <= 0 or c.train.batch_size % (c.train.microbatches * data_parallel):
    _fail("train.microbatches", f"{c.train.microbatches}: train.batch_size={c.train.batch_size} must split "
          f"into that many micro-batches, each divisible by the data-parallel size {data_parallel}")
  unknown_tasks = sorted(set(eval_tasks(c)) - {"math", "code", "humaneval"})
  if unknown_tasks:
    _fail("eval.tasks", f"unknown task(s) {unknown_tasks}; expected math, code or humaneval")
  if not 0 <= c.train.conditioning_cooldown < 1:
    _fail("train.conditioning_cooldown", f"{c.train.conditioning_cooldown} must be in [0, 1)")
  if c.train.eval_batch_size % data_parallel:
    _fail("train.eval_batch_size", f"{c.train.eval_batch_size} is not divisible by the data-parallel "
          f"size {data_parallel} (mesh data x fsdp)")
  validate_data_config(c.data)
  missing = [d for d in c.data.train_dirs if not epath.Path(d).exists()]
  if missing:
    _fail("data.train_dirs", f"{missing} do not exist (write shards with experiments.corpus and experiments.annotate)")
