"""The chunks of OpenAI's `stream=true` replies (server-sent events).

A completion streams live: `live_text` turns the tokens the decoding loop hands over as it chooses
them into text pieces, holding back what a stop string or a partial character could still change.
A reply with logprobs (scored once decoded) is cut into one chunk per token after the fact.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ixt_jax.evaluate.sampling import cut_at_stop


def live_text(vocab, tokens: Iterator[int], stop: Sequence[str]) -> Iterator[str]:
  """Pieces of the text of `tokens` as they arrive, never past where a stop string could begin.

  What is held back (the last len(longest stop) - 1 characters, a partial multi-byte character)
  is the caller's to send from the finished completion's text.
  """
  ids, sent, hold = [], 0, max((len(s) for s in stop if s), default=1) - 1
  for token in tokens:
    if token == vocab.eos_id:
      continue
    ids.append(token)
    text, stopped = cut_at_stop(vocab.decode(ids).rstrip("\ufffd"), stop)
    end = len(text) if stopped else len(text) - hold
    if end > sent:
      yield text[sent:end]
      sent = end


def text_pieces(vocab, ids: Sequence[int], text: str) -> list[str]:
  """One piece of `text` per token of `ids`, concatenating to `text`.

  A token ending inside a multi-byte character gets '' (its character arrives with a later token);
  what decoding leaves over (a cut stop string) goes with the last token.
  """
  pieces, emitted = [], 0
  for k in range(1, len(ids) + 1):
    decoded = vocab.decode(ids[:k])[:len(text)]
    start = emitted
    if text.startswith(decoded):
      emitted = max(emitted, len(decoded))
    pieces.append(text[start:emitted])
  if pieces:
    pieces[-1] += text[emitted:]
  return pieces


def _logprobs_at(logprobs: dict[str, list] | None, j: int) -> dict[str, list] | None:
  return None if logprobs is None else {k: (v[j:j + 1] if v is not None else None) for k, v in logprobs.items()}


def completion_chunks(reply: dict[str, Any], pieces: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
  """`text_completion` chunks of `reply` (a /v1/completions reply); pieces[i]: choice i's per-token texts."""
  head = {k: reply[k] for k in ("id", "object", "created", "model")}
  chunks = []
  for choice, texts in zip(reply["choices"], pieces):
    for j, text in enumerate(texts):
      chunks.append({**head, "choices": [{"index": choice["index"], "text": text, "finish_reason": None,
                                          "logprobs": _logprobs_at(choice["logprobs"], j)}]})
    chunks.append({**head, "choices": [{"index": choice["index"], "text": "", "finish_reason": choice["finish_reason"],
                                        "logprobs": None}]})
  return chunks


def with_usage(chunks: list[dict[str, Any]], reply: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
  """`chunks`, plus the usage chunk OpenAI sends last when `stream_options.include_usage` is set."""
  if not (body.get("stream_options") or {}).get("include_usage"):
    return chunks
  head = {k: v for k, v in chunks[-1].items() if k != "choices"}
  return chunks + [{**head, "choices": [], "usage": reply["usage"]}]
