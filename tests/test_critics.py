"""Built-in critics: they find what was planted, name it, approve what is clean, and are not fooled."""
import re

import pytest

from ixt_jax.data.corpora import generate
from ixt_jax.feedback import positive_critique
from ixt_jax.feedback.code_tests import CodeTestCritic
from ixt_jax.feedback.critic import Failure, Feedback
from ixt_jax.feedback.critics import BuiltinCritic
from ixt_jax.feedback.math_verifier import MathVerifierCritic
from ixt_jax.feedback.text_quality import TextQualityCritic


def _without_label(record):
  """The record as a critic may see it: the planted-flaw label removed, to be sure it recomputes."""
  meta = {k: v for k, v in record["meta"].items() if k not in ("flaw", "flaw_step")}
  return {**record, "meta": meta}


def _written_steps(text):
  """(a, op, b, c) of every `a op b = c` in the text."""
  return [(int(m[1]), m[2], int(m[3]), int(m[4])) for m in re.finditer(r"(\d+) ([-+x/]) (\d+) = (-?\d+)", text)]


def test_math_verifier_flags_exactly_the_planted_records_and_names_the_step():
  records = generate("math", 1500, seed=11, flaw_fraction=0.4)
  results = MathVerifierCritic()([_without_label(r) for r in records])
  for record, feedback in zip(records, results):
    meta, critique = record["meta"], feedback.critique
    assert isinstance(feedback, Feedback)
    assert (feedback.score < 1.0) == (meta["flaw"] is not None), (record["text"], critique)
    if meta["flaw"] is None:
      assert feedback.score == 1.0
    elif meta["flaw"] == "wrong_step":
      k = meta["flaw_step"]
      a, op, b, written = _written_steps(record["text"])[k - 1]
      right = {"x": a * b, "+": a + b, "-": a - b, "/": a // b}[op]
      assert re.search(rf"\b[Ss]tep {k}\b", critique), critique
      assert all(str(n) in critique for n in (a, b, written, right)), critique
    elif meta["flaw"] == "wrong_answer":
      stated = int(record["text"].rsplit("Answer: ", 1)[1])
      assert str(stated) in critique and str(meta["answer"]) in critique, critique
      assert feedback.score == 0.5
    else:  # skipped_step: the critique shows a computation of the correct solution the text lacks
      values = _correct_values(meta)
      correct = [f"{values[s['left']]} {s['op']} {values[s['right']]} = {values['s%d' % k]}"
                 for k, s in enumerate(meta["steps"], 1)]
      assert any(eq in critique and eq not in record["text"] for eq in correct), (record["text"], critique)
  critiques = {f.critique for f in results if f.score == 1.0}
  assert len(critiques) >= 3 and positive_critique("math") in critiques  # several phrasings


def _correct_values(meta):
  from ixt_jax.data.corpora.math_problems import solve  # pylint: disable=g-import-not-at-top
  return solve(meta["quantities"], meta["steps"])


def test_math_verifier_scores_partial_credit_and_needs_its_ground_truth():
  record = generate("math", 1, seed=0, flaw_fraction=0.0)[0]
  critic = MathVerifierCritic()
  assert critic([record])[0].score == 1.0
  broken = {**record, "text": record["text"].replace("Step 1:", "Step 1: (no numbers)").split("\n")[0]}
  assert critic([broken])[0].score < 0.5
  assert isinstance(critic([{**record, "meta": {}}])[0], Failure)


def test_code_critic_catches_planted_bugs_and_passes_clean_functions():
  records = generate("code", 120, seed=4, flaw_fraction=0.5)
  results = CodeTestCritic(timeout_s=2.0, records_per_sandbox=40)([_without_label(r) for r in records])
  for record, feedback in zip(records, results):
    assert isinstance(feedback, Feedback), feedback
    assert (feedback.score < 1.0) == (record["meta"]["flaw"] is not None), (record["text"], feedback.critique)
    if feedback.score < 1.0:  # names the failing test: its call, and expected against got
      first = re.search(r"Test (\d+) fails: (.*?) (returns|raises)", feedback.critique)
      test = record["meta"]["tests"][int(first[1]) - 1]
      assert first[2] == test["call"] and test["expected"] in feedback.critique, feedback.critique


_HOSTILE = {
    "loops": "def f(x):\n    while True:\n        pass\n",
    "allocates": "def f(x):\n    blocks = []\n    while True:\n        blocks.append(bytearray(10**8))\n",
    "reads": "def f(x):\n    return open({path!r}).read()\n",
    "writes": "def f(x):\n    open('/work/ixt_sandbox_probe', 'w').write('escaped')\n    return 2\n",
    "forks": "import os\ndef f(x):\n    while True:\n        os.fork()\n",
}


def test_code_critic_is_not_fooled_by_hostile_code_and_neighbours_still_pass(tmp_path):
  secret = tmp_path / "secret.txt"
  secret.write_text("2")  # the answer the test expects: reading it would pass
  tests = [{"call": "f(1)", "expected": "2"}]
  good = {"id": "good", "domain": "code", "text": "def f(x):\n    return x + 1\n", "meta": {"tests": tests}}
  hostile = [{"id": name, "domain": "code", "text": src.format(path=str(secret)), "meta": {"tests": tests}}
             for name, src in _HOSTILE.items()]
  batch = [good, *hostile, good]
  results = CodeTestCritic(timeout_s=2.0, memory_mb=256, records_per_sandbox=10)(batch)
  by_id = dict(zip([r["id"] for r in batch[:-1]], results))
  assert results[0].score == 1.0 and results[-1].score == 1.0
  assert "did not finish within 2 s" in by_id["loops"].critique and by_id["loops"].score == 0.0
  assert "MemoryError" in by_id["allocates"].critique and by_id["allocates"].score == 0.0
  assert "FileNotFoundError" in by_id["reads"].critique and by_id["reads"].score == 0.0
  assert by_id["forks"].score == 0.0
  assert not __import__("os").path.exists("/work/ixt_sandbox_probe")
  # writing /work fails inside the sandbox, so f raises instead of returning 2
  assert by_id["writes"].score == 0.0 and "Error" in by_id["writes"].critique


def test_text_critic_flags_noise_repetition_and_broken_code():
  clean_code = "def add(a, b):\n    \"\"\"Return the sum of a and b.\"\"\"\n    total = a + b\n    return total\n"
  clean_prose = ("The standard library offers a wide range of facilities. It contains built-in modules that "
                 "provide access to system functionality such as file input and output.")
  cases = {
      "clean_code": (clean_code, None),
      "clean_prose": (clean_prose, None),
      "noisy": ("".join(ch if i % 9 else "\u00a4" for i, ch in enumerate(clean_prose)), "stray symbols"),
      "repetitive": (clean_code + "    print('the same line again')\n" * 5, "repeats"),
      "broken_code": ("import os\n\ndef add(a, b):\n    total = (a +\n    return total\n", "does not parse"),
      "short": ("Hi.", "too short"),
  }
  critic = TextQualityCritic()
  for name, (text, expected) in cases.items():
    feedback = critic([{"id": name, "text": text, "domain": "text"}])[0]
    if expected is None:
      assert feedback.score == 1.0, (name, feedback.critique)
    else:
      assert feedback.score < 1.0 and expected in feedback.critique, (name, feedback.critique)


def test_text_critic_on_the_stdlib_corpus_finds_most_planted_flaws_and_few_false_ones():
  records = generate("text", 600, seed=7, flaw_fraction=0.3)
  results = TextQualityCritic()(records)
  planted = [f.score < 1 for r, f in zip(records, results) if r["meta"]["flaw"]]
  clean = [f.score < 1 for r, f in zip(records, results) if not r["meta"]["flaw"]]
  assert sum(planted) >= 0.9 * len(planted) and sum(clean) <= 0.03 * len(clean)


def test_builtin_critic_routes_by_domain_and_unknown_domains_to_text_or_a_failure():
  records = [generate(d, 1, seed=0, flaw_fraction=0.0)[0] for d in ("math", "code", "text")]
  records.append({"id": "x", "text": "?", "domain": "poetry"})
  results = BuiltinCritic(CodeTestCritic())(records)
  assert [r.critic for r in results] == ["math-verifier", "code-tests", "text-quality", "text-quality"]
  assert [r.score for r in results[:3]] == [1.0, 1.0, 1.0]
  refused = BuiltinCritic(CodeTestCritic(), unknown_domain="fail")(records)[3]
  assert isinstance(refused, Failure) and "poetry" in refused.reason
  with pytest.raises(ValueError):
    positive_critique("poetry")
  assert Feedback("ok", 1.0, "c").as_record_field() == {"critique": "ok", "score": 1.0, "critic": "c"}
  with pytest.raises(ValueError):
    Feedback("ok", 1.5, "c")
