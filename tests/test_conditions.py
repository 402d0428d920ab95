"""Each condition formats as specified: what a model is scored, sampled and served under."""
import pytest

from ixt_jax.data import conditions, formatting, records
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.evaluate.steer import negatives
from ixt_jax.evaluate.steer_prompts import make_prompts
from ixt_jax.feedback import code_tests
from ixt_jax.feedback.critics import BuiltinCritic
from ixt_jax.feedback.giveaway import GiveawayCritic
from train_utils import tiny_config

CORPUS = {"seed": 3, "math": {"count": 50, "flaws": "wrong_answer"},
          "code": {"count": 50, "bug": "fixed", "exclude_templates": "gcd,clamp,evens,spread,caesar"},
          "text": {"count": 20, "flaws": "noise", "max_chars": 2000, "min_chars": 200}}
APPROVAL = "Every step checks out."


def _settings(**feedback):
  c = tiny_config("unused")
  for key, value in feedback.items():
    c.data.feedback[key] = value
  return formatting.FeedbackSettings.from_config(c.data)


def _record(i, domain="math", critique="Step 2 is wrong."):
  return records.Record(f"r{i}", f"Problem {i}", domain, critique=critique + f" ({i})", score=0.5)


def _sources():
  pool = {"math": [_record(i) for i in range(5)], "code": [_record(i, "code") for i in range(5, 8)]}
  return conditions.Sources(positive=lambda domain: f"{APPROVAL} ({domain})",
                            negative=lambda r: (f"Negative for {r.id}", 0.25), donors=pool, seed=1)


def test_each_condition_shows_its_critique_in_the_trained_template():
  settings, sources, record = _settings(), _sources(), _record(0)
  shown = {k: conditions.critique_shown(k, record, settings, sources) for k in conditions.CONDITIONS}
  assert shown["none"] == ""
  assert shown["true"] == "<critique>Step 2 is wrong. (0)</critique>"
  assert shown["positive"] == f"<critique>{APPROVAL} (math)</critique>"
  assert shown["negative"] == "<critique>Negative for r0</critique>"
  donor = conditions.donor(record, sources)
  assert shown["shuffled"] == f"<critique>{donor.critique}</critique>" != shown["true"]
  item = conditions.format_for_eval(record, settings, "negative", sources)
  assert (item.critique, item.text, item.document_weight, item.critique_weight) == (shown["negative"], "Problem 0", 1, 0)
  with pytest.raises(ValueError, match="condition='sideways'"):
    conditions.critique_shown("sideways", record, settings, sources)


def test_shuffled_donors_share_the_domain_and_are_never_the_record_itself():
  sources = _sources()
  for record in [_record(i) for i in range(5)] + [_record(i, "code") for i in range(5, 8)]:
    donor = conditions.donor(record, sources)
    assert donor.domain == record.domain and donor.id != record.id
  with pytest.raises(ValueError, match="domain 'text'"):
    conditions.donor(_record(9, "text"), sources)


def test_neutral_control_is_evaluated_under_its_own_filler():
  settings, sources, record = _settings(control="neutral"), _sources(), _record(0)
  for condition in ("true", "positive", "negative"):
    text = conditions.raw_critique(condition, record, settings, sources)[0]
    assert conditions.critique_shown(condition, record, settings, sources) == (
        f"<critique>{formatting.neutral_text(len(text))}</critique>")
  assert APPROVAL not in conditions.prefix_text("positive", "math", settings, sources)


def test_quality_token_positive_and_negative_differ_by_one_token_id():
  settings, sources, record = _settings(kind="quality_token"), _sources(), _record(0)
  vocab = vocab_lib.ByteVocabulary()
  positive = vocab.encode(conditions.prefix_text("positive", record, settings, sources))
  negative = vocab.encode(conditions.prefix_text("negative", record, settings, sources))
  assert len(positive) == len(negative) == 1 and positive != negative
  assert positive == [vocab.special_ids[vocab_lib.QUALITY_TOKENS[-1]]]


def test_every_arm_is_scored_under_the_condition_it_trained_with():
  c = tiny_config("unused")
  assert conditions.own_condition(c) == "positive" and "none" not in conditions.trained_conditions(c)
  c.data.feedback.dropout = 0.2
  assert "none" in conditions.trained_conditions(c)
  c.data.feedback.dropout = 0.0
  c.train.conditioning_cooldown = 0.2  # the cooldown ends training without critiques: its own condition
  assert conditions.own_condition(c) == "none"
  baseline = tiny_config("unused", method="baseline")
  assert conditions.own_condition(baseline) == "none" and conditions.trained_conditions(baseline) == ("none",)


@pytest.mark.parametrize("giveaway", [False, True])
def test_a_negative_is_the_critique_of_its_own_prompts_flawed_twin(giveaway):
  prompts = make_prompts(CORPUS, ("math", "code", "text"), 3)
  critic = BuiltinCritic(code_tests.CodeTestCritic())
  found = negatives(GiveawayCritic(critic) if giveaway else critic, prompts)
  for p in prompts:
    critique, score = found[p.id]
    assert score < 1
    if p.domain == "math":  # the same problem: its true answer and the flawed answer are named
      assert p.flawed["text"].startswith(p.prompt) and str(p.clean["meta"]["answer"]) in critique
      assert p.flawed["text"].splitlines()[-1].split()[-1] in critique
    if p.domain == "code":  # the same function: its tests are the prompt's
      assert p.flawed["meta"]["tests"] == p.clean["meta"]["tests"] and p.flawed["text"].startswith(p.prompt)
    if p.domain == "text":
      assert p.flawed["meta"]["source"] == p.clean["meta"]["source"] and p.clean["text"].startswith(p.prompt)
    assert ("The flawed line:" in critique) == giveaway
