"""Annotation: critics that write a critique and a score for every training document.

Knows nothing of JAX.
"""
from ixt_jax.feedback.champ import champ_records
from ixt_jax.feedback.critic import Critic, Failure, Feedback

__all__ = ["champ_records", "Critic", "Failure", "Feedback"]
