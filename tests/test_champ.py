"""CHAMP human feedback becomes valid annotated post-training records."""
import collections

from ixt_jax.feedback.champ import CRITIC, champ_records


def test_every_annotated_champ_solution_becomes_a_valid_record():
  records = champ_records()
  assert len(records) == 540 and len({r["id"] for r in records}) == 540  # 270 problems x 2 solutions
  per_problem = collections.Counter(r["meta"]["problem_id"] for r in records)
  assert len(per_problem) == 270 and set(per_problem.values()) == {2}
  for r in records:
    assert r["domain"] == "math" and r["prompt"].strip() and r["text"].strip()
    feedback = r["feedback"]
    assert set(feedback) == {"critique", "score", "critic"} and feedback["critic"] == CRITIC
    assert 0.0 <= feedback["score"] <= 1.0 and feedback["critique"].strip()
  flawless = [r for r in records if r["feedback"]["score"] == 1.0]
  flawed = [r for r in records if r["feedback"]["score"] < 1.0]
  assert len(flawless) == 96 and all(r["feedback"]["score"] < 0.5 for r in flawed)
  # the critique quotes the human-marked first wrong step, which is a passage of the solution
  quoted = flawed[0]["feedback"]["critique"].split('"')[1].rstrip(".")
  assert quoted[:40] in " ".join(flawed[0]["text"].split())
  assert champ_records() == records  # a fixed order
