"""OpenAI-compatible completions for a loaded run, answered as vLLM and SGLang answer them.

Routes: `/v1/completions`, `/v1/chat/completions`, `/v1/models`, and vLLM's tokenizer routes
`/tokenize`, `/detokenize`, `/tokenizer_info` (lm-eval's `local-completions` finds and uses them).
A completion continues its prompt (a string, or token ids as vLLM takes them) as a document; a chat
completion answers the conversation laid out as a post-training record (`<prompt> conversation
<response>`), so a model trained on prompted records replies as it learnt to. `stream=true` sends
server-sent events as the tokens are decoded (see openai_stream); `/v1/completions` takes `logprobs`
(up to MAX_TOP_K alternatives) and `echo` (the prompt's own token log-probabilities, as lm-eval's
loglikelihood tasks need).

Every request is conditioned like training data, on (extension fields) `critique` (text, or null
for none) if given, else `condition` (one of CONDITIONS) for `domain`, else the server's default.
Echoed tokens and logprobs cover the request's prompt only, never the conditioning prefix.
Concurrent requests are decoded together, in one batch per step of the decoding loop.
Unsupported: n > 1, logprobs on chat completions.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import http.server
import itertools
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ixt_jax.data import formatting
from ixt_jax.errors import ConfigError
from ixt_jax.evaluate import openai_stream
from ixt_jax.evaluate.prompts import prompt_ids
from ixt_jax.evaluate.run_dir import LoadedRun
from ixt_jax.evaluate.sampling import Completion, Sampler, SamplingSettings
from ixt_jax.evaluate.scoring import MAX_TOP_K, TokenScorer

_DEFAULT_MAX_TOKENS = 16  # OpenAI's default for /v1/completions
_GATHER_S = 0.005  # how long the first request of a batch waits for others to join

CONDITIONS = ("none", "positive", "negative")
# What the built-in critics say of a document that fails every check (the 'negative' condition).
NEGATIVE_CRITIQUES = {
    "math": "Wrong from the first step: the computations do not follow from the problem and the answer is wrong.",
    "code": "The code does not do what its docstring promises: every unit test fails.",
    "text": "Messy text: stray characters, passages repeated over and over, and code that does not parse.",
}


class RequestError(ValueError):
  """A request the API refuses (HTTP 400), with a message for the client."""


def condition_critique(condition: str, domain: str,
                       positive_critique: Callable[[str], str]) -> tuple[str | None, float]:
  """The critique (None: none) and its score that `condition` shows before a `domain` document."""
  if condition == "none":
    return None, 0.0
  if condition == "positive":
    try:
      return positive_critique(domain), 1.0
    except ValueError as e:
      raise RequestError(str(e)) from None
  if condition == "negative":
    if domain not in NEGATIVE_CRITIQUES:
      raise RequestError(f"condition='negative' has critiques for domains {sorted(NEGATIVE_CRITIQUES)}, not {domain!r}")
    return NEGATIVE_CRITIQUES[domain], 0.0
  raise RequestError(f"condition={condition!r}: expected one of {CONDITIONS}")


def resolve_condition(choice: str, config) -> str:
  """`choice`, where 'auto' is the run's method: a positive critique after critique-prefix training, else none."""
  if choice != "auto":
    return choice
  return "positive" if config.data.feedback.placement == "prefix" else "none"


@dataclasses.dataclass(frozen=True)
class Conditioning:
  """A server's default conditioning: free-text `critique` if set, else `condition` for `domain`."""
  condition: str = "none"
  critique: str | None = None
  domain: str = "text"


@dataclasses.dataclass(frozen=True)
class Stream:
  """A reply sent as server-sent events, one `data:` line per chunk as it comes, then `data: [DONE]`."""
  chunks: Iterable[dict[str, Any]]


class _Batcher:
  """Runs `run(items)` on whatever items are waiting, up to max_batch at once, on its own thread."""

  def __init__(self, run: Callable[[list], list], max_batch: int):
    self._run, self._max_batch = run, max_batch
    self._queue: queue.Queue = queue.Queue()
    threading.Thread(target=self._serve, daemon=True).start()

  def submit(self, item) -> concurrent.futures.Future:
    future = concurrent.futures.Future()
    self._queue.put((item, future))
    return future

  def _serve(self):
    while True:
      waiting = [self._queue.get()]
      time.sleep(_GATHER_S)
      while len(waiting) < self._max_batch and not self._queue.empty():
        waiting.append(self._queue.get())
      try:
        results = self._run([item for item, _ in waiting])
      except Exception as e:  # pylint: disable=broad-except
        for _, future in waiting:
          future.set_exception(e)
        continue
      for (_, future), result in zip(waiting, results):
        future.set_result(result)


def _sampling(body: dict[str, Any], max_tokens_limit: int) -> SamplingSettings | None:
  """The request's sampling settings; None for max_tokens=0 (an echo that only scores the prompt)."""
  if body.get("n", 1) != 1:
    raise RequestError("only n=1 is supported")
  stop = body.get("stop") or ()
  stop = (stop,) if isinstance(stop, str) else tuple(stop)
  max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
  max_tokens = _DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens
  try:
    if int(max_tokens) == 0:
      return None
    temperature = body.get("temperature")
    return SamplingSettings(max_new_tokens=min(int(max_tokens), max_tokens_limit),
                            temperature=1.0 if temperature is None else float(temperature),
                            top_p=float(body.get("top_p") or 1.0), stop=stop)
  except (TypeError, ValueError) as e:
    raise RequestError(str(e)) from None


def _top_k(body: dict[str, Any]) -> int | None:
  """The `logprobs` asked for: None for none, else how many alternatives per token (0..MAX_TOP_K)."""
  value = body.get("logprobs")
  if value is None or value is False:
    return None
  if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOP_K:
    raise RequestError(f"logprobs must be null or an integer in 0..{MAX_TOP_K}")
  return value


def _prompts(body: dict[str, Any]) -> list[str | list[int]]:
  """The request's prompts: a string, a list of strings, token ids, or a list of token-id lists."""
  prompt = body.get("prompt")
  if isinstance(prompt, str) or (isinstance(prompt, list) and prompt and all(isinstance(t, int) for t in prompt)):
    return [prompt]
  if isinstance(prompt, list) and prompt and all(
      isinstance(p, str) or (isinstance(p, list) and p and all(isinstance(t, int) for t in p)) for p in prompt):
    return prompt
  raise RequestError("prompt must be a string, a list of strings, token ids, or a list of token-id lists")


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


def _shown_tokens(vocab, completion: Completion) -> list[int]:
  """The generated ids the reply's text shows: no end-of-document token, none past a stop string."""
  ids = completion.tokens[:-1] if completion.tokens[-1:] == [vocab.eos_id] else completion.tokens
  for k in range(len(ids) + 1):
    if len(vocab.decode(ids[:k])) >= len(completion.text):
      return ids[:k]
  return ids


class CompletionService:
  """Answers OpenAI-style request bodies with completions of one run's parameters.

  Args:
    run: the loaded run.
    model_name: the id clients name (`model` in requests, listed by /v1/models).
    default: the conditioning of a request that names none.
    positive_critique: domain -> the critique of the 'positive' condition.
    max_tokens_limit: a request's max_tokens is capped at this.
    max_batch: requests decoded (and scored) together.
  """

  def __init__(self, run: LoadedRun, model_name: str, default: Conditioning,
               positive_critique: Callable[[str], str], max_tokens_limit: int = 1024, max_batch: int = 16):
    self.run, self.model_name, self.default = run, model_name, default
    self.vocab = run.vocab
    self.max_tokens_limit = max_tokens_limit
    self._positive_critique = positive_critique
    self._feedback = formatting.FeedbackSettings.from_config(run.config.data)
    try:  # a bad default fails at start
      condition_critique(default.condition, default.domain, positive_critique)
    except RequestError as e:
      raise ConfigError(f"the default condition: {e}") from None
    sampler = Sampler(run.graphdef, run.vocab, run.mesh, max_batch=max_batch)
    scorer = TokenScorer(run.graphdef, run.mesh)
    self._seed = iter(range(1 << 62))  # a fresh sampling seed per batch

    def decode(items):  # items: (ids, settings, a queue for each token as it comes, or None)
      sinks = [sink for _, _, sink in items]
      try:
        return sampler.complete(run.params, [ids for ids, _, _ in items], [s for _, s, _ in items],
                                seed=next(self._seed),
                                on_token=(lambda i, token: sinks[i] and sinks[i].put(token)) if any(sinks) else None)
      finally:
        for sink in filter(None, sinks):
          sink.put(None)  # the end, also after a failure

    self._decoder = _Batcher(decode, max_batch)
    self._scorer = _Batcher(lambda items: scorer.score(run.params, items, MAX_TOP_K), max_batch)

  def models(self) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": self.model_name, "object": "model", "created": 0,
                                        "owned_by": "ixt_jax", "checkpoint_step": self.run.step,
                                        "max_model_len": self.run.config.data.seq_len}]}

  def tokenizer_info(self) -> dict[str, Any]:
    # No text encodes to the end-of-document token, so there is no eos string for a client to send.
    return {"tokenizer_class": type(self.vocab).__name__, "eos_token": None, "bos_token": None, "pad_token": None,
            "model_max_length": self.run.config.data.seq_len, "vocab_size": self.vocab.size}

  def tokenize(self, body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(body.get("prompt"), str):
      raise RequestError("prompt must be a string")
    tokens = self.vocab.encode(body["prompt"])
    return {"tokens": tokens, "count": len(tokens), "max_model_len": self.run.config.data.seq_len}

  def detokenize(self, body: dict[str, Any]) -> dict[str, Any]:
    return {"prompt": self.vocab.decode(self._checked_ids(body.get("tokens")))}

  def _checked_ids(self, ids: Any) -> list[int]:
    if not isinstance(ids, list) or not all(isinstance(t, int) and 0 <= t < self.vocab.size for t in ids):
      raise RequestError(f"tokens must be a list of token ids in 0..{self.vocab.size - 1}")
    return ids

  def _conditioning(self, body: dict[str, Any]) -> tuple[str | None, float, str]:
    """(critique or None, its score, domain) of a request."""
    domain = body.get("domain", self.default.domain)
    if "critique" in body:
      if body["critique"] is not None and not isinstance(body["critique"], str):
        raise RequestError("critique must be a string or null")
      return body["critique"], 1.0, domain
    if "condition" not in body and self.default.critique is not None:
      return self.default.critique, 1.0, domain
    return *condition_critique(body.get("condition", self.default.condition), domain, self._positive_critique), domain

  def _prefix(self, body: dict[str, Any], prompt: str | None = None) -> list[int]:
    """The ids before the request's text: the conditioning (and a chat's prompt), as in training."""
    critique, score, domain = self._conditioning(body)
    try:
      return prompt_ids(self.vocab, self._feedback, "", domain, critique, prompt=prompt, score=score)
    except ValueError as e:
      raise RequestError(str(e)) from None

  def _decode(self, prompts: Sequence[list[int]], settings: SamplingSettings | None) -> list[Completion]:
    if settings is None:
      return [Completion("", [], len(ids), "length") for ids in prompts]
    futures = [self._decoder.submit((ids, settings, None)) for ids in prompts]
    return [future.result() for future in futures]

  def _live(self, ids: list[int], settings: SamplingSettings | None) -> Iterator[str | Completion]:
    """The completion of `ids` as text pieces while it is decoded, then the Completion itself."""
    if settings is None:
      yield Completion("", [], len(ids), "length")
      return
    sink = queue.Queue()
    future = self._decoder.submit((ids, settings, sink))
    sent = 0
    for piece in openai_stream.live_text(self.vocab, iter(sink.get, None), settings.stop):
      sent += len(piece)
      yield piece
    completion = future.result()
    if len(completion.text) > sent:
      yield completion.text[sent:]
    yield completion

  def _head(self, kind: str) -> dict[str, Any]:
    return {"id": f"{'chatcmpl' if kind.startswith('chat') else 'cmpl'}-{uuid.uuid4().hex}", "object": kind,
            "created": int(time.time()), "model": self.model_name}

  @staticmethod
  def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}

  def _envelope(self, kind: str, choices: list[dict[str, Any]], prompt_tokens: int, completion_tokens: int):
    return {**self._head(kind), "choices": choices, "usage": self._usage(prompt_tokens, completion_tokens)}

  def _live_chunks(self, head: dict[str, Any], ids: list[int], settings: SamplingSettings | None, body,
                   chunk: Callable[[str | None, str | None], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Chunks `chunk(text, finish_reason)` of a completion streamed live, then the usage if asked for."""
    for item in self._live(ids, settings):
      if isinstance(item, Completion):
        yield {**head, **chunk(None, item.finish_reason)}
        if (body.get("stream_options") or {}).get("include_usage"):
          yield {**head, "choices": [], "usage": self._usage(len(ids), len(item.tokens))}
      elif item:
        yield {**head, **chunk(item, None)}

  def _logprobs(self, sequence: list[int], first: int, top_k: int, text_offset: int,
                future: concurrent.futures.Future) -> dict[str, list]:
    """OpenAI's `logprobs` of sequence[first:] (its tokens, their logprobs, top alternatives, offsets)."""
    scores = future.result() if future is not None else None
    tokens, token_logprobs, top_logprobs, offsets = [], [], [], []
    for i in range(first, len(sequence)):
      tokens.append(self.vocab.decode([sequence[i]]))
      token_logprobs.append(scores.logprobs[i - 1] if i > 0 else None)
      top_logprobs.append({self.vocab.decode([t]): lp for t, lp in zip(scores.top_ids[i - 1][:top_k],
                                                                       scores.top_logprobs[i - 1][:top_k])}
                          if i > 0 else None)
      offsets.append(text_offset)
      text_offset += len(tokens[-1])
    return {"tokens": tokens, "token_logprobs": token_logprobs, "top_logprobs": top_logprobs if top_k else None,
            "text_offset": offsets}

  def completions(self, body: dict[str, Any]) -> dict[str, Any] | Stream:
    prompts, echo, top_k = _prompts(body), bool(body.get("echo")), _top_k(body)
    prefix = self._prefix(body)
    texts = [self._checked_ids(p) if isinstance(p, list) else self.vocab.encode(p) for p in prompts]
    settings = _sampling(body, self.max_tokens_limit)
    if body.get("stream") and top_k is None and len(prompts) == 1:  # live; with logprobs, chunked once scored
      head, prompt_text = self._head("text_completion"), self.vocab.decode(texts[0])
      prompt_text = prompts[0] if isinstance(prompts[0], str) else prompt_text

      def chunk(text, finish_reason):
        return {"choices": [{"index": 0, "text": text or "", "finish_reason": finish_reason, "logprobs": None}]}

      echoed = [{**head, **chunk(prompt_text, None)}] if echo else []
      return Stream(itertools.chain(echoed, self._live_chunks(head, prefix + texts[0], settings, body, chunk)))
    completions = self._decode([prefix + ids for ids in texts], settings)
    shown = [_shown_tokens(self.vocab, c) for c in completions]
    sequences = [prefix + ids + more for ids, more in zip(texts, shown)]
    scoring = [self._scorer.submit(s) if top_k is not None and len(s) > 1 else None for s in sequences]
    choices, pieces = [], []
    for index, (prompt, ids, completion, more) in enumerate(zip(prompts, texts, completions, shown)):
      prompt_text = self.vocab.decode(ids) if isinstance(prompt, list) else prompt
      first = len(prefix) if echo else len(prefix) + len(ids)
      choices.append({"index": index, "text": (prompt_text if echo else "") + completion.text,
                      "finish_reason": completion.finish_reason,
                      "logprobs": None if top_k is None else self._logprobs(
                          sequences[index], first, top_k, 0 if echo else len(prompt_text), scoring[index])})
      pieces.append((openai_stream.text_pieces(self.vocab, ids, prompt_text) if echo else [])
                    + openai_stream.text_pieces(self.vocab, more, completion.text))
    reply = self._envelope("text_completion", choices, sum(len(prefix) + len(ids) for ids in texts),
                           sum(len(c.tokens) for c in completions))
    if body.get("stream"):
      return Stream(openai_stream.with_usage(openai_stream.completion_chunks(reply, pieces), reply, body))
    return reply

  def chat_completions(self, body: dict[str, Any]) -> dict[str, Any] | Stream:
    if body.get("logprobs"):
      raise RequestError("logprobs are supported on /v1/completions only")
    ids = self._prefix(body, prompt=conversation(body.get("messages")))
    settings = _sampling(body, self.max_tokens_limit)
    if settings is None:
      raise RequestError("max_tokens must be at least 1")
    if body.get("stream"):
      head = self._head("chat.completion.chunk")

      def chunk(text, finish_reason):
        return {"choices": [{"index": 0, "delta": {} if text is None else {"content": text},
                             "finish_reason": finish_reason}]}

      role = {**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
      return Stream(itertools.chain([role], self._live_chunks(head, ids, settings, body, chunk)))
    (completion,) = self._decode([ids], settings)
    choice = {"index": 0, "message": {"role": "assistant", "content": completion.text},
              "finish_reason": completion.finish_reason}
    return self._envelope("chat.completion", [choice], len(ids), len(completion.tokens))


class _Server(http.server.ThreadingHTTPServer):
  # The listen backlog: http.server's 5 resets connections once a client keeps more requests in flight
  # than that (an annotation at concurrency 64 saw hundreds of resets and retries).
  request_queue_size = 1024


def make_server(host: str, port: int, service: CompletionService) -> http.server.ThreadingHTTPServer:
  """The HTTP server of `service` on host:port (0: a free port), one thread per connection."""
  return _Server((host, port), make_handler(service))


def make_handler(service: CompletionService) -> type[http.server.BaseHTTPRequestHandler]:
  """A request handler class bound to `service` (for http.server.ThreadingHTTPServer)."""
  posts = {"/v1/completions": service.completions, "/v1/chat/completions": service.chat_completions,
           "/tokenize": service.tokenize, "/detokenize": service.detokenize}
  gets = {"/v1/models": service.models, "/tokenizer_info": service.tokenizer_info}

  class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall

    def _reply(self, status: int, value: dict[str, Any]):
      data = json.dumps(value).encode()
      self.send_response(status)
      self.send_header("Content-Type", "application/json")
      self.send_header("Content-Length", str(len(data)))
      self.end_headers()
      self.wfile.write(data)

    def _stream(self, stream: Stream):
      self.send_response(200)
      self.send_header("Content-Type", "text/event-stream")
      self.send_header("Cache-Control", "no-cache")
      self.send_header("Transfer-Encoding", "chunked")
      self.end_headers()
      try:
        for chunk in stream.chunks:
          self._event(json.dumps(chunk))
      except Exception as e:  # pylint: disable=broad-except  # the status is sent: the error goes as an event
        self._event(json.dumps({"error": {"message": f"{type(e).__name__}: {e}", "type": "server_error"}}))
      self._event("[DONE]")
      self.wfile.write(b"0\r\n\r\n")

    def _event(self, text: str):
      data = f"data: {text}\n\n".encode()
      self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
      self.wfile.flush()

    def _error(self, status: int, message: str, kind: str = "invalid_request_error"):
      self._reply(status, {"error": {"message": message, "type": kind}})

    def do_GET(self):  # pylint: disable=invalid-name
      route = gets.get(self.path.rstrip("/"))
      if route is None:
        return self._error(404, f"no route {self.path}")
      self._reply(200, route())

    def do_POST(self):  # pylint: disable=invalid-name
      route = posts.get(self.path.rstrip("/"))
      length = int(self.headers.get("Content-Length") or 0)
      raw = self.rfile.read(length)
      if route is None:
        return self._error(404, f"no route {self.path}")
      try:
        body = json.loads(raw)
        if not isinstance(body, dict):
          raise RequestError("the body must be a JSON object")
        reply = route(body)
      except (RequestError, json.JSONDecodeError) as e:
        return self._error(400, str(e))
      except Exception as e:  # pylint: disable=broad-except
        return self._error(500, f"{type(e).__name__}: {e}", "server_error")
      if isinstance(reply, Stream):
        self._stream(reply)
      else:
        self._reply(200, reply)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
      pass  # one line per request would drown the server's own output

  return Handler
