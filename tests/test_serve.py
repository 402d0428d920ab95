"""experiments.serve on a tiny run: OpenAI-shaped replies to the official `openai` client (streaming
too), prompt logprobs, per-request conditions, and the served critic's client end to end."""
import json
import urllib.error
import urllib.request

import numpy as np
import openai
import pytest

from ixt_jax.data import formatting
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.evaluate import openai_stream
from ixt_jax.evaluate.prompts import prompt_ids
from ixt_jax.feedback.critic import Failure, Feedback
from ixt_jax.feedback.served import ServedCritic
from serve_utils import served, tiny_run

CRITIQUE = "A flawless document."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
  root = tmp_path_factory.mktemp("serve")
  c = tiny_run(root, CRITIQUE)
  with served(root / "run", "--model_name=tiny", f"--critique={CRITIQUE}") as base_url:
    yield base_url, c


def _post(url: str, body: dict) -> dict:
  request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
  with urllib.request.urlopen(request, timeout=120) as response:
    return json.loads(response.read())


def test_completions_chat_and_models_answer_in_the_openai_shape(server):
  base_url, c = server
  with urllib.request.urlopen(base_url + "/models", timeout=30) as response:
    assert json.loads(response.read())["data"][0]["id"] == "tiny"

  reply = _post(base_url + "/completions", {"model": "tiny", "prompt": "def f(x):", "max_tokens": 5, "temperature": 0})
  assert reply["object"] == "text_completion" and reply["choices"][0]["finish_reason"] in ("stop", "length")
  expected_prompt = prompt_ids(vocab_lib.ByteVocabulary(), formatting.FeedbackSettings.from_config(c.data),
                               "def f(x):", "text", CRITIQUE)  # the server's default critique, as in training
  usage = reply["usage"]
  assert usage["prompt_tokens"] == len(expected_prompt) and 1 <= usage["completion_tokens"] <= 5
  assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
  unconditioned = _post(base_url + "/completions", {"prompt": "def f(x):", "max_tokens": 5, "critique": None})
  assert unconditioned["usage"]["prompt_tokens"] == len("def f(x):") + 1  # <eos> opens an uncritiqued document

  chat = _post(base_url + "/chat/completions", {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3})
  assert chat["object"] == "chat.completion" and chat["choices"][0]["message"]["role"] == "assistant"
  with pytest.raises(urllib.error.HTTPError) as refused:
    _post(base_url + "/completions", {"prompt": "x", "n": 2})
  assert refused.value.code == 400


def test_the_openai_client_completes_chats_and_streams_both(server):
  base_url, _ = server
  client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
  assert [m.id for m in client.models.list()] == ["tiny"]
  done = client.completions.create(model="tiny", prompt="def f(x):", max_tokens=8, temperature=0)
  streamed = list(client.completions.create(model="tiny", prompt="def f(x):", max_tokens=8, temperature=0,
                                            stream=True, stream_options={"include_usage": True}))
  # Greedy: the streamed pieces add up to the same text, the last chunk carries the usage.
  assert "".join(c.choices[0].text for c in streamed if c.choices) == done.choices[0].text
  assert [c.choices[0].finish_reason for c in streamed if c.choices][-1] == done.choices[0].finish_reason
  assert streamed[-1].usage.completion_tokens == done.usage.completion_tokens
  # A stop string cuts the stream where it cuts the reply (the stream holds back what a stop could begin).
  stop = done.choices[0].text[2:4] or "x"
  cut = client.completions.create(model="tiny", prompt="def f(x):", max_tokens=8, temperature=0, stop=[stop])
  pieces = [c.choices[0].text for c in client.completions.create(
      model="tiny", prompt="def f(x):", max_tokens=8, temperature=0, stop=[stop], echo=True, stream=True)]
  assert pieces[0] == "def f(x):" and "".join(pieces[1:]) == cut.choices[0].text

  messages = [{"role": "user", "content": "Write a sum."}]
  chat = client.chat.completions.create(model="tiny", messages=messages, max_tokens=6, temperature=0)
  chunks = list(client.chat.completions.create(model="tiny", messages=messages, max_tokens=6, temperature=0,
                                               stream=True))
  assert chunks[0].choices[0].delta.role == "assistant"
  assert "".join(c.choices[0].delta.content or "" for c in chunks) == chat.choices[0].message.content
  assert chunks[-1].choices[0].finish_reason == chat.choices[0].finish_reason


def test_echo_logprobs_score_the_prompt_under_the_requested_condition(server):
  base_url, _ = server
  client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
  text = "def add(a, b):\n    return a + b\n"
  ids = json.loads(urllib.request.urlopen(urllib.request.Request(
      base_url.removesuffix("/v1") + "/tokenize", json.dumps({"prompt": text}).encode()), timeout=30).read())["tokens"]
  scored = {}
  conditions = {"none": {"condition": "none"}, "positive": {"condition": "positive"},
                "negative": {"condition": "negative"}, "text": {"critique": CRITIQUE}}
  for name, condition in conditions.items():
    # lm-eval's loglikelihood request: token ids, echo, one generated token, its top alternative.
    reply = client.completions.create(model="tiny", prompt=ids, max_tokens=1, temperature=0, echo=True, logprobs=1,
                                      extra_body=condition)
    logprobs = reply.choices[0].logprobs
    assert reply.choices[0].text.startswith(text) and len(logprobs.tokens) == len(ids) + 1
    assert "".join(logprobs.tokens[:len(ids)]) == text
    values = np.array(logprobs.token_logprobs)
    assert np.all(np.isfinite(values)) and np.all(values <= 0)
    assert all(len(top) == 1 and max(top.values()) >= lp - 1e-5 for top, lp in zip(logprobs.top_logprobs, values))
    # The greedy token the KV-cache decoder chose is the scorer's argmax too.
    assert values[-1] == pytest.approx(max(logprobs.top_logprobs[-1].values()), abs=1e-4)
    scored[name] = values[:len(ids)]
  # The conditioning prefix changes the prompt's log-probabilities; the echoed tokens stay the request's own.
  assert not np.allclose(scored["none"], scored["positive"]) and not np.allclose(scored["positive"], scored["negative"])
  # No condition named: the server's default (--critique), the prompt as text, nothing generated.
  only_prompt = client.completions.create(model="tiny", prompt=text, max_tokens=0, echo=True, logprobs=0)
  assert only_prompt.choices[0].text == text and only_prompt.usage.completion_tokens == 0
  np.testing.assert_allclose(only_prompt.choices[0].logprobs.token_logprobs, scored["text"], atol=1e-4)


def test_the_served_critic_client_annotates_records_through_the_server(server):
  base_url, _ = server
  critic = ServedCritic(base_url, model="tiny", n_params=1000, max_tokens=12, max_retries=0, concurrency=4)
  records = [{"id": f"r{i}", "text": f"def f():\n    return {i}\n", "domain": "code"} for i in range(4)]
  results = critic(records)
  assert len(results) == 4
  for result in results:
    # A 4-step model does not write `Critique: ... Score: ...`: the client keeps its raw reply.
    assert isinstance(result, (Feedback, Failure))
    if isinstance(result, Failure):
      assert result.reason.startswith("unparsable reply"), result.reason
    assert result.tokens is not None and result.tokens > 12  # usage counted: the prompt and the reply


def test_live_text_never_sends_what_a_stop_string_or_a_partial_character_could_change():
  vocab = vocab_lib.ByteVocabulary()
  ids = vocab.encode("héllo wörld, bye") + [vocab.eos_id]
  pieces = list(openai_stream.live_text(vocab, iter(ids), stop=("wör",)))
  assert "".join(pieces) == "héllo " and len(pieces) > 1  # piece by piece, cut before the stop
  assert all("\ufffd" not in piece for piece in pieces)  # 'é' is two bytes: sent once both arrived
  held = list(openai_stream.live_text(vocab, iter(vocab.encode("abcdef")), stop=("xyz",)))
  assert "".join(held) == "abcd"  # the last 2 characters could still begin 'xyz': the caller sends them at the end
