"""Every knob of the data stage, with its default; the trainer embeds it as `config.data`.

`resolve_data_config` fills what other fields imply (the trainer calls it once, at the edge);
`validate_data_config` fails before any compute with a ConfigError (a ValueError) naming the field and its value.
"""
from __future__ import annotations

import dataclasses
import os

from etils import epath
import ml_collections
from ml_collections import config_dict

from ixt_jax.errors import ConfigError

PLACEMENTS = ("prefix", "suffix", "none")
# How often a long document's critique is shown: with its first chunk only, or with every chunk.
REPEATS = ("first", "every")
DONORS = ("domain", "any")
FEEDBACK_KINDS = ("critique", "quality_token")
# Controls that separate the critique's information from its extra tokens (docs/architecture.md).
CONTROLS = ("", "shuffled", "neutral")
VOCAB_KINDS = ("sentencepiece", "byte", "huggingface")
# Named rules for a document's loss weight from its critic score ('' = constant weight).
DOCUMENT_BY_SCORE_RULES = ("", "score", "approved")


def get_data_config() -> ml_collections.ConfigDict:
  """The data config with its defaults (CPU scale)."""
  cfg = ml_collections.ConfigDict()
  cfg.train_dirs = []  # shard directories written by ixt_jax.data.shards
  # A mixture: [] = every record of train_dirs, in one stream. Else a list of sources, each
  # {"name": str, "dirs": [shard directories], "weight": float > 0, "feedback": bool (default True)}:
  # documents are drawn from the sources in proportion to their weights (Grain's MapDataset.mix),
  # a source with feedback False trains without critiques (its records need none), and summary.json
  # reports the realised mix. train_dirs, if left empty, becomes the sources' directories.
  cfg.sources = []
  cfg.seq_len = 256  # row length T of every batch
  cfg.quarantine_dir = ""  # '' = ~/.cache/ixt_jax/quarantine; the trainer points it into its workdir
  cfg.max_bad_fraction = 0.01  # abort when more than this share of records is malformed

  cfg.vocab = ml_collections.ConfigDict()
  cfg.vocab.kind = "sentencepiece"  # or huggingface (a tokenizer.json), or byte
  cfg.vocab.size = 2048
  # sentencepiece: a .model file ('' = train on a corpus sample once, cached by content hash);
  # huggingface: a tokenizer.json or a directory holding one. The special tokens are added if missing.
  cfg.vocab.model_path = ""
  cfg.vocab.cache_dir = ""  # where trained models are kept; '' = ~/.cache/ixt_jax/vocab
  cfg.vocab.sample_records = 20000  # records the SentencePiece model is trained on

  cfg.feedback = ml_collections.ConfigDict()
  cfg.feedback.placement = "prefix"
  cfg.feedback.kind = "critique"  # or quality_token: the score bucket <quality_0..4> replaces the text
  cfg.feedback.template = "<critique>{critique}</critique>"
  # A document longer than a row is cut into chunks: 'first' shows its critique once, with the first
  # chunk (the critique at its true cost); 'every' repeats it before every chunk (the v1 CPU study)
  cfg.feedback.repeat = "first"
  cfg.feedback.dropout = 0.0  # chance a record's critique is left out (redrawn every epoch)
  cfg.feedback.annotated_fraction = 1.0  # share of records that keep their annotation at all
  # '' = the record's own critique; 'shuffled' = another record's; 'neutral' = an uninformative
  # prefix of the same length
  cfg.feedback.control = ""
  # Whose critique 'shuffled' shows: a record of the same domain, or any record (the v1 CPU study)
  cfg.feedback.donors = "domain"
  cfg.feedback.weight = ml_collections.ConfigDict()
  # None = per the batch contract: 0 before the document (prefix), 1 after it (suffix).
  cfg.feedback.weight.critique = config_dict.placeholder(float)
  cfg.feedback.weight.document = 1.0
  cfg.feedback.weight.prompt = 0.0  # post-training prompts are context, not targets
  cfg.feedback.weight.document_by_score = ""  # one of DOCUMENT_BY_SCORE_RULES

  # Filtering control: train only on records the critic scored at least this (held-out sets keep every
  # record); -1 = train on everything. The built-in critics approve at 0.5 (formatting.APPROVED_SCORE).
  cfg.train_min_score = -1.0

  cfg.heldout = ml_collections.ConfigDict()
  cfg.heldout.fraction = 0.01  # share of distinct documents held out (by content hash)
  cfg.heldout.count = 0  # > 0: instead hold out this many documents per domain
  cfg.heldout.clean_score = 1.0  # the clean split: held-out documents scored at least this
  # Save the corpus scan (counts, split, references) once and read it at every later launch; it
  # goes beside the shards (<first train dir>/.ixt_index) unless index_dir names another folder.
  cfg.index = True
  cfg.index_dir = ""

  cfg.pack_bins = 16  # rows packed together; fixed so the row stream ignores the batch size
  cfg.tokenize_group = 64  # records tokenized in one SentencePiece call
  cfg.worker_count = 0  # > 0: tokenize in that many processes (absl flags must be parsed)
  cfg.worker_buffer_size = 4  # record groups each worker prepares ahead
  return cfg


@dataclasses.dataclass(frozen=True)
class Source:
  """One source of the training mixture (`config.data.sources`)."""
  name: str
  dirs: tuple[str, ...]
  weight: float
  feedback: bool  # False: no critique is ever shown with this source's documents


SOURCE_FIELDS = ("name", "dirs", "weight", "feedback")
SINGLE_SOURCE = "all"  # the name of the one source of a config without `sources`


def sources(cfg: ml_collections.ConfigDict) -> tuple[Source, ...]:
  """The sources of a checked config: its `sources`, or every train dir as one source."""
  if not cfg.get("sources"):
    return (Source(SINGLE_SOURCE, tuple(cfg.train_dirs), 1.0, True),)
  return tuple(Source(s["name"], tuple(s["dirs"]), float(s["weight"]), bool(s.get("feedback", True)))
               for s in cfg.sources)


def feedback_off_dirs(cfg: ml_collections.ConfigDict) -> tuple[str, ...]:
  """The directories of sources trained without critiques (their records may have no feedback)."""
  return tuple(d for source in sources(cfg) if not source.feedback for d in source.dirs)


def resolve_data_config(cfg: ml_collections.ConfigDict) -> None:
  """Fills, in place, what other fields imply: `train_dirs` from the sources' directories when empty."""
  if cfg.get("sources") and not cfg.train_dirs:
    dirs = [d for s in cfg.sources if isinstance(s, (dict, ml_collections.ConfigDict)) for d in s.get("dirs", ())]
    cfg.train_dirs = list(dict.fromkeys(dirs))


def _fail(field: str, value, expected: str):
  raise ConfigError(f"config.data.{field}={value!r}: expected {expected}")


def _check_number(cfg, field: str, low: float, high: float, *, integer: bool = False,
                  low_open: bool = False):
  value = cfg
  for part in field.split("."):
    value = value[part]
  kind = int if integer else (int, float)
  ok = isinstance(value, kind) and not isinstance(value, bool)
  ok = ok and (value > low if low_open else value >= low) and value <= high
  if not ok:
    bracket = "(" if low_open else "["
    _fail(field, value, f"{'an integer' if integer else 'a number'} in {bracket}{low}, {high}]")


def validate_data_config(cfg: ml_collections.ConfigDict) -> None:
  """Raises ValueError naming the first invalid field and its value."""
  dirs = cfg.train_dirs
  if not isinstance(dirs, (list, tuple)) or not dirs or not all(isinstance(d, str) and d for d in dirs):
    _fail("train_dirs", dirs, "a non-empty list of shard directories")
  _validate_sources(cfg)
  _check_number(cfg, "seq_len", 16, 1 << 20, integer=True)
  _check_number(cfg, "max_bad_fraction", 0.0, 1.0)
  if cfg.vocab.kind not in VOCAB_KINDS:
    _fail("vocab.kind", cfg.vocab.kind, f"one of {VOCAB_KINDS}")
  if cfg.vocab.kind == "huggingface" and not cfg.vocab.model_path:
    _fail("vocab.model_path", cfg.vocab.model_path, "a tokenizer.json, or a directory holding one (vocab.kind=huggingface)")
  if cfg.vocab.kind == "sentencepiece" and not cfg.vocab.model_path:
    # Room for 3 control ids, the special symbols and the 256 byte-fallback pieces.
    _check_number(cfg, "vocab.size", 300, 1 << 20, integer=True)
    _check_number(cfg, "vocab.sample_records", 1, 1 << 40, integer=True)

  fb = cfg.feedback
  if fb.placement not in PLACEMENTS:
    _fail("feedback.placement", fb.placement, f"one of {PLACEMENTS}")
  if fb.kind not in FEEDBACK_KINDS:
    _fail("feedback.kind", fb.kind, f"one of {FEEDBACK_KINDS}")
  if fb.repeat not in REPEATS:
    _fail("feedback.repeat", fb.repeat, f"one of {REPEATS}")
  if fb.donors not in DONORS:
    _fail("feedback.donors", fb.donors, f"one of {DONORS}")
  if fb.control not in CONTROLS:
    _fail("feedback.control", fb.control, f"one of {CONTROLS}")
  if not isinstance(fb.template, str) or fb.template.count("{critique}") != 1:
    _fail("feedback.template", fb.template, "text containing '{critique}' exactly once")
  try:
    fb.template.format(critique="")
  except (KeyError, IndexError, ValueError):
    _fail("feedback.template", fb.template, "a str.format template whose only field is {critique}")
  _check_number(cfg, "feedback.dropout", 0.0, 1.0)
  _check_number(cfg, "feedback.annotated_fraction", 0.0, 1.0)
  if fb.weight.critique is not None:
    _check_number(cfg, "feedback.weight.critique", 0.0, float("inf"))
  _check_number(cfg, "feedback.weight.document", 0.0, float("inf"))
  _check_number(cfg, "feedback.weight.prompt", 0.0, float("inf"))
  if fb.weight.document_by_score not in DOCUMENT_BY_SCORE_RULES:
    _fail("feedback.weight.document_by_score", fb.weight.document_by_score,
          f"one of {DOCUMENT_BY_SCORE_RULES}")

  if cfg.train_min_score != -1.0:
    _check_number(cfg, "train_min_score", 0.0, 1.0)
  _check_number(cfg, "heldout.fraction", 0.0, 1.0)
  if cfg.heldout.fraction >= 1.0:
    _fail("heldout.fraction", cfg.heldout.fraction, "less than 1 (something must remain to train on)")
  _check_number(cfg, "heldout.count", 0, 1 << 40, integer=True)
  _check_number(cfg, "heldout.clean_score", 0.0, 1.0)

  if not isinstance(cfg.index, bool):
    _fail("index", cfg.index, "True or False")
  _check_number(cfg, "pack_bins", 1, 1 << 16, integer=True)
  _check_number(cfg, "tokenize_group", 1, 1 << 16, integer=True)
  _check_number(cfg, "worker_count", 0, 1024, integer=True)
  _check_number(cfg, "worker_buffer_size", 1, 1 << 16, integer=True)


def _validate_sources(cfg: ml_collections.ConfigDict) -> None:
  """Each source well formed; together they split train_dirs: every directory in exactly one source."""
  mixture = cfg.get("sources", [])
  if not isinstance(mixture, (list, tuple)):
    _fail("sources", mixture, "a list of sources ({'name', 'dirs', 'weight', 'feedback'} each)")
  owner: dict[str, str] = {}  # directory -> the source that reads it
  names = set()
  for i, source in enumerate(mixture):
    field = f"sources[{i}]"
    keys = set(source.keys()) if isinstance(source, (dict, ml_collections.ConfigDict)) else set()
    if not {"name", "dirs", "weight"} <= keys or keys - set(SOURCE_FIELDS):
      _fail(field, source, "a dict with keys name, dirs, weight and optionally feedback")
    name, dirs, weight = source["name"], source["dirs"], source["weight"]
    if not isinstance(name, str) or not name or name in names:
      _fail(f"{field}.name", name, "a non-empty name no other source has")
    if not isinstance(dirs, (list, tuple)) or not dirs or not all(isinstance(d, str) and d for d in dirs):
      _fail(f"{field}.dirs", dirs, "a non-empty list of shard directories")
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight < float("inf"):
      _fail(f"{field}.weight", weight, "a positive number")
    if not isinstance(source.get("feedback", True), bool):
      _fail(f"{field}.feedback", source["feedback"], "True or False")
    names.add(name)
    for d in dirs:
      if d in owner:
        _fail(f"{field}.dirs", dirs, f"directories of this source only ({d!r} is also in source {owner[d]!r})")
      if d not in cfg.train_dirs:
        _fail(f"{field}.dirs", dirs, f"directories listed in config.data.train_dirs ({d!r} is not)")
      owner[d] = name
  unowned = [d for d in cfg.train_dirs if mixture and d not in owner]
  if unowned:
    _fail("train_dirs", list(cfg.train_dirs), f"only directories of config.data.sources ({unowned} are in none)")


def directory_or_default(value: str, name: str) -> epath.Path:
  """`value`, or the folder `name` of the user's cache when it is ''."""
  return epath.Path(value or os.path.join(os.path.expanduser("~/.cache/ixt_jax"), name))


def critique_weight(feedback_cfg: ml_collections.ConfigDict) -> float:
  """The critique tokens' loss weight: the configured one, else the contract's default."""
  if feedback_cfg.weight.critique is not None:
    return float(feedback_cfg.weight.critique)
  return 1.0 if feedback_cfg.placement == "suffix" else 0.0
