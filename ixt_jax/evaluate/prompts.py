"""Prompts laid out exactly as training lays out the start of a record: critique prefix, then text.

Training tokenizes a record's critique, prompt and document separately and joins the ids
(ixt_jax.data.examples), so a conditioned prompt is built by the same code, minus the end-of-document
token: what the model then generates is the document that training would have put there.
"""
from __future__ import annotations

from ixt_jax.data import conditions, examples, formatting, records

_NO_ROOM_LIMIT = 1 << 30  # one chunk, whatever the prompt's length


def prompt_ids(vocab, settings: formatting.FeedbackSettings, text: str, domain: str,
               critique: str | None, prompt: str | None = None, score: float = 1.0) -> list[int]:
  """Token ids of `critique` (None: no critique) before `text`, as in training.

  Args:
    vocab: the run's vocabulary.
    settings: the run's `FeedbackSettings.from_config(c.data)` (template, kind, placement).
    text: the start of the document to continue ('' to generate a whole response).
    domain: the document's domain (for a quality-token critique it does not matter).
    critique: the critique's text; the run's template is put around it (a quality-token run shows
      the quality token of `score` instead, whatever the text).
    prompt: a post-training prompt: the ids are then `<prompt> prompt <response> text`.
    score: the critique's score (what a quality-token run shows, as its quality token).
  """
  record = records.Record(id="prompt", text=text, domain=domain, critique=critique, score=score, prompt=prompt)
  return condition_prompt_ids(vocab, settings, record, "none" if critique is None else "true", conditions.Sources())


def condition_prompt_ids(vocab, settings: formatting.FeedbackSettings, record: records.Record, condition: str,
                         sources: conditions.Sources) -> list[int]:
  """Token ids of `record.text` (and its post-training prompt) under `condition`, as in training.

  The critique shown is `conditions.critique_shown(condition, record, ...)`: e.g. for 'negative'
  `sources.negative(record)`, the critique of the record's own problem with a planted flaw.
  """
  if condition != "none" and settings.placement == "suffix":
    raise ValueError("data.feedback.placement='suffix' trains the critique after the document, so "
                     "there is no critique to condition generation on: pass critique=None (condition 'none')")
  item = conditions.format_for_eval(record, settings, condition, sources)
  (element,) = examples.tokenize([item], vocab, _NO_ROOM_LIMIT)
  return element["tokens"][:-1].tolist()  # the end-of-document token closes the body
