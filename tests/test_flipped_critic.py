"""The flipped critic (a critic of known quality): the share of reversed verdicts, which ones, and the
annotate config's check of the fraction."""
import ml_collections
import pytest

from ixt_jax.errors import ConfigError
from ixt_jax.feedback import critics
from ixt_jax.feedback.critic import Feedback
from ixt_jax.feedback.flipped import FLAW_CLAIMS, FlippedCritic
from ixt_jax.feedback.positive import approval


class _Alternating:
  """Approves even-numbered records, flags odd ones."""
  name, n_params = "alternating", 0

  def describe(self):
    return {"name": self.name}

  def __call__(self, records):
    return [Feedback("ok" if int(r["id"]) % 2 == 0 else "bad", 1.0 if int(r["id"]) % 2 == 0 else 0.5, self.name)
            for r in records]


def test_flips_the_verdict_of_the_asked_share_of_records_and_only_theirs():
  records = [{"id": str(i), "domain": "math", "text": "x"} for i in range(4000)]
  inner = _Alternating()(records)
  flipped = FlippedCritic(_Alternating(), 0.25, seed=3)(records)
  changed = [i for i, (a, b) in enumerate(zip(inner, flipped)) if (a.score >= 1.0) != (b.score >= 1.0)]
  assert abs(len(changed) / len(records) - 0.25) < 0.03
  assert all(flipped[i] == inner[i] for i in set(range(len(records))) - set(changed))
  for i in changed:
    if inner[i].score >= 1.0:  # a real flaw's critique and score, borrowed from the batch
      assert (flipped[i].critique, flipped[i].score) == ("bad", 0.5)
    else:
      assert flipped[i].score == 1.0 and flipped[i].critique == approval("math", str(i))
  alone = FlippedCritic(_Alternating(), 1.0)([{"id": "0", "domain": "math", "text": "x"}])[0]
  assert (alone.critique, alone.score) in {(claim, 0.0) for claim in FLAW_CLAIMS["math"]}  # nothing to borrow
  assert FlippedCritic(_Alternating(), 0.25, seed=3)(records) == flipped  # the same records every time
  assert FlippedCritic(_Alternating(), 0.25, seed=4)(records) != flipped


def test_annotate_config_wraps_the_builtin_critic_and_refuses_a_bad_fraction():
  config = ml_collections.ConfigDict({"critic": "builtin", "unknown_domain": "text", "giveaway": False,
                                      "flip_fraction": 0.1, "flip_seed": 0,
                                      "code": {"timeout_s": 2.0, "memory_mb": 256, "records_per_sandbox": 8,
                                               "concurrency": 1}})
  critic = critics.make_critic(config)
  assert isinstance(critic, FlippedCritic) and critic.describe()["flip_fraction"] == 0.1
  config.flip_fraction = 1.5
  with pytest.raises(ConfigError, match="flip_fraction"):
    critics.make_critic(config)
