"""OpenAI-compatible completions for a loaded run: `/v1/completions`, `/v1/chat/completions`, `/v1/models`.

A completion continues its prompt as a document; a chat completion answers the conversation laid
out as a post-training record (`<prompt> conversation <response>`), so a model trained on prompted
records replies as it learnt to. Either is conditioned like training data: on the request's
`critique` (an extension field: text, or null for none), else on the server's default.
Concurrent requests are decoded together, in one batch per step of the decoding loop.
Unsupported: streaming, n > 1, logprobs.
"""
from __future__ import annotations

import concurrent.futures
import http.server
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from ixt_jax.data import formatting
from ixt_jax.evaluate.prompts import prompt_ids
from ixt_jax.evaluate.run_dir import LoadedRun
from ixt_jax.evaluate.sampling import Completion, Sampler, SamplingSettings

_DEFAULT_MAX_TOKENS = 16  # OpenAI's default for /v1/completions
_GATHER_S = 0.005  # how long the first request of a batch waits for others to join


class RequestError(ValueError):
  """A request the API refuses (HTTP 400), with a message for the client."""


class _Batcher:
  """Runs `complete(prompts, settings)` on whatever requests are waiting, up to max_batch at once."""

  def __init__(self, complete: Callable[[list, list], list[Completion]], max_batch: int):
    self._complete, self._max_batch = complete, max_batch
    self._queue: queue.Queue = queue.Queue()
    threading.Thread(target=self._serve, daemon=True).start()

  def submit(self, ids: list[int], settings: SamplingSettings) -> Completion:
    future = concurrent.futures.Future()
    self._queue.put((ids, settings, future))
    return future.result()

  def _serve(self):
    while True:
      waiting = [self._queue.get()]
      time.sleep(_GATHER_S)
      while len(waiting) < self._max_batch and not self._queue.empty():
        waiting.append(self._queue.get())
      try:
        completions = self._complete([w[0] for w in waiting], [w[1] for w in waiting])
      except Exception as e:  # pylint: disable=broad-except
        for _, _, future in waiting:
          future.set_exception(e)
        continue
      for (_, _, future), completion in zip(waiting, completions):
        future.set_result(completion)


def _sampling(body: dict[str, Any], max_tokens_limit: int) -> SamplingSettings:
  if body.get("stream"):
    raise RequestError("stream=true is not supported")
  if body.get("n", 1) != 1:
    raise RequestError("only n=1 is supported")
  stop = body.get("stop") or ()
  stop = (stop,) if isinstance(stop, str) else tuple(stop)
  max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or _DEFAULT_MAX_TOKENS
  try:
    return SamplingSettings(max_new_tokens=min(int(max_tokens), max_tokens_limit),
                            temperature=float(body.get("temperature", 1.0)), top_p=float(body.get("top_p", 1.0)),
                            stop=stop)
  except (TypeError, ValueError) as e:
    raise RequestError(str(e)) from None


def conversation(messages: Any) -> str:
  """The text of a chat: one user message as it is, several as `role: content` paragraphs."""
  if not isinstance(messages, list) or not messages:
    raise RequestError("messages must be a non-empty list")
  try:
    turns = [(m["role"], m["content"] if isinstance(m["content"], str) else
              "".join(part["text"] for part in m["content"] if part.get("type") == "text")) for m in messages]
  except (KeyError, TypeError, AttributeError):
    raise RequestError("each message needs a role and text content") from None
  if len(turns) == 1 and turns[0][0] == "user":
    return turns[0][1]
  return "\n\n".join(f"{role}: {content}" for role, content in turns)


class CompletionService:
  """Answers OpenAI-style request bodies with completions of one run's parameters.

  Args:
    run: the loaded run.
    model_name: the id clients name (`model` in requests, listed by /v1/models).
    default_critique: the critique a request without a `critique` field is conditioned on (None: none).
    max_tokens_limit: a request's max_tokens is capped at this.
    max_batch: requests decoded together.
  """

  def __init__(self, run: LoadedRun, model_name: str, default_critique: str | None, max_tokens_limit: int = 1024,
               max_batch: int = 16):
    self.run, self.model_name, self.default_critique = run, model_name, default_critique
    self.max_tokens_limit = max_tokens_limit
    self._feedback = formatting.FeedbackSettings.from_config(run.config.data)
    sampler = Sampler(run.graphdef, run.vocab, run.mesh, max_batch=max_batch)
    self._seed = iter(range(1 << 62))  # a fresh sampling seed per batch
    self._batcher = _Batcher(lambda prompts, settings: sampler.complete(run.params, prompts, settings,
                                                                         seed=next(self._seed)), max_batch)

  def models(self) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": self.model_name, "object": "model", "created": 0,
                                        "owned_by": "ixt_jax", "checkpoint_step": self.run.step}]}

  def _complete(self, body: dict[str, Any], text: str, prompt: str | None) -> tuple[Completion, int]:
    critique = body.get("critique", self.default_critique)
    if critique is not None and not isinstance(critique, str):
      raise RequestError("critique must be a string or null")
    try:
      ids = prompt_ids(self.run.vocab, self._feedback, text, "text", critique, prompt=prompt)
    except ValueError as e:
      raise RequestError(str(e)) from None
    if not ids:
      raise RequestError("the prompt is empty")
    return self._batcher.submit(ids, _sampling(body, self.max_tokens_limit)), len(ids)

  def _envelope(self, kind: str, choice: dict[str, Any], completion: Completion, prompt_tokens: int):
    return {"id": f"{'chatcmpl' if kind == 'chat.completion' else 'cmpl'}-{uuid.uuid4().hex}", "object": kind,
            "created": int(time.time()), "model": self.model_name, "choices": [choice],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(completion.tokens),
                      "total_tokens": prompt_tokens + len(completion.tokens)}}

  def completions(self, body: dict[str, Any]) -> dict[str, Any]:
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
      prompt = prompt[0]
    if not isinstance(prompt, str):
      raise RequestError("prompt must be a string (one prompt per request)")
    completion, prompt_tokens = self._complete(body, prompt, None)
    choice = {"index": 0, "text": completion.text, "finish_reason": completion.finish_reason, "logprobs": None}
    return self._envelope("text_completion", choice, completion, prompt_tokens)

  def chat_completions(self, body: dict[str, Any]) -> dict[str, Any]:
    completion, prompt_tokens = self._complete(body, "", conversation(body.get("messages")))
    choice = {"index": 0, "message": {"role": "assistant", "content": completion.text},
              "finish_reason": completion.finish_reason}
    return self._envelope("chat.completion", choice, completion, prompt_tokens)


def make_handler(service: CompletionService) -> type[http.server.BaseHTTPRequestHandler]:
  """A request handler class bound to `service` (for http.server.ThreadingHTTPServer)."""
  routes = {"/v1/completions": service.completions, "/v1/chat/completions": service.chat_completions}

  class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, value: dict[str, Any]):
      data = json.dumps(value).encode()
      self.send_response(status)
      self.send_header("Content-Type", "application/json")
      self.send_header("Content-Length", str(len(data)))
      self.end_headers()
      self.wfile.write(data)

    def _error(self, status: int, message: str, kind: str = "invalid_request_error"):
      self._reply(status, {"error": {"message": message, "type": kind}})

    def do_GET(self):  # pylint: disable=invalid-name
      if self.path.rstrip("/") == "/v1/models":
        self._reply(200, service.models())
      else:
        self._error(404, f"no route {self.path}")

    def do_POST(self):  # pylint: disable=invalid-name
      route = routes.get(self.path.rstrip("/"))
      length = int(self.headers.get("Content-Length") or 0)
      raw = self.rfile.read(length)
      if route is None:
        return self._error(404, f"no route {self.path}")
      try:
        body = json.loads(raw)
        if not isinstance(body, dict):
          raise RequestError("the body must be a JSON object")
        self._reply(200, route(body))
      except (RequestError, json.JSONDecodeError) as e:
        self._error(400, str(e))
      except Exception as e:  # pylint: disable=broad-except
        self._error(500, f"{type(e).__name__}: {e}", "server_error")

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
      pass  # one line per request would drown the server's own output

  return Handler
