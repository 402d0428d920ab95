"""The critique a built-in critic writes for a flawless document: what evaluation conditions on."""
from ixt_jax.feedback import code_tests, math_verifier, text_quality
from ixt_jax.feedback.critic import choose

_APPROVALS = {
    "math": math_verifier.APPROVALS,
    "code": code_tests.APPROVALS,
    "text": text_quality.APPROVALS,
}


def _approvals(domain: str) -> tuple[str, ...]:
  if domain not in _APPROVALS:
    raise ValueError(f"no built-in critic for domain {domain!r}; expected one of {sorted(_APPROVALS)}")
  return _APPROVALS[domain]


def positive_critique(domain: str) -> str:
  """The first of the domain's approval phrasings (each appears verbatim in training critiques)."""
  return _approvals(domain)[0]


def approval(domain: str, record_id: str) -> str:
  """The approval phrasing the domain's built-in critic writes for this record."""
  return choose(_approvals(domain), record_id)
