"""A critic served over HTTP: any OpenAI-compatible `/v1/chat/completions` endpoint (vLLM, SGLang).

The prompt asks for a strict reply, `Critique: ...` then `Score: <0..1>` on the last line; reasoning
inside `<think>...</think>` is dropped first. A reply that does not match is a Failure carrying the
raw text (never a guessed score), so it can be retried. Server errors (5xx), rate limits (429),
refused connections and timeouts are retried with exponential backoff; other 4xx are not.

The API key is read from the environment variable *named* by `api_key_env` at request time, so it
never sits in the config, the object, its repr, logs or failure reasons (which are also scrubbed of
it, should a server echo it back). Each Feedback counts `usage.prompt_tokens + completion_tokens`,
so annotation compute is 2 x n_params x tokens.
"""
from __future__ import annotations

import concurrent.futures
import http.client
import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from ixt_jax.errors import ConfigError
from ixt_jax.feedback.critic import Failure, Feedback

PROMPT_TEMPLATE = """You review documents that a language model will be trained on. Read the {domain} \
document below and judge its quality and correctness. For mathematics, check every step and the final \
answer; for code, check that it does what it claims and would pass its tests; for prose, judge whether \
it is clear, coherent and free of errors.

<document>
{text}
</document>

Reply in exactly this format and nothing else:
Critique: <one paragraph naming the most important problems, or saying why the document is flawless>
Score: <a number from 0 to 1, where 1 means flawless>"""

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_REPLY = re.compile(r"\s*Critique:\s*(?P<critique>\S.*?)\s*\n\s*Score:\s*(?P<score>[0-9]*\.?[0-9]+)\s*", re.DOTALL)
_RAW_CHARS = 4000
logger = logging.getLogger(__name__)


class _Retryable(Exception):
  pass


def fill_prompt(template: str, record: dict[str, Any], max_document_chars: int = 0) -> str:
  """`template` with the record's {domain} and {text}, the text cut to its first max_document_chars
  (0: whole): the prompt a served critic reads, and the one a trained critic learnt from."""
  text = record["text"][:max_document_chars] if max_document_chars > 0 else record["text"]
  return template.format_map({"domain": record.get("domain", "text"), "text": text})


def parse_reply(content: str) -> tuple[str, float] | None:
  """(critique, score) from a reply in the strict format, after dropping reasoning; else None."""
  content = _THINK.sub("", content)
  if "</think>" in content:  # some servers strip the opening tag
    content = content.rsplit("</think>", 1)[1]
  if "<think>" in content:  # reasoning that never ended
    return None
  match = _REPLY.fullmatch(content)
  if not match or not 0.0 <= float(match["score"]) <= 1.0:
    return None
  return match["critique"], float(match["score"])


class ServedCritic:
  """Calls `{base_url}/chat/completions` with `concurrency` requests in flight.

  Subclasses speak other endpoints by setting `url` and overriding `_body` and `_read` (see served_score).
  """

  CONFIG_FIELD = "config.served"  # where user errors point

  def __init__(self, base_url: str, model: str, n_params: int, api_key_env: str = "",
               prompt_template: str = PROMPT_TEMPLATE, concurrency: int = 8, timeout_s: float = 120.0,
               max_retries: int = 4, backoff_s: float = 1.0, max_tokens: int = 2048, temperature: float = 0.0,
               max_document_chars: int = 0):
    if "{text}" not in prompt_template:
      raise ConfigError(f"{self.CONFIG_FIELD}.prompt_template must contain {{text}}")
    if n_params < 0:
      raise ConfigError(f"{self.CONFIG_FIELD}.n_params={n_params}: must be >= 0 (the critic model's parameters)")
    if max_document_chars < 0:
      raise ConfigError(f"{self.CONFIG_FIELD}.max_document_chars={max_document_chars}: must be >= 0 (0: whole)")
    self.url = base_url.rstrip("/") + "/chat/completions"
    self.response_kind = "a chat completion"
    self.model, self.n_params, self.api_key_env = model, n_params, api_key_env
    self.prompt_template, self.concurrency, self.timeout_s = prompt_template, concurrency, timeout_s
    self.max_retries, self.backoff_s = max_retries, backoff_s
    self.max_tokens, self.temperature = max_tokens, temperature
    self.max_document_chars = max_document_chars
    self.name = f"served:{model}"

  def __repr__(self) -> str:
    return f"{type(self).__name__}(url={self.url!r}, model={self.model!r}, api_key_env={self.api_key_env!r})"

  def describe(self) -> dict[str, Any]:
    return {"name": self.name, "n_params": self.n_params, "url": self.url, "max_tokens": self.max_tokens,
            "temperature": self.temperature, "prompt_template": self.prompt_template,
            "max_document_chars": self.max_document_chars}

  def __call__(self, records: Sequence[dict[str, Any]]) -> list[Feedback | Failure]:
    with concurrent.futures.ThreadPoolExecutor(max(1, self.concurrency)) as pool:
      return list(pool.map(self.judge, records))

  def _scrub(self, text: str) -> str:
    key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
    return text.replace(key, "<redacted>") if key else text

  def _body(self, prompt: str) -> dict[str, Any]:
    return {"model": self.model, "messages": [{"role": "user", "content": prompt}],
            "max_tokens": self.max_tokens, "temperature": self.temperature}

  def _request(self, record: dict[str, Any]) -> urllib.request.Request:
    body = self._body(fill_prompt(self.prompt_template, record, self.max_document_chars))
    headers = {"Content-Type": "application/json"}
    if self.api_key_env:
      key = os.environ.get(self.api_key_env)
      if not key:
        raise ValueError(f"environment variable {self.api_key_env} ({self.CONFIG_FIELD}.api_key_env) is not set")
      headers["Authorization"] = f"Bearer {key}"
    return urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")

  def _post(self, request: urllib.request.Request) -> bytes:
    try:
      with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
        return response.read()
    except urllib.error.HTTPError as e:
      detail = f"HTTP {e.code}: {e.read(500).decode('utf-8', 'replace')}"
      if e.code == 429 or e.code >= 500:
        raise _Retryable(detail) from None
      raise ValueError(detail) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as e:
      raise _Retryable(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None

  def judge(self, record: dict[str, Any]) -> Feedback | Failure:
    try:
      request = self._request(record)
    except ValueError as e:
      return Failure(str(e), self.name)
    for attempt in range(self.max_retries + 1):
      try:
        body = self._post(request)
        break
      except _Retryable as e:
        reason = self._scrub(str(e))
        if attempt == self.max_retries:
          return Failure(f"gave up after {attempt + 1} attempts: {reason}", self.name)
        logger.warning("%s: %s; retry %d/%d", record.get("id"), reason, attempt + 1, self.max_retries)
        time.sleep(self.backoff_s * 2**attempt)
      except ValueError as e:
        return Failure(self._scrub(str(e)), self.name)
    try:
      reply = json.loads(body)
      return self._read(reply, record)
    except (ValueError, KeyError, IndexError, TypeError):
      raw = self._scrub(body.decode("utf-8", "replace"))[:_RAW_CHARS]
      return Failure(f"malformed response (not {self.response_kind})", self.name, raw)

  @staticmethod
  def _usage(reply: dict[str, Any], generates: bool = True) -> tuple[int | None, int | None]:
    """(prompt + completion tokens, completion tokens) from the reply's usage; None where not said."""
    usage = reply.get("usage") or {}
    if not ({"prompt_tokens", "completion_tokens"} if generates else {"prompt_tokens"}) <= usage.keys():
      return None, None
    generated = usage.get("completion_tokens") or 0
    return usage["prompt_tokens"] + generated, generated

  def _read(self, reply: dict[str, Any], record: dict[str, Any]) -> Feedback | Failure:
    """The verdict in a decoded reply; KeyError/IndexError/TypeError/ValueError: not this endpoint's shape."""
    del record  # the reply alone says it
    content = reply["choices"][0]["message"]["content"] or ""
    if not isinstance(content, str):
      raise TypeError("content is not text")
    tokens, generated = self._usage(reply)
    parsed = parse_reply(content)
    if parsed is None:
      return Failure("unparsable reply: expected 'Critique: ...' then 'Score: <0..1>'", self.name,
                     self._scrub(content)[:_RAW_CHARS], tokens, generated)
    return Feedback(parsed[0], parsed[1], self.name, tokens, generated)
