"""The thinking critic's parts: its SFT set, its card's figures, the score-only served critic, and
annotation compute charged to a run by the data it reads."""
import http.server
import json
import threading

import pytest

from configs.annotate import builtin as builtin_config
from configs.annotate import critic as critic_config
from configs.annotate import score_only as score_only_config
from configs.data import builtin
from ixt_jax.data import annotation_cost, shards
from ixt_jax.data.corpora import writer
from ixt_jax.errors import ConfigError
from ixt_jax.feedback import critic_card, critic_sft, critics
from ixt_jax.feedback.annotate import annotate_directory
from ixt_jax.feedback.critic import Failure, Feedback
from ixt_jax.feedback.served import fill_prompt, parse_reply


def _raw_corpus(directory, math=30, code=12, text=8):
  config = builtin.get_config()
  config.math.count, config.code.count, config.text.count = math, code, text
  config.math.shards = config.code.shards = config.text.shards = 1
  manifest = writer.write_builtin(directory, config, "jsonl")
  shards.write_manifest(directory, {**manifest, "format": "jsonl", "records": math + code + text})
  return directory


def test_sft_records_are_the_verifiers_reasoning_and_verdict_on_what_the_critic_reads(tmp_path):
  corpus = _raw_corpus(tmp_path / "raw")
  manifest = critic_sft.build_sft_set(corpus, tmp_path / "sft", critics.make_critic(builtin_config.get_config()),
                                      prompt_template=critic_sft.PROMPT_TEMPLATE, max_document_chars=1000,
                                      heldout_fraction=0.2)
  raw = {r["id"]: r for p in shards.list_shards(corpus) for r in map(json.loads, shards.read_shard(p))}
  sft = [json.loads(b) for p in shards.list_shards(tmp_path / "sft") for b in shards.read_shard(p)]
  heldout = {i for i, r in raw.items() if critic_sft.is_heldout(r, 0.2)}
  assert 0 < len(heldout) < len(raw) and manifest["heldout_for_critic_eval"] == len(heldout)
  assert {r["id"] for r in sft} == set(raw) - heldout and manifest["verifier_failures"] == 0
  for record in sft:
    seen = critic_sft.visible(raw[record["id"]], 1000)
    assert record["prompt"] == fill_prompt(critic_sft.PROMPT_TEMPLATE, seen) and len(seen["text"]) <= 1000
    critique, score = parse_reply(record["text"])  # the served client reads the response back
    assert score == round(record["meta"]["score"], 2) and critique
    reasoning = record["text"].split("</think>")[0]
    assert reasoning.startswith("<think>") and len(reasoning) > len("<think>") + 10
  math = next(r for r in sft if r["domain"] == "math" and r["meta"]["flaw"] == "wrong_step")
  assert ": wrong." in math["text"] and "Step 1 needs" in math["text"]  # the recomputed steps
  assert any(len(raw[r["id"]]["text"]) > 1000 for r in sft)  # a long text, judged on its first 1000 characters
  code = next(r for r in sft if r["domain"] == "code")
  assert "Ran " in code["text"] and " tests: " in code["text"]  # the test outcomes
  text = next(r for r in sft if r["domain"] == "text")
  assert "characters;" in text["text"] and "stray" in text["text"]  # the measured signals
  # cached: a second call leaves the set as it is
  assert critic_sft.build_sft_set(corpus, tmp_path / "sft", None, prompt_template="", max_document_chars=0,
                                  heldout_fraction=0.2) == manifest


def test_card_counts_agreement_per_domain_and_flaw_kind_beside_the_majority_class():
  records = [{"id": str(i), "domain": d, "meta": {"flaw": f}} for i, (d, f) in enumerate(
      [("code", None), ("code", None), ("code", "off_by_one"), ("code", "off_by_one"), ("text", "noise"), ("text", None)])]
  verifier = {"0": 1.0, "1": 1.0, "2": 0.2, "3": 0.4, "4": 0.5, "5": 1.0}
  critic = {"0": 1.0, "1": 0.6, "2": 0.0, "4": 1.0, "5": 1.0}  # "3": a failure
  majority = critic_card.majority_flawed({"code": [1.0, 1.0, 0.5], "text": [0.0, 0.1, 1.0]})
  assert majority == {"code": False, "text": True}
  card = critic_card.verdicts(records, verifier, critic, majority)
  code = card["domains"]["code"]
  assert code["critic"] == {"records": 3, "flawed": 1, "called_flawed": 2, "precision": 0.5, "recall": 1.0,
                            "accuracy": 2 / 3}
  assert code["majority_class"]["recall"] == 0.0 and code["majority_class"]["precision"] is None
  assert card["domains"]["text"]["majority_class"]["recall"] == 1.0
  assert card["flaw_kinds"]["text/noise"]["recall"] == 0.0 and card["flaw_kinds"]["code/off_by_one"]["records"] == 1
  bins = card["calibration"]["bins"]
  assert sum(b["records"] for b in bins) == 5 and bins[-1]["records"] == 3 and bins[0]["mean_verifier_score"] == 0.2
  summary = {"records": 6, "judged": 6, "failures": {"count": 1, "by_reason": {"unparsable reply: x": 1}},
             "generated_tokens": 120, "tokens": 720, "records_per_s": 3.0, "annotation_flops": 1440.0}
  cost = critic_card.cost(summary, concurrency=4)
  assert cost["parse_failure_rate"] == 1 / 6 and cost["generated_tokens_per_record"] == 20
  assert cost["prompt_tokens_per_record"] == 100 and cost["concurrency"] == 4
  text = critic_card.describe({"critic": {"name": "c", "n_params": 10, "training_tokens": 5, "training_seconds": 1.0},
                               "verdicts": card, "cost": cost})
  assert "code/off_by_one" in text and "majority class" in text and "16.7%" in text


def test_corpus_verdicts_of_an_annotation_with_reversed_verdicts_agree_by_the_share_kept(tmp_path):
  """The dose-response's x for a model critic: its agreement with the verifiers over the corpus, which
  for an annotation with a share of verdicts reversed is 1 - that share."""
  corpus = _raw_corpus(tmp_path / "raw", math=40, code=20, text=20)
  annotate_directory(corpus, tmp_path / "plain", critics.make_critic(builtin_config.get_config()), show_progress=False)
  flipped = builtin_config.get_config()
  flipped.flip_fraction = 0.25
  annotate_directory(corpus, tmp_path / "flipped", critics.make_critic(flipped), show_progress=False)
  plain, reversed_ = critic_card.annotated_scores(tmp_path / "plain"), critic_card.annotated_scores(tmp_path / "flipped")
  assert set(plain) == set(reversed_) and len(plain) == 80
  share = sum(critic_card.flawed(plain[i]) != critic_card.flawed(reversed_[i]) for i in plain) / len(plain)
  assert 0.1 < share < 0.4
  verdicts = critic_card.corpus_verdicts(corpus, tmp_path / "plain", tmp_path / "flipped")
  assert verdicts["all"]["records"] == 80 and verdicts["all"]["accuracy"] == pytest.approx(1 - share)
  assert critic_card.corpus_verdicts(corpus, tmp_path / "plain", tmp_path / "plain")["all"]["accuracy"] == 1.0


class _RewardServer(http.server.BaseHTTPRequestHandler):
  """vLLM's /classify and /pooling shapes: the score is the share of the letter 'a' in the input."""

  def log_message(self, *args):
    pass

  def do_POST(self):  # pylint: disable=invalid-name
    request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
    text = request["input"]
    good = text.count("a") / len(text)
    usage = {"prompt_tokens": len(text), "total_tokens": len(text), "completion_tokens": 0}
    if "broken" in text:
      payload = {"object": "error"}
    elif self.path == "/classify":
      payload = {"id": "classify-1", "object": "list", "created": 0, "model": request["model"], "usage": usage,
                 "data": [{"index": 0, "label": "good", "probs": [1 - good, good], "num_classes": 2}]}
    else:  # a reward model's per-token rewards: the last is the document's
      payload = {"id": "pool-1", "object": "list", "created": 0, "model": request["model"], "usage": usage,
                 "data": [{"index": 0, "object": "pooling", "data": [[0.0], [-5.0], [0.0 if good > 0.5 else -2.0]]}]}
    body = json.dumps(payload).encode()
    self.send_response(200)
    self.send_header("Content-Type", "application/json")
    self.send_header("Content-Length", str(len(body)))
    self.end_headers()
    self.wfile.write(body)


@pytest.fixture
def reward_server():
  httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RewardServer)
  threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
  yield f"http://127.0.0.1:{httpd.server_address[1]}"
  httpd.shutdown()
  httpd.server_close()


def test_score_only_critic_turns_a_served_score_into_a_templated_critique(reward_server, tmp_path):
  config = score_only_config.get_config()
  config.score_only.base_url, config.score_only.n_params = reward_server, 1000
  config.score_only.critique_template = "Reward {score:.2f} for this {domain} text."
  records = [{"id": "a", "domain": "text", "text": "aaab"}, {"id": "b", "domain": "math", "text": "bbbb"},
             {"id": "c", "domain": "text", "text": "broken"}]
  classify = critics.make_critic(config)([*records])
  assert classify[0] == Feedback("Reward 0.75 for this text text.", 0.75, "score_only:critic", 4, 0)
  assert classify[1].score == 0.0 and classify[1].critique == "Reward 0.00 for this math text."
  assert isinstance(classify[2], Failure) and "not a classify response" in classify[2].reason
  config.score_only.endpoint = "pooling"
  pooling = critics.make_critic(config)(records[:2])
  assert pooling[0].score == 0.5 and abs(pooling[1].score - 1 / (1 + 2.718281828 ** 2)) < 1e-6
  shards.write_shard(tmp_path / "raw" / "r-00000-of-00001.jsonl", records[:2])
  summary = annotate_directory(tmp_path / "raw", tmp_path / "out", critics.make_critic(config), show_progress=False)
  assert summary["annotated"] == 2 and summary["annotation_flops"] == 2 * 1000 * 8  # prompt tokens only
  for field, value in (("endpoint", "score"), ("squash", "tanh"), ("critique_template", "{rating}")):
    bad = score_only_config.get_config()
    bad.score_only[field] = value
    with pytest.raises(ConfigError, match=f"config.score_only.{field}"):
      critics.make_critic(bad)


def test_a_run_is_charged_its_share_of_the_annotation_compute_of_its_data(tmp_path):
  for name, flops in (("a", 600.0), ("b", None)):
    shards.write_manifest(tmp_path / name, {"records": 100, "shards": [],
                                            **({"annotation_flops": flops} if flops else {})})
  dirs = [str(tmp_path / "a"), str(tmp_path / "b")]
  assert annotation_cost.annotation_flops(dirs, documents_read=50) == 600.0 * 50 / 200
  assert annotation_cost.annotation_flops(dirs, documents_read=1000) == 600.0  # read twice, annotated once
  assert annotation_cost.annotation_flops([str(tmp_path / "b")], documents_read=50) == 0.0


def test_the_trained_critic_config_names_what_is_missing(tmp_path):
  with pytest.raises(ConfigError, match="RUN_DIR"):
    critic_config.get_config("")
  with pytest.raises(ConfigError, match="not a finished run"):
    critic_config.get_config(str(tmp_path))
