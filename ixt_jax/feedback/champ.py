"""Human feedback: CHAMP's competition-math solutions with each one's first wrong step marked.

The `champ-dataset` package (installed with the `tasks` extra; nothing is downloaded) holds 270
problems, each with two model-written solutions (GPT-3.5, GPT-4, GPT-4 Turbo, PaLM 2 Medium) that a
human read and annotated with the solution's first wrong step, or none. Each annotated solution
becomes one record, 540 in all, post-training shaped: "prompt" is the problem, "text" the
solution, and the feedback is the human's verdict in words. Score: 1 for a solution with no wrong
step; otherwise half the share of the solution that comes before the first wrong step (so any
flawed solution scores below 0.5, one that goes wrong late more than one that goes wrong early).
"""
from __future__ import annotations

from typing import Any

from ixt_jax.feedback.critic import choose

CRITIC = "human:champ"
_QUOTE_CHARS = 300

_CORRECT = (
    "A human grader checked every step of this solution and found no mistake.",
    "Checked by a human grader: every step holds and the reasoning is sound throughout.",
    "A human read the whole solution and found no wrong step.",
)
_WRONG = (
    "A human grader marks the first wrong step: \"{step}\". Everything before it holds; from there on "
    "the reasoning cannot be trusted.",
    "The reasoning goes wrong at \"{step}\", according to a human grader; the steps before it are sound.",
    "First mistake, as marked by a human: \"{step}\". The solution is unreliable from that point.",
)


def _quote(step: str) -> str:
  step = " ".join(step.split())
  return step if len(step) <= _QUOTE_CHARS else step[:_QUOTE_CHARS - 3] + "..."


def champ_records() -> list[dict[str, Any]]:
  """Every human-annotated CHAMP solution as an annotated record, in a fixed order."""
  try:
    import champ_dataset  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError("CHAMP needs the champ-dataset package: pip install -e '.[tasks]'") from e
  dataset = champ_dataset.load("v0")
  records = []
  for problem_id in sorted(dataset.problems):
    problem = dataset.problems[problem_id]
    for key in sorted(problem.fws_annotations):
      annotation = problem.fws_annotations[key]
      solver, prompting = key.split("|")
      record_id = f"champ-{problem_id}-{solver}-{prompting}".replace(" ", "_").replace("/", "")
      if annotation.start_idx is None:
        critique, score = choose(_CORRECT, record_id), 1.0
      else:
        critique = choose(_WRONG, record_id).format(step=_quote(annotation.wrong_step()))
        score = 0.5 * annotation.start_idx / len(annotation.text)
      records.append({
          "id": record_id,
          "prompt": problem.text,
          "text": annotation.text,
          "domain": "math",
          "feedback": {"critique": critique, "score": score, "critic": CRITIC},
          "meta": {"source": "champ", "problem_id": problem_id, "category": problem.category,
                   "answer": problem.answer, "solver": solver, "prompting": prompting},
      })
  return records
