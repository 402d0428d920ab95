"""Formatted records -> token and loss-weight arrays, split into elements that fit one row.

A record's body is `[<prompt> prompt <response>] document <eos>`. A body longer than the room a row
leaves beside the critique is cut into chunks of that room, and the critique is repeated with every
chunk, so every document token is trained conditioned and no element is longer than a row (Grain's
packers refuse those). An element is packed whole, so a critique never leaves its document.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ixt_jax.data import formatting
from ixt_jax.data import vocab as vocab_lib

# Keys of an element (one chunk): the sequences get packed, the counts summed per row.
SEQUENCE_KEYS = ("tokens", "loss_weights")
COUNT_KEYS = ("document_tokens", "documents", "document_bytes")
# With fixed rooms, the space an element takes under its longest critique: packing by it puts the
# same chunks in the same rows whichever critique is shown.
LAYOUT_KEY = "layout"


def _texts(item: formatting.Formatted) -> list[str]:
  return [item.critique, item.prompt or "", item.text]


def _body(item, prompt_ids, text_ids, special_ids) -> tuple[np.ndarray, np.ndarray]:
  """Token ids and weights of the body (everything but the critique)."""
  document = np.asarray(text_ids + [vocab_lib.EOS_ID], np.int32)
  document_weights = np.full(len(document), item.document_weight, np.float32)
  if item.prompt is None:
    return document, document_weights
  prompt = np.asarray([special_ids[vocab_lib.PROMPT], *prompt_ids, special_ids[vocab_lib.RESPONSE]],
                      np.int32)
  return (np.concatenate([prompt, document]),
          np.concatenate([np.full(len(prompt), item.prompt_weight, np.float32), document_weights]))


def chunk_room(seq_len: int, critique_len: int) -> int:
  room = seq_len - critique_len
  if room < 1:
    raise ValueError(f"a {critique_len}-token critique leaves no room in a {seq_len}-token row")
  return room


def tokenize(items: Sequence[formatting.Formatted], vocab, seq_len: int,
             rooms: Sequence[int] | None = None) -> list[dict]:
  """Elements of `items`, in order, each at most `seq_len` tokens.

  Args:
    items: formatted records.
    vocab: a vocabulary from ixt_jax.data.vocab.
    seq_len: the row length.
    rooms: body tokens per chunk for each item (evaluation fixes them across conditions); by
      default all the room the item's critique leaves.

  Returns:
    Per chunk: int32 `tokens`, float32 `loss_weights`, and the counts `document_tokens` (body
    tokens), `documents` (1 on a document's first chunk) and `document_bytes` (UTF-8 bytes of the
    document, on its first chunk); with `rooms`, also LAYOUT_KEY.
  """
  ids = vocab.encode_batch([t for item in items for t in _texts(item)])
  elements = []
  for n, item in enumerate(items):
    critique_ids, prompt_ids, text_ids = ids[3 * n: 3 * n + 3]
    critique = np.asarray(critique_ids, np.int32)
    critique_weights = np.full(len(critique), item.critique_weight, np.float32)
    body, body_weights = _body(item, prompt_ids, text_ids, vocab.special_ids)
    room = chunk_room(seq_len, len(critique)) if rooms is None else rooms[n]
    for start in range(0, len(body), room):
      chunk = slice(start, start + room)
      if item.critique_after:
        tokens = np.concatenate([body[chunk], critique])
        weights = np.concatenate([body_weights[chunk], critique_weights])
      else:
        tokens = np.concatenate([critique, body[chunk]])
        weights = np.concatenate([critique_weights, body_weights[chunk]])
      first = start == 0
      element = {"tokens": tokens, "loss_weights": weights,
                 "document_tokens": len(body[chunk]), "documents": int(first),
                 "document_bytes": len(item.text.encode("utf-8")) if first else 0}
      if rooms is not None:
        element[LAYOUT_KEY] = np.zeros(seq_len - room + len(body[chunk]), np.int8)
      elements.append(element)
  return elements


def join_elements(elements: Sequence[dict]) -> dict:
  """Elements as a few flat arrays, which cross process boundaries far cheaper than many small ones."""
  joined = {k: np.concatenate([e[k] for e in elements]) for k in SEQUENCE_KEYS}
  joined["lengths"] = np.array([len(e["tokens"]) for e in elements], np.int32)
  for key in COUNT_KEYS:
    joined[key] = np.array([e[key] for e in elements], np.int32)
  return joined


def split_elements(joined: dict) -> list[dict]:
  """The inverse of join_elements."""
  ends = np.cumsum(joined["lengths"])[:-1]
  sequences = {k: np.split(joined[k], ends) for k in SEQUENCE_KEYS}
  counts = {k: joined[k].tolist() for k in COUNT_KEYS}
  return [{**{k: v[i] for k, v in sequences.items()}, **{k: v[i] for k, v in counts.items()}}
          for i in range(len(joined["lengths"]))]
