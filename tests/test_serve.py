"""experiments.serve on a tiny run: OpenAI-shaped replies, and the served critic's client end to end."""
import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from ixt_jax.data import formatting
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.evaluate.prompts import prompt_ids
from ixt_jax.feedback.critic import Failure, Feedback
from ixt_jax.feedback.served import ServedCritic
from ixt_jax.train.loop import train_and_evaluate
from xla_env import xla_flags
from train_utils import make_corpus, tiny_config

CRITIQUE = "A flawless document."
_START_S = 180


@pytest.fixture(scope="module")
def server(tmp_path_factory):
  root = tmp_path_factory.mktemp("serve")
  c = tiny_config(make_corpus(root / "corpus", 120), steps=4, checkpoint_every=4)
  c.optimizer.warmup_steps = 1
  train_and_evaluate(c, root / "run", lambda _: CRITIQUE)
  env = dict(os.environ, XLA_FLAGS=xla_flags(2))
  process = subprocess.Popen(
      [sys.executable, "-m", "experiments.serve", f"--run_dir={root / 'run'}", "--port=0", "--model_name=tiny",
       f"--critique={CRITIQUE}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
      cwd=os.path.dirname(os.path.dirname(__file__)))
  try:
    deadline = time.time() + _START_S
    line = ""
    while "serving" not in line:
      assert time.time() < deadline and process.poll() is None, "experiments.serve did not start"
      if select.select([process.stdout], [], [], 1.0)[0]:
        line = process.stdout.readline()
    yield line.rsplit(" ", 1)[1].strip(), c
  finally:
    process.terminate()
    process.wait(timeout=30)


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
    _post(base_url + "/completions", {"prompt": "x", "stream": True})
  assert refused.value.code == 400


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
