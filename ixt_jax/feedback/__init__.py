"""Annotation: critics that write a critique and a score for every training document.

Knows nothing of JAX. Entry points for other stages:
  annotate_directory(input_dir, output_dir, critic, ...)  raw shards -> annotated shards + summary
  make_critic(config)                                      built-in verifiers or a served model
  positive_critique(domain)                                the critique evaluation conditions on
  run_python(source, timeout_s, memory_mb)                 the sandbox (code pass@1, HumanEval)
  champ_records()                                          human-annotated CHAMP solutions
"""
from ixt_jax.feedback.annotate import annotate_directory
from ixt_jax.feedback.champ import champ_records
from ixt_jax.feedback.critic import Critic, Failure, Feedback
from ixt_jax.feedback.critics import make_critic
from ixt_jax.feedback.positive import positive_critique
from ixt_jax.feedback.sandbox import SandboxResult, run_python

__all__ = ["annotate_directory", "champ_records", "Critic", "Failure", "Feedback", "make_critic",
           "positive_critique", "SandboxResult", "run_python"]
