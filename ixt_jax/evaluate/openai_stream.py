"""A finished OpenAI completion reply cut into the chunks of its `stream=true` form (server-sent events).

The decoding loop runs on device to its end (one compiled `while_loop` per batch), so a reply is
streamed once decoded: one chunk per token, whose texts add up exactly to the reply's text.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


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


def chat_chunks(reply: dict[str, Any], pieces: Sequence[str]) -> list[dict[str, Any]]:
  """`chat.completion.chunk`s of `reply` (a one-choice /v1/chat/completions reply)."""
  head = {"id": reply["id"], "object": "chat.completion.chunk", "created": reply["created"], "model": reply["model"]}
  choice = reply["choices"][0]
  deltas = [{"role": "assistant", "content": ""}] + [{"content": text} for text in pieces if text]
  chunks = [{**head, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]} for delta in deltas]
  return chunks + [{**head, "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}]}]


def with_usage(chunks: list[dict[str, Any]], reply: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
  """`chunks`, plus the usage chunk OpenAI sends last when `stream_options.include_usage` is set."""
  if not (body.get("stream_options") or {}).get("include_usage"):
    return chunks
  head = {k: v for k, v in chunks[-1].items() if k != "choices"}
  return chunks + [{**head, "choices": [], "usage": reply["usage"]}]
