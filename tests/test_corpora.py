"""Built-in corpora: deterministic, prefix-stable, well-formed, with the flaws they claim."""
import ast
import json
import re
import subprocess
import sys

import pytest
from etils import epath

from configs.data import builtin
from ixt_jax.data import shards
from ixt_jax.data.corpora import DOMAINS, generate, math_problems, writer

REPO = epath.Path(__file__).parent.parent


def _small_config(seed=0):
  config = builtin.get_config()
  config.seed = seed
  config.math.count, config.code.count, config.text.count = 60, 40, 30
  return config


def _shard_bytes(directory):
  return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.suffix == ".jsonl"}


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path):
  for name, seed in (("a", 1), ("a", 0), ("b", 0), ("c", 1)):  # "a" is rewritten in place
    writer.write_builtin(tmp_path / name, _small_config(seed), "jsonl")
  a, b, c = (_shard_bytes(tmp_path / n) for n in "abc")
  assert a == b and len(a) == 6
  assert all(a[name] != c[name] for name in a)


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_smaller_corpus_is_a_prefix_of_a_larger_one(domain):
  assert generate(domain, 10, seed=3) == generate(domain, 25, seed=3)[:10]


def test_math_records_recompute_to_their_answer_and_flaws_match_the_text():
  records = generate("math", 400, seed=5, flaw_fraction=0.5)
  assert len({r["id"] for r in records}) == 400
  assert 150 < sum(r["meta"]["flaw"] is not None for r in records) < 250
  assert {r["meta"]["flaw"] for r in records} == {None, *math_problems.FLAWS}
  assert len({r["meta"]["template"] for r in records}) >= 10
  for r in records:
    meta = r["meta"]
    values = math_problems.solve(meta["quantities"], meta["steps"])
    assert values[f"s{len(meta['steps'])}"] == meta["answer"]
    stated = int(re.search(r"\nAnswer: (\d+)$", r["text"])[1])
    assert (stated == meta["answer"]) == (meta["flaw"] is None), r["text"]


def test_code_records_pass_their_own_tests_iff_clean():
  records = generate("code", 200, seed=2, flaw_fraction=0.5)
  assert len({r["meta"]["entry_point"] for r in records}) >= 40  # many templates and name variants
  for r in records:
    namespace = {}
    exec(r["text"], namespace)  # our own generated functions
    passes = all(_passes(t, namespace) for t in r["meta"]["tests"])
    assert passes == (r["meta"]["flaw"] is None), r["text"]
    assert f"def test_{r['meta']['entry_point']}():" in r["text"]
    assert r["meta"]["flaw"] in (None, "off_by_one", "wrong_operator", "wrong_return")


def _passes(test, namespace):
  try:
    return eval(test["call"], namespace) == ast.literal_eval(test["expected"])
  except Exception:  # pylint: disable=broad-except
    return False


def test_text_records_are_bounded_stdlib_chunks_and_clean_code_parses():
  records = generate("text", 300, seed=0, max_chars=1500)
  assert {r["meta"]["kind"] for r in records} == {"prose", "code"}
  for r in records:
    flaw = r["meta"]["flaw"]
    if flaw is None:
      assert 200 <= len(r["text"]) <= 1500
    if flaw is None and r["meta"]["kind"] == "code":
      ast.parse(r["text"])
    if flaw == "syntax_error":
      with pytest.raises(SyntaxError):
        ast.parse(r["text"])
  assert generate("text", 5, seed=0) != generate("text", 5, seed=1)


def test_invalid_config_names_the_field(tmp_path):
  config = _small_config()
  config.code.flaw_fraction = 1.5
  with pytest.raises(ValueError, match=r"config\.code\.flaw_fraction"):
    writer.write_builtin(tmp_path, config, "jsonl")
  config = _small_config()
  config.text.shards = 0
  with pytest.raises(ValueError, match=r"config\.text\.shards"):
    writer.write_builtin(tmp_path, config, "jsonl")


def test_entry_point_writes_shards_and_manifest_without_importing_jax(tmp_path):
  out = tmp_path / "corpus"
  script = f"""
import sys
from absl import app
from experiments import corpus
import ixt_jax.feedback  # the annotation side must stay free of JAX too

def main(argv):
  corpus.main(argv)
  heavy = [m for m in sys.modules if m.split(".")[0] in ("jax", "flax", "tensorflow")]
  assert not heavy, heavy

sys.argv = ["corpus", "--out={out}", "--format=arrayrecord", "--config=configs/data/builtin.py",
            "--config.math.count=30", "--config.code.count=20", "--config.text.count=10", "--config.text.shards=1"]
app.run(main)
"""
  subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO)
  manifest = shards.read_manifest(out)
  assert manifest["format"] == "arrayrecord" and manifest["stage"] == "corpus"
  assert manifest["records"] == 60 and manifest["domains"] == {"math": 30, "code": 20, "text": 10}
  records = [json.loads(b) for path in shards.list_shards(out) for b in shards.read_shard(path)]
  assert len(records) == 60 and {r["domain"] for r in records} == set(DOMAINS)


def test_actionable_flaw_regime_plants_only_flaws_a_small_model_can_produce_and_avoid():
  from ixt_jax.data.corpora import python_functions
  from ixt_jax.feedback.math_verifier import ANSWER_LINE, step_lines
  math = generate("math", 80, 0, flaw_fraction=0.7, flaws="wrong_answer")
  flawed = [r for r in math if r["meta"]["flaw"]]
  assert {r["meta"]["flaw"] for r in flawed} == {"wrong_answer"} and len(flawed) > 0.5 * len(math)
  for r in flawed:  # the answer disagrees with the last written step, which is right; the flawed line says so
    last = step_lines(r["text"])[-1]
    assert int(ANSWER_LINE.search(r["text"])[1]) != last[3] == r["meta"]["answer"]
    assert r["text"].splitlines()[r["meta"]["flaw_line"]].startswith("Answer:")
  code = generate("code", 80, 0, flaw_fraction=0.7, bug="fixed", exclude_templates="gcd,clamp")
  assert not {"gcd", "clamp"} & {r["meta"]["template"] for r in code}
  for template in {r["meta"]["template"] for r in code if r["meta"]["flaw"]}:  # one fixed bug per template
    kinds = {r["meta"]["flaw"] for r in code if r["meta"]["template"] == template and r["meta"]["flaw"]}
    assert len(kinds) == 1, (template, kinds)
  text = generate("text", 20, 0, flaw_fraction=1.0, flaws="noise")
  assert {r["meta"]["flaw"] for r in text} == {"noise"}
  assert generate("text", 5, 0, start=15)[0]["id"] == generate("text", 20, 0)[15]["id"]  # fresh records follow
  assert generate("math", 3, 0, start=80) == generate("math", 83, 0)[80:]
  with pytest.raises(ValueError, match="flaws='typo'"):
    generate("math", 3, 0, flaws="typo")
  assert python_functions.fixed_slot("{{a|b|off_by_one}} {{c|d|wrong_operator}}") == 1
