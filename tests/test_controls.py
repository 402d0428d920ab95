"""Controls that separate a critique's information from its extra tokens (shuffled, neutral), and filtering."""
import pytest

from ixt_jax.data import formatting, pipeline, records, vocab as vocab_lib
from ixt_jax.data.corpus import scan_corpus
from train_utils import make_corpus, tiny_config


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
  return make_corpus(tmp_path_factory.mktemp("controls") / "corpus", 90)


def _formatted(corpus_dir, control, donors="domain"):
  c = tiny_config(corpus_dir)
  c.data.feedback.control = control
  c.data.feedback.donors = donors
  vocab = vocab_lib.load_vocabulary(c.data)
  corpus = scan_corpus(c.data, vocab)
  settings = formatting.FeedbackSettings.from_config(c.data)
  reader = corpus.reader()
  domain_rows = corpus.domain_rows()
  return [pipeline.format_row(reader, corpus.train_refs, row, 0, settings, 0, domain_rows[corpus.train_domains[row]])
          for row in range(len(corpus.train_refs))]


def _domains(corpus_dir):
  c = tiny_config(corpus_dir)
  corpus = scan_corpus(c.data, vocab_lib.load_vocabulary(c.data))
  return [corpus.domains[d] for d in corpus.train_domains]


def _critique(template_text):
  return template_text.removeprefix("<critique>").removesuffix("</critique>")


@pytest.mark.parametrize("donors", ["domain", "any"])
def test_shuffled_control_shows_other_documents_critiques_from_the_same_pool(corpus_dir, donors):
  own, shuffled = _formatted(corpus_dir, ""), _formatted(corpus_dir, "shuffled", donors)
  assert [a.text for a in own] == [b.text for b in shuffled]  # same documents, same order
  moved = sum(a.critique != b.critique for a, b in zip(own, shuffled))
  assert moved > 0.8 * len(own)
  pool = {a.critique for a in own}
  assert all(b.critique in pool for b in shuffled)  # real critiques, of other documents
  domains = _domains(corpus_dir)
  domain_of = {}
  for a, domain in zip(own, domains):  # a critique's domain is its document's
    domain_of.setdefault(a.critique, set()).add(domain)
  same = [domain in domain_of[b.critique] for b, domain in zip(shuffled, domains)]
  assert all(same) if donors == "domain" else not all(same)


def test_neutral_control_is_as_long_as_the_critique_and_says_nothing(corpus_dir):
  own, neutral = _formatted(corpus_dir, ""), _formatted(corpus_dir, "neutral")
  for a, b in zip(own, neutral):
    original = _critique(a.critique)
    assert _critique(b.critique) == (formatting.NEUTRAL_FILLER * len(original))[:len(original)] != original


def test_unknown_control_is_named(corpus_dir):
  c = tiny_config(corpus_dir)
  c.data.feedback.control = "scrambled"
  with pytest.raises(ValueError, match="config.data.feedback.control='scrambled'"):
    pipeline.make_train_iterator(c.data, vocab_lib.load_vocabulary(c.data), batch_size=8, seed=0)


def _scan(corpus_dir, min_score):
  c = tiny_config(corpus_dir)
  c.data.train_min_score = min_score
  vocab = vocab_lib.load_vocabulary(c.data)
  corpus = scan_corpus(c.data, vocab)
  reader = corpus.reader()
  scores = [records.parse_record(reader.read(ref), require_feedback=True).score for ref in corpus.train_refs]
  return corpus, scores


def test_filtering_control_trains_only_on_approved_documents_and_keeps_the_heldout_split(corpus_dir):
  everything, all_scores = _scan(corpus_dir, -1.0)
  approved, kept_scores = _scan(corpus_dir, formatting.APPROVED_SCORE)
  assert min(all_scores) < formatting.APPROVED_SCORE  # the corpus has flawed documents to drop
  assert kept_scores and min(kept_scores) >= formatting.APPROVED_SCORE
  assert len(kept_scores) == sum(s >= formatting.APPROVED_SCORE for s in all_scores)
  assert [r.id for r in approved.heldout] == [r.id for r in everything.heldout]


def test_filtering_threshold_out_of_range_is_named(corpus_dir):
  c = tiny_config(corpus_dir)
  c.data.train_min_score = 1.5
  with pytest.raises(ValueError, match="config.data.train_min_score=1.5"):
    pipeline.make_train_iterator(c.data, vocab_lib.load_vocabulary(c.data), batch_size=8, seed=0)
