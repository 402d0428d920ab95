"""The served critic against a scripted OpenAI-compatible server on loopback."""
import collections
import http.server
import json
import logging
import threading
import time

import pytest

from configs.annotate import served as served_config
from ixt_jax.feedback import critics
from ixt_jax.feedback.critic import Failure, Feedback
from ixt_jax.feedback.served import ServedCritic, parse_reply

SECRET = "sk-test-do-not-leak-0123456789"
GOOD = "Critique: The argument is sound and the answer is right.\nScore: 0.8"


class _Scripted(http.server.BaseHTTPRequestHandler):
  """Replies by the case named in the document: `case:<name>`; counts attempts per case."""
  attempts = collections.Counter()
  auth = []

  def log_message(self, *args):  # keep test output quiet
    pass

  def _reply(self, code, payload):
    body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    self.send_response(code)
    self.send_header("Content-Type", "application/json")
    self.send_header("Content-Length", str(len(body)))
    self.end_headers()
    self.wfile.write(body)

  def do_POST(self):  # pylint: disable=invalid-name
    request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
    prompt = request["messages"][0]["content"]
    case = prompt.split("case:", 1)[1].split()[0]
    self.attempts[case] += 1
    self.auth.append(self.headers.get("Authorization"))
    n = self.attempts[case]
    completion = lambda content, usage=True: {  # pylint: disable=unnecessary-lambda-assignment
        "choices": [{"message": {"role": "assistant", "content": content}}],
        **({"usage": {"prompt_tokens": 100, "completion_tokens": 20}} if usage else {})}
    if case == "success":
      self._reply(200, completion(GOOD))
    elif case == "think":
      self._reply(200, completion("<think>Maybe Score: 0.1?\nCritique: no</think>\n" + GOOD.replace("0.8", "0.25")))
    elif case == "flaky" and n == 1:
      self._reply(500, {"error": "overloaded"})
    elif case == "ratelimited" and n <= 2:
      self._reply(429, {"error": "slow down"})
    elif case in ("flaky", "ratelimited"):
      self._reply(200, completion(GOOD, usage=False))
    elif case == "slow":
      time.sleep(1.5)
      self._reply(200, completion(GOOD))
    elif case == "unparsable":
      self._reply(200, completion("I would give this an 8/10, it is quite good."))
    elif case == "rejected":  # a 4xx that echoes the request headers back
      self._reply(400, {"error": "bad request", "echo": self.headers.get("Authorization")})
    else:
      self._reply(404, {"error": case})


@pytest.fixture
def server():
  _Scripted.attempts.clear()
  _Scripted.auth.clear()
  httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
  httpd.daemon_threads = True
  threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
  yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
  httpd.shutdown()
  httpd.server_close()


def _critic(url, **kw):
  options = dict(model="judge", n_params=7_000_000_000, api_key_env="IXT_TEST_CRITIC_KEY", timeout_s=0.5,
                 max_retries=2, backoff_s=0.01, concurrency=4)
  return ServedCritic(url, **{**options, **kw})


def _record(case):
  return {"id": case, "domain": "math", "text": f"2 + 2 = 4. case:{case} end"}


def test_replies_are_parsed_retried_or_failed_and_the_key_never_leaks(server, monkeypatch, caplog):
  monkeypatch.setenv("IXT_TEST_CRITIC_KEY", SECRET)
  critic = _critic(server)
  cases = ["success", "think", "flaky", "ratelimited", "slow", "unparsable", "rejected"]
  with caplog.at_level(logging.DEBUG):
    results = dict(zip(cases, critic([_record(c) for c in cases])))
  assert results["success"] == Feedback("The argument is sound and the answer is right.", 0.8, "served:judge", 120, 20)
  assert results["think"].score == 0.25 and isinstance(results["think"], Feedback)
  assert results["flaky"].score == 0.8 and _Scripted.attempts["flaky"] == 2
  assert results["ratelimited"].score == 0.8 and _Scripted.attempts["ratelimited"] == 3
  assert results["flaky"].tokens is None  # no usage in that reply: counted as unknown, not as 0
  slow = results["slow"]
  assert isinstance(slow, Failure) and "gave up after 3 attempts" in slow.reason and _Scripted.attempts["slow"] == 3
  unparsable = results["unparsable"]
  assert isinstance(unparsable, Failure) and "unparsable" in unparsable.reason
  assert unparsable.raw == "I would give this an 8/10, it is quite good." and unparsable.tokens == 120
  rejected = results["rejected"]
  assert isinstance(rejected, Failure) and "HTTP 400" in rejected.reason and _Scripted.attempts["rejected"] == 1
  assert set(_Scripted.auth) == {f"Bearer {SECRET}"}  # the key was sent ...
  exposed = [caplog.text, repr(critic), str(critic.describe()), str(served_config.get_config())]
  exposed += [f"{r.reason} {r.raw}" for r in results.values() if isinstance(r, Failure)]
  assert all(SECRET not in text for text in exposed)  # ... and shows up nowhere else
  assert "retry" in caplog.text  # retries are logged (without the key)


def test_a_missing_key_variable_is_a_failure_naming_the_variable(server, monkeypatch):
  monkeypatch.delenv("IXT_TEST_CRITIC_KEY", raising=False)
  result = _critic(server)([_record("success")])[0]
  assert isinstance(result, Failure) and "IXT_TEST_CRITIC_KEY" in result.reason


def test_strict_reply_format():
  assert parse_reply("Critique: Good.\nScore: 1") == ("Good.", 1.0)
  assert parse_reply("<think>long\nreasoning</think>Critique: Off by one.\nScore: 0.3\n") == ("Off by one.", 0.3)
  assert parse_reply("reasoning</think>\nCritique: Fine.\nScore: .5") == ("Fine.", 0.5)
  for bad in ("Critique: Good.\nScore: 1.5", "Score: 0.5", "Critique: Good.", "<think>never ends Critique: a\nScore: 1",
              "Critique: Good.\nScore: 0.5\nThanks!", "The critique: good\nScore: 0.5"):
    assert parse_reply(bad) is None, bad


def test_config_builds_the_served_critic(server):
  config = served_config.get_config()
  config.served.base_url, config.served.n_params = server, 1000
  critic = critics.make_critic(config)
  assert isinstance(critic, ServedCritic) and critic.n_params == 1000 and critic.name == "served:critic"
  config.critic = "oracle"
  with pytest.raises(ValueError, match="config.critic"):
    critics.make_critic(config)
