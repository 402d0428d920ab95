"""The training data as a seqio Task, for seqio/t5x users (imports TensorFlow; never on the
training path).

Records are read, ordered and formatted by the same Python code as the Grain pipeline (same seed,
same decisions); tokenization, the body layout and chunking are TensorFlow ops over the same
SentencePiece model file (`seqio.SentencePieceVocabulary`), so the task yields, in order, the same
row-sized elements as `pipeline.make_train_elements`: features `targets` (token ids) and
`loss_weights`, ready for seqio's packing (`seqio.utils.trim_and_pack_dataset`).
"""
from __future__ import annotations

import seqio
import tensorflow as tf

from ixt_jax.data import config
from ixt_jax.data import corpus as corpus_lib
from ixt_jax.data import pipeline
from ixt_jax.data import vocab as vocab_lib

_STRINGS = ("critique", "prompt", "text")
_FLAGS = ("has_prompt", "critique_after", "critique_every_chunk")
_WEIGHTS = ("critique_weight", "prompt_weight", "document_weight")


def _formatted_records(corpus, data_cfg, seed: int, num_epochs: int):
  """Python generator of the formatted records, in the Grain pipeline's order (process 0 of 1)."""
  settings = pipeline.source_settings(data_cfg)
  reader = corpus.reader()
  order = pipeline.mixed_order(corpus, config.sources(data_cfg), seed=seed, num_epochs=num_epochs)
  domain_rows = corpus.domain_rows()
  for source, epoch, row in order:
    item = pipeline.format_row(reader, corpus.train_refs, row, epoch, settings[source], seed,
                               domain_rows[corpus.train_domains[row]])
    yield {"critique": item.critique, "prompt": item.prompt or "", "text": item.text,
           "has_prompt": item.prompt is not None, "critique_after": item.critique_after,
           "critique_every_chunk": item.critique_every_chunk,
           "critique_weight": item.critique_weight, "prompt_weight": item.prompt_weight,
           "document_weight": item.document_weight}


def _room(seq_len: int, critique_size, critique_after):
  """Body tokens a chunk holds beside its critique, or the <eos> that opens a body no critique precedes
  (examples.overhead)."""
  opens = tf.logical_or(critique_after, tf.equal(critique_size, 0))
  return seq_len - critique_size - tf.where(opens, 1, 0)


def _assemble(example, vocabulary: seqio.Vocabulary, special_ids: dict[str, int], eos_id: int, seq_len: int):
  """Token ids and weights of the critique and of the body ([<prompt> p <response>] text <eos>), a
  prompt too long to share a chunk with its response cut from its start, as examples._body does."""
  def ids(text):
    return tf.cast(vocabulary.encode_tf(text), tf.int32)

  def weights(tokens, weight):
    return tf.fill(tf.shape(tokens), tf.cast(weight, tf.float32))

  critique = ids(example["critique"])
  document = tf.concat([ids(example["text"]), [eos_id]], axis=0)
  prompt_ids = ids(example["prompt"])
  prompt_room = tf.maximum(_room(seq_len, tf.size(critique), example["critique_after"]) - tf.size(document) - 2, 0)
  prompt_ids = prompt_ids[tf.maximum(tf.size(prompt_ids) - prompt_room, 0):]
  prompt = tf.concat([[special_ids[vocab_lib.PROMPT]], prompt_ids, [special_ids[vocab_lib.RESPONSE]]], axis=0)
  prompt = prompt[:tf.where(example["has_prompt"], tf.size(prompt), 0)]
  return {"critique": critique, "critique_weights": weights(critique, example["critique_weight"]),
          "body": tf.concat([prompt, document], axis=0),
          "body_weights": tf.concat([weights(prompt, example["prompt_weight"]),
                                     weights(document, example["document_weight"])], axis=0),
          "critique_after": example["critique_after"], "critique_every_chunk": example["critique_every_chunk"]}


def _chunks(example, seq_len: int, eos_id: int) -> tf.data.Dataset:
  """One element per row-sized chunk of the body, as examples.tokenize lays it out: the critique
  (or an <eos> where none precedes the body), the chunk, and a suffix critique; with repeat=first
  a prefix critique only before the first chunk, a suffix one only after the last."""
  critique, critique_weights = example["critique"], example["critique_weights"]
  after = example["critique_after"]
  leads_with_critique = tf.logical_and(tf.size(critique) > 0, tf.logical_not(after))
  lead = tf.cond(leads_with_critique, lambda: critique, lambda: tf.constant([eos_id]))
  lead_weights = tf.cond(leads_with_critique, lambda: critique_weights, lambda: tf.zeros([1]))
  trail_size = tf.where(after, tf.size(critique), 0)
  trail, trail_weights = critique[:trail_size], critique_weights[:trail_size]

  room = _room(seq_len, tf.size(critique), after)
  length = tf.size(example["body"])
  splits = tf.minimum(tf.range((length + room - 1) // room + 1) * room, length)
  bodies = tf.RaggedTensor.from_row_splits(example["body"], splits)
  body_weights = tf.RaggedTensor.from_row_splits(example["body_weights"], splits)

  chunks = tf.size(splits) - 1
  start = tf.constant([eos_id])

  def join(index, pieces):
    body, weights = pieces
    shown = tf.logical_or(example["critique_every_chunk"],
                          tf.where(after, tf.equal(index, tf.cast(chunks - 1, tf.int64)), tf.equal(index, 0)))
    chunk_lead = tf.cond(shown, lambda: lead, lambda: start)
    chunk_lead_weights = tf.cond(shown, lambda: lead_weights, lambda: tf.zeros([1]))
    chunk_trail_size = tf.where(shown, trail_size, 0)
    return {"targets": tf.concat([chunk_lead, body, trail[:chunk_trail_size]], 0),
            "loss_weights": tf.concat([chunk_lead_weights, weights, trail_weights[:chunk_trail_size]], 0)}

  return tf.data.Dataset.from_tensor_slices((bodies, body_weights)).enumerate().map(join)


def register_seqio_task(name: str, data_cfg, vocab, *, seed: int,
                        corpus: corpus_lib.Corpus | None = None, num_epochs: int = 1) -> seqio.Task:
  """Registers (replacing any task of that name) and returns the seqio Task of the training data.

  Its only split, 'train', holds `num_epochs` epochs of this seed's records for one process.
  """
  corpus = corpus or pipeline.checked_scan(data_cfg, vocab)
  vocabulary = vocab.to_seqio()
  signature = {**{k: tf.TensorSpec([], tf.string) for k in _STRINGS},
               **{k: tf.TensorSpec([], tf.bool) for k in _FLAGS},
               **{k: tf.TensorSpec([], tf.float32) for k in _WEIGHTS}}

  def dataset_fn(split, shuffle_files):
    del split, shuffle_files  # the order is the pipeline's, fixed by the run's seed
    return tf.data.Dataset.from_generator(
        lambda: _formatted_records(corpus, data_cfg, seed, num_epochs), output_signature=signature)

  def assemble(ds):
    return ds.map(lambda ex: _assemble(ex, vocabulary, vocab.special_ids, vocab.eos_id, data_cfg.seq_len),
                  num_parallel_calls=tf.data.AUTOTUNE)

  def chunk(ds):
    return ds.flat_map(lambda ex: _chunks(ex, data_cfg.seq_len, vocab.eos_id))

  seqio.TaskRegistry.remove(name)
  return seqio.TaskRegistry.add(
      name,
      source=seqio.FunctionDataSource(dataset_fn, splits=["train"]),
      preprocessors=[assemble, chunk],
      output_features={
          "targets": seqio.Feature(vocabulary, add_eos=False),
          "loss_weights": seqio.Feature(seqio.PassThroughVocabulary(size=0), add_eos=False,
                                        dtype=tf.float32)})
