"""The Grain pipeline: corpus -> shuffled records -> formatted, tokenized chunks -> packed batches.

Graph (train):
  MapDataset.range(records).repeat()        record order: a fresh permutation per epoch, from the
    .map_with_index(epoch shuffle)          seed alone (not the batch size, not the method);
    [MapDataset.mix(sources, weights)]      one per source of a mixture, mixed by their weights
    [process_index::process_count]          disjoint, complete shares for the hosts
    .batch(tokenize_group).map(tokenize)    read, parse, format, tokenize, chunk
    .to_iter_dataset().mp_prefetch()        optional worker processes, order-preserving
  -> flatten -> FirstFitPack(pack_bins) -> row bookkeeping -> batch(batch_size)

Packing happens after the workers and over a fixed number of bins, so the stream of rows is the
same for any batch size and worker count: a smaller token budget trains on a prefix of a larger
one's rows. Batches (numpy):
  tokens int32 [B, T], loss_weights float32 [B, T] (0 on padding and, by default, critiques),
  segment_ids int32 [B, T] (0 = padding), positions int32 [B, T] (0 at each segment start),
  document_tokens int32 [B] (non-critique tokens), documents int32 [B] (documents begun),
  document_bytes int32 [B] (UTF-8 bytes of the documents begun), critique_tokens int32 [B]
  (critique tokens shown: the numerator of the feedback token share), source_documents and
  source_tokens int32 [B, S] (per source of the mixture: mixture.SOURCE_COUNTERS).
`loss_weights[b, t]` weighs predicting `tokens[b, t]` from the tokens before it in its segment; a
segment's first token (a critique's opening or an <eos> opening the document) always has weight 0,
so next-token targets within segments lose no weighted token.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from absl import flags
import grain
import numpy as np

from ixt_jax.data import conditions
from ixt_jax.data import config
from ixt_jax.data import corpus as corpus_lib
from ixt_jax.data import examples
from ixt_jax.data import formatting
from ixt_jax.data import mixture
from ixt_jax.data import records

scan_corpus = corpus_lib.scan_corpus  # the trainer reads corpus.bad_counts from its result


def _epoch_seed(seed: int, epoch: int, stream: str) -> int:
  parts = (seed, "order", epoch) if not stream else (seed, "order", stream, epoch)
  return int(formatting.unit_hash(*parts) * 2**32)


class _EpochShuffle:
  """Position i of the repeated record stream -> (epoch, record row), a new permutation per epoch."""

  def __init__(self, num_records: int, seed: int, stream: str = ""):
    self._num_records = num_records
    self._seed = seed
    self._stream = stream  # a mixture's source name: each source its own permutations

  def __call__(self, index: int, _) -> tuple[int, int]:
    epoch, position = divmod(index, self._num_records)
    row = grain.experimental.index_shuffle(
        position, max_index=self._num_records - 1, seed=_epoch_seed(self._seed, epoch, self._stream), rounds=4)
    return epoch, int(row)


def _epoch_order(num_records: int, seed: int, num_epochs: int | None, stream: str = "") -> grain.MapDataset:
  if num_records == 0:
    raise ValueError("the corpus has no training records")
  ds = grain.MapDataset.range(num_records).repeat(num_epochs)
  return ds.map_with_index(_EpochShuffle(num_records, seed, stream))


def _check_process(process_index: int, process_count: int) -> None:
  if not 0 <= process_index < process_count:
    raise ValueError(f"process_index={process_index} is not in [0, process_count={process_count})")


def record_order(num_records: int, *, seed: int, process_index: int = 0, process_count: int = 1,
                 num_epochs: int | None = None) -> grain.MapDataset:
  """(epoch, record row) pairs this process reads, in order."""
  _check_process(process_index, process_count)
  return _epoch_order(num_records, seed, num_epochs)[process_index::process_count]


class _InSource:
  """(epoch, position among a source's rows) -> (source index, epoch, corpus row)."""

  def __init__(self, source: int, rows: np.ndarray | None):
    self._source, self._rows = source, rows  # rows None: the source is the whole corpus

  def __call__(self, pair: tuple[int, int]) -> tuple[int, int, int]:
    epoch, position = pair
    return self._source, epoch, position if self._rows is None else int(self._rows[position])


def mixed_order(corpus: corpus_lib.Corpus, sources: Sequence[config.Source], *, seed: int,
                process_index: int = 0, process_count: int = 1,
                num_epochs: int | None = None) -> grain.MapDataset:
  """(source index, epoch, record row) triples this process reads, in order: each source's records
  in their own epoch permutations, drawn in proportion to the weights (Grain's MapDataset.mix).

  One source reads the records in `record_order`'s order (a config without a mixture is unchanged).
  """
  _check_process(process_index, process_count)
  if len(sources) == 1:
    mixed = _epoch_order(len(corpus.train_refs), seed, num_epochs).map(_InSource(0, None))
  else:
    orders = [_epoch_order(len(rows), seed, num_epochs, stream=s.name).map(_InSource(i, rows))
              for i, (s, rows) in enumerate(zip(sources, mixture.source_rows(corpus, sources)))]
    mixed = grain.MapDataset.mix(orders, [s.weight for s in sources])
  return mixed[process_index::process_count]


def source_settings(data_cfg) -> list[formatting.FeedbackSettings]:
  """How each source's records are formatted (one without feedback shows no critique), by source index."""
  settings = formatting.FeedbackSettings.from_config(data_cfg)
  return [settings if s.feedback else settings.without_critiques() for s in config.sources(data_cfg)]


def format_row(reader, refs: np.ndarray, row: int, epoch: int, settings: formatting.FeedbackSettings,
               seed: int, donor_rows: np.ndarray | None = None) -> formatting.Formatted:
  """Training record `row` laid out for tokenization (under the 'shuffled' control, with the
  critique of its donor record: one of `donor_rows`, the rows of its domain, with donors='domain';
  any training record with donors='any' or when `donor_rows` is None)."""
  require_feedback = settings.placement != "none"
  read = lambda r: records.parse_record(reader.read(refs[r]), require_feedback=require_feedback)
  record = read(row)
  donor = None
  if settings.control == "shuffled":
    if settings.donors == "domain" and donor_rows is not None:
      donor = read(donor_rows[formatting.donor_index(record.id, seed, len(donor_rows))])
    else:
      donor = read(formatting.donor_index(record.id, seed, len(refs)))
  return formatting.format_for_training(record, settings, seed=seed, epoch=epoch, donor=donor)


class _TokenizeGroup:
  """A group of (source, epoch, row) triples -> the row-sized elements of those records, in order,
  joined, each marked with its source."""

  def __init__(self, corpus: corpus_lib.Corpus, vocab, data_cfg, seed: int):
    self._refs = corpus.train_refs
    self._domains = corpus.train_domains
    self._domain_rows = corpus.domain_rows()
    self._reader = corpus.reader()
    self._vocab = vocab
    self._settings = source_settings(data_cfg)
    self._seq_len = data_cfg.seq_len
    self._seed = seed

  def __call__(self, group) -> dict:
    items = [format_row(self._reader, self._refs, row, epoch, self._settings[source], self._seed,
                        self._domain_rows[self._domains[row]]) for source, epoch, row in group]
    elements = examples.tokenize(items, self._vocab, self._seq_len)
    item_of_element = np.cumsum([e["documents"] for e in elements]) - 1  # a record's first chunk begins it
    for element, item in zip(elements, item_of_element):
      element[mixture.SOURCE_KEY] = group[item][0]
    return examples.join_elements(elements)


class _SplitElements(grain.experimental.FlatMapTransform):
  max_fan_out = 1 << 16

  def flat_map(self, element):
    return examples.split_elements(element)


class _FinishRow:
  """A packed row -> the batch contract's keys (with the per-source counters of `num_sources` > 0)."""

  def __init__(self, num_sources: int):
    self._num_sources = num_sources

  def __call__(self, row: dict) -> dict:
    out = {"tokens": row["tokens"], "loss_weights": row["loss_weights"],
           "segment_ids": row["tokens_segment_ids"], "positions": row["tokens_positions"]}
    for key in examples.COUNT_KEYS:
      out[key] = np.int32(sum(row[key]))
    if self._num_sources:
      out.update(mixture.row_counts(np.asarray(row[mixture.SOURCE_KEY], np.int64), row["tokens_segment_ids"],
                                    np.asarray(row["documents"], np.int64), self._num_sources))
    return out


def _pack_rows(elements: grain.IterDataset, seq_len: int, pack_bins: int,
               sequence_keys=examples.SEQUENCE_KEYS, num_sources: int = 0) -> grain.IterDataset:
  """Packs row-sized elements into rows of `seq_len` (first fit over `pack_bins` open rows).

  An element goes into the first row where every one of its `sequence_keys` fits. With
  `num_sources`, elements carry mixture.SOURCE_KEY and rows get the per-source counters.
  """
  meta = (*sequence_keys[1:], *examples.COUNT_KEYS) + ((mixture.SOURCE_KEY,) if num_sources else ())
  packed = grain.experimental.FirstFitPackIterDataset(
      elements, length_struct={k: seq_len for k in sequence_keys},
      num_packing_bins=pack_bins, shuffle_bins=False,
      meta_features=meta)  # segment ids once, for tokens
  return packed.map(_FinishRow(num_sources))


def checked_scan(data_cfg, vocab) -> corpus_lib.Corpus:
  """The corpus scan of a caller that brings no scanned corpus: the data config is checked first.

  A caller that passes its own `corpus` has resolved and checked its config already (the trainer,
  in `ixt_jax.train.config`): the config is checked once, where it enters.
  """
  config.validate_data_config(data_cfg)
  return corpus_lib.scan_corpus(data_cfg, vocab)


def make_train_elements(data_cfg, vocab, *, seed: int, process_index: int = 0,
                        process_count: int = 1, corpus: corpus_lib.Corpus | None = None,
                        num_epochs: int | None = None) -> grain.IterDataset:
  """This process's training records as row-sized elements (see examples.tokenize), in order."""
  if data_cfg.worker_count and not flags.FLAGS.is_parsed():
    raise RuntimeError("config.data.worker_count > 0 needs parsed absl flags (Grain workers read "
                       "them): run under absl.app.run or call absl.flags.FLAGS.mark_as_parsed()")
  corpus = corpus or checked_scan(data_cfg, vocab)
  order = mixed_order(corpus, config.sources(data_cfg), seed=seed, process_index=process_index,
                      process_count=process_count, num_epochs=num_epochs)
  groups = order.batch(data_cfg.tokenize_group, batch_fn=list).map(
      _TokenizeGroup(corpus, vocab, data_cfg, seed))
  groups = groups.to_iter_dataset(grain.ReadOptions(num_threads=0, prefetch_buffer_size=0))
  if data_cfg.worker_count:
    groups = groups.mp_prefetch(grain.MultiprocessingOptions(
        num_workers=data_cfg.worker_count, per_worker_buffer_size=data_cfg.worker_buffer_size))
  return grain.experimental.FlatMapIterDataset(groups, _SplitElements())


def make_train_dataset(data_cfg, vocab, *, batch_size: int, seed: int, process_index: int = 0,
                       process_count: int = 1, corpus: corpus_lib.Corpus | None = None,
                       num_epochs: int | None = None) -> grain.IterDataset:
  """The training batches of this process as a Grain IterDataset (see the module docstring)."""
  elements = make_train_elements(data_cfg, vocab, seed=seed, process_index=process_index,
                                 process_count=process_count, corpus=corpus, num_epochs=num_epochs)
  rows = _pack_rows(elements, data_cfg.seq_len, data_cfg.pack_bins,
                    num_sources=len(config.sources(data_cfg)))
  return rows.batch(batch_size, drop_remainder=True)


def make_train_iterator(data_cfg, vocab, *, batch_size: int, seed: int, process_index: int = 0,
                        process_count: int = 1, corpus: corpus_lib.Corpus | None = None,
                        num_epochs: int | None = None) -> grain.DatasetIterator:
  """An iterator over this process's training batches; `get_state()`/`set_state()` resume it.

  Args:
    data_cfg: `config.data`.
    vocab: from `ixt_jax.data.vocab.load_vocabulary(data_cfg)`.
    batch_size: rows per batch on this process.
    seed: the run's seed; it alone fixes record order, critique dropout and annotated records.
    process_index: this host's index (jax.process_index()).
    process_count: the number of hosts (jax.process_count()).
    corpus: `scan_corpus(data_cfg, vocab)`, to share one scan with evaluation; scanned if None.
    num_epochs: None = repeat forever.
  """
  return iter(make_train_dataset(data_cfg, vocab, batch_size=batch_size, seed=seed,
                                 process_index=process_index, process_count=process_count,
                                 corpus=corpus, num_epochs=num_epochs))


def _eval_rooms(heldout, vocab, data_cfg, settings, sources: conditions.Sources) -> list[int]:
  """Body tokens per chunk, per record: the room its largest overhead under the none, true and
  positive conditions leaves, so they cut, and score, every document identically."""
  with_positive = sources.positive is not None or settings.kind == "quality_token"
  critiques = []
  for record in heldout:
    shown = ["none"] + (["true"] if record.critique is not None else [])
    shown += ["positive"] if with_positive else []
    critiques.append([conditions.critique_shown(c, record, settings, sources) for c in shown])
  lengths = iter(len(ids) for ids in vocab.encode_batch([c for cs in critiques for c in cs]))
  after = settings.placement == "suffix"
  overheads = [max(examples.overhead(next(lengths), after) for _ in cs) for cs in critiques]
  return [examples.chunk_room(data_cfg.seq_len, n) for n in overheads]


def _pad_batch(batch: dict, batch_size: int) -> dict:
  missing = batch_size - len(batch["tokens"])
  return {k: np.concatenate([v, np.zeros((missing, *v.shape[1:]), v.dtype)]) for k, v in batch.items()}


def make_eval_batches(data_cfg, vocab, *, batch_size: int, condition: str,
                      positive_critique: Callable[[str], str] | None, split: str = "clean",
                      corpus: corpus_lib.Corpus | None = None,
                      sources: conditions.Sources | None = None) -> dict[str, list[dict]]:
  """Held-out batches per domain under `condition` (conditions.CONDITIONS; 'negative' and
  'shuffled' need `sources`, which otherwise default to the approvals of `positive_critique`).

  Loss weights are 1 on document tokens (and the end-of-document token) only, and documents are cut
  and packed the same way under every condition (room is kept for the longer of the true and the
  positive critique), so the three conditions score the same tokens in the same rows and order,
  provided the same `positive_critique` is passed to each call. `split='clean'` keeps held-out
  documents the critic scored at least `heldout.clean_score`; 'all' keeps every held-out
  document. The last batch of a domain is padded with empty rows to `batch_size`. Deterministic
  and finite; `document_bytes` summed over a domain's batches is the denominator of bits/byte.
  """
  if split not in ("clean", "all"):
    raise ValueError(f"split={split!r}: expected 'clean' or 'all'")
  if condition not in conditions.CONDITIONS:
    raise ValueError(f"condition={condition!r}: expected one of {conditions.CONDITIONS}")
  sources = sources or conditions.Sources(positive=positive_critique)
  corpus = corpus or checked_scan(data_cfg, vocab)
  settings = formatting.FeedbackSettings.from_config(data_cfg)
  clean = data_cfg.heldout.clean_score
  by_domain: dict[str, list[records.Record]] = {}
  for record in corpus.heldout:
    if split == "all" or (record.score is not None and record.score >= clean):
      by_domain.setdefault(record.domain, []).append(record)

  batches = {}
  for domain, heldout in sorted(by_domain.items()):
    items = [conditions.format_for_eval(r, settings, condition, sources) for r in heldout]
    rooms = _eval_rooms(heldout, vocab, data_cfg, settings, sources)
    elements = grain.MapDataset.source(examples.tokenize(items, vocab, data_cfg.seq_len, rooms))
    rows = _pack_rows(elements.to_iter_dataset(grain.ReadOptions(num_threads=0)),
                      data_cfg.seq_len, data_cfg.pack_bins,
                      (*examples.SEQUENCE_KEYS, examples.LAYOUT_KEY))
    batches[domain] = [_pad_batch(b, batch_size) for b in rows.batch(batch_size)]
  return batches
