"""Formatted records -> token and loss-weight arrays, split into elements that fit one row.

A record's body is `[<prompt> prompt <response>] document <eos>` (a prompt too long to share a chunk
with its response loses its start). An element is
`critique + body chunk`, `<eos> + body chunk` (no critique shown) or `<eos> + body chunk + critique`
(suffix): a token always precedes the body in its segment (an <eos> opens a document the way GPT
models separate documents), so under next-token targets within segments every weighted token is
predicted, under every condition. A body longer than the room a row leaves beside the rest is cut
into chunks of that room, and no element is longer than a row (Grain's packers refuse those). The
critique goes with the first chunk only (`repeat=first`: the critique at its true cost; later chunks
open with <eos> and read the critique no more; a suffix critique follows the last chunk) or with every chunk (`repeat=every`: every document
token trained conditioned, at the price of one critique per chunk). An element is packed whole, so
a critique never leaves its document.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ixt_jax.data import formatting
from ixt_jax.data import vocab as vocab_lib

# Keys of an element (one chunk): the sequences get packed, the counts summed per row.
SEQUENCE_KEYS = ("tokens", "loss_weights")
COUNT_KEYS = ("document_tokens", "documents", "document_bytes", "critique_tokens")
_OPENING_WEIGHT = np.zeros(1, np.float32)
_NONE = np.zeros(0, np.int32)
_NONE_WEIGHTS = np.zeros(0, np.float32)
# With fixed rooms, the space an element takes under its longest critique: packing by it puts the
# same chunks in the same rows whichever critique is shown.
LAYOUT_KEY = "layout"


def _texts(item: formatting.Formatted) -> list[str]:
  return [item.critique, item.prompt or "", item.text]


def _body(item, prompt_ids, text_ids, vocab, room: int) -> tuple[np.ndarray, np.ndarray]:
  """Token ids and weights of the body (everything but the critique).

  A response is never trained apart from its prompt: where prompt and response overflow one chunk's
  `room`, the prompt loses its start (as SFT trainers truncate on the left), so the response follows
  the prompt's end in the same chunk; only a response longer than a chunk is itself cut."""
  document = np.asarray(text_ids + [vocab.eos_id], np.int32)
  document_weights = np.full(len(document), item.document_weight, np.float32)
  if item.prompt is None:
    return document, document_weights
  prompt_room = max(room - len(document) - 2, 0)  # 2: the <prompt> and <response> markers
  if len(prompt_ids) > prompt_room:
    prompt_ids = prompt_ids[len(prompt_ids) - prompt_room:]
  prompt = np.asarray([vocab.special_ids[vocab_lib.PROMPT], *prompt_ids, vocab.special_ids[vocab_lib.RESPONSE]],
                      np.int32)
  return (np.concatenate([prompt, document]),
          np.concatenate([np.full(len(prompt), item.prompt_weight, np.float32), document_weights]))


def overhead(critique_len: int, critique_after: bool) -> int:
  """Tokens of an element beside its body chunk: the critique, and the <eos> that opens a body no
  critique precedes."""
  return critique_len + (1 if critique_after or critique_len == 0 else 0)


def chunk_room(seq_len: int, overhead_len: int) -> int:
  room = seq_len - overhead_len
  if room < 1:
    raise ValueError(f"{overhead_len} tokens of critique (and start) leave no room for a document "
                     f"token in a {seq_len}-token row")
  return room


def tokenize(items: Sequence[formatting.Formatted], vocab, seq_len: int,
             rooms: Sequence[int] | None = None) -> list[dict]:
  """Elements of `items`, in order, each at most `seq_len` tokens.

  Args:
    items: formatted records.
    vocab: a vocabulary from ixt_jax.data.vocab.
    seq_len: the row length.
    rooms: body tokens per chunk for each item (evaluation fixes them across conditions); by
      default all the room the item's overhead leaves.

  Returns:
    Per chunk: int32 `tokens`, float32 `loss_weights`, and the counts `document_tokens` (body
    tokens), `documents` (1 on a document's first chunk), `document_bytes` (UTF-8 bytes of the
    document, on its first chunk) and `critique_tokens` (critique tokens shown with the chunk);
    with `rooms`, also LAYOUT_KEY.
  """
  ids = vocab.encode_batch([t for item in items for t in _texts(item)])
  opening = np.array([vocab.eos_id], np.int32)  # opens a body that no critique precedes
  elements = []
  for n, item in enumerate(items):
    critique_ids, prompt_ids, text_ids = ids[3 * n: 3 * n + 3]
    critique = np.asarray(critique_ids, np.int32)
    critique_weights = np.full(len(critique), item.critique_weight, np.float32)
    room = rooms[n] if rooms is not None else chunk_room(
        seq_len, overhead(len(critique), item.critique_after))
    body, body_weights = _body(item, prompt_ids, text_ids, vocab, room)
    if len(critique) and not item.critique_after:
      lead, lead_weights = critique, critique_weights
    else:
      lead, lead_weights = opening, _OPENING_WEIGHT
    trail, trail_weights = (critique, critique_weights) if item.critique_after else (_NONE, _NONE_WEIGHTS)
    for start in range(0, len(body), room):
      chunk = slice(start, start + room)
      first, last = start == 0, start + room >= len(body)
      # Shown once: a prefix with the first chunk, a suffix after the last (it follows the whole document).
      shown = item.critique_every_chunk or (last if item.critique_after else first)
      chunk_lead, chunk_lead_weights = (lead, lead_weights) if shown or lead is opening else (opening, _OPENING_WEIGHT)
      chunk_trail, chunk_trail_weights = (trail, trail_weights) if shown else (_NONE, _NONE_WEIGHTS)
      tokens = np.concatenate([chunk_lead, body[chunk], chunk_trail])
      weights = np.concatenate([chunk_lead_weights, body_weights[chunk], chunk_trail_weights])
      element = {"tokens": tokens, "loss_weights": weights,
                 "document_tokens": len(body[chunk]), "documents": int(first),
                 "document_bytes": len(item.text.encode("utf-8")) if first else 0,
                 "critique_tokens": len(critique) if shown else 0}
      if rooms is not None:
        element[LAYOUT_KEY] = np.zeros(seq_len - room + len(body[chunk]), np.int8)
      elements.append(element)
  return elements


def join_elements(elements: Sequence[dict]) -> dict:
  """Elements (sequences and integers: COUNT_KEYS, and any other key the first element has) as a
  few flat arrays, which cross process boundaries far cheaper than many small ones."""
  joined = {k: np.concatenate([e[k] for e in elements]) for k in SEQUENCE_KEYS}
  joined["lengths"] = np.array([len(e["tokens"]) for e in elements], np.int32)
  for key in (k for k in elements[0] if k not in SEQUENCE_KEYS):
    joined[key] = np.array([e[key] for e in elements], np.int32)
  return joined


def split_elements(joined: dict) -> list[dict]:
  """The inverse of join_elements."""
  ends = np.cumsum(joined["lengths"])[:-1]
  sequences = {k: np.split(joined[k], ends) for k in SEQUENCE_KEYS}
  counts = {k: v.tolist() for k, v in joined.items() if k not in SEQUENCE_KEYS and k != "lengths"}
  return [{**{k: v[i] for k, v in sequences.items()}, **{k: v[i] for k, v in counts.items()}}
          for i in range(len(joined["lengths"]))]
