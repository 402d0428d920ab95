"""The information-use pilot: one size, one seed, a ladder of budgets, on a corpus a small model can act on.

  nice python -m experiments.pilot --config=configs/sweeps/pilot.py --workdir=runs/pilot \
      --results=experiments/results/pilot

Corpus (`actionable` regime): half the documents flawed, with flaws a ~100k-parameter model can both
produce and avoid: a final answer that disagrees with the last written step (math), each template's
one fixed one-token bug (code; 5 templates held out of training for fresh prompts), injected noise
(text). Annotated twice with the built-in verifiers: plainly, and with the give-away critique that
quotes the flawed line (the positive control).

At each budget (steps, ascending) the pilot trains the arms and samples them (experiments.evaluate's
steer set); it stops at the first budget where the give-away control's Delta exceeds `min_ratio`
standard errors and the baseline's flaw rate lies in `baseline_flaw` in every domain used.
"""
import ml_collections

from configs.sweeps.cpu_study import SIZES


def get_config():
  c = ml_collections.ConfigDict()
  c.corpus = ("math.count=6000", "math.flaw_fraction=0.5", "math.flaws=wrong_answer",
              "code.count=4000", "code.flaw_fraction=0.5", "code.bug=fixed",
              "code.exclude_templates=caesar,clamp,evens,gcd,spread",
              "text.count=1000", "text.flaw_fraction=0.5", "text.flaws=noise")
  c.size = "s1"
  c.model = SIZES[c.size]
  c.seed = 0
  c.batch_size = 8
  c.seq_len = 256
  c.learning_rate = 1e-2
  c.steps = (1200,)  # the budget ladder, tried in order (one rung: the machine allows ~40 min)
  # Arm -> (annotation: plain | giveaway, overrides of experiments.launch's config).
  c.arms = ml_collections.ConfigDict({
      "baseline": ("plain", ()),
      "ixt_giveaway": ("giveaway", ()),
      "ixt_quality_token": ("plain", ("data.feedback.kind=quality_token",)),
      "ixt_quality_token_shuffled": ("plain", ("data.feedback.kind=quality_token", "data.feedback.control=shuffled")),
      "baseline_filtered": ("plain", ("data.feedback.placement=none", "data.train_min_score=1.0")),
  })
  c.gate_arms = ("baseline", "ixt_giveaway")  # trained first: the budget is chosen on them alone
  c.domains = ("math", "code", "text")
  c.prompts = 32
  c.samples = 4
  c.steer_tokens = 128
  c.bootstrap = 1000
  c.min_ratio = 5.0
  c.baseline_flaw = (0.2, 0.8)
  return c
