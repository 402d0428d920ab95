"""Study v2: does the model read its feedback? The pilot's corpus, budget and steer set, every arm at
two sizes with 3 seeds, and a mid-training arm.

  nice python -m experiments.study_v2 --config=configs/sweeps/study_v2.py --workdir=runs/study_v2 \
      --results=experiments/results/study_v2

Corpus and budget: the pilot's (configs/sweeps/pilot.py): 1200 steps of 8 x 256 tokens, the actionable
corpus annotated by the built-in verifiers (annotation compute 0). Every arm at a size trains the same
steps on the same batch shape, so every arm at a size has the same FLOPs and tokens (checked by
tests/test_study_v2_results.py). Learning rate: the pilot's 1e-2 at s1, scaled to other sizes by the
v1 study's fitted exponent (lr ~ N^-0.309, experiments/results/cpu_study), the same for every arm.

Steering: text only. In the pilot math and code sat at the floor (baseline flaw rate 0.98 and 1.0 at
s1) and only text lay in the range where a critique can move it, so v2 spends its sampling there, on 3x
the pilot's prompts. configs/sweeps/accelerator_study.py samples all three domains at sizes where math
and code leave the floor.
"""
import ml_collections

from configs.sweeps import pilot
from configs.sweeps.cpu_study import SIZES

QUALITY_TOKEN = "data.feedback.kind=quality_token"
SHUFFLED = "data.feedback.control=shuffled"
# v1's rule lr(N) = lr_reference (N / n_reference)^-LR_EXPONENT, anchored at the pilot's s1 optimum.
LR_EXPONENT = 0.309
DOSE_FRACTIONS = (0.1, 0.25, 0.5)


MODEL_CRITIC = "critic"  # the model critic's annotation, and the suffix of the arms trained on it


def dose_annotation(fraction: float) -> str:
  """The annotation (and arm suffix) with `fraction` of the verdicts reversed: flip10, flip25, ..."""
  return f"flip{round(100 * fraction)}"


def get_config():
  c = ml_collections.ConfigDict()
  p = pilot.get_config()
  c.corpus = p.corpus
  c.sizes = ("s1", "s0")  # the pilot's size first: its runs are the ones the mid-training arm continues
  c.models = {s: SIZES[s] for s in c.sizes}
  c.seeds = (0, 1, 2)
  c.steps = p.steps[0]
  c.batch_size = p.batch_size
  c.seq_len = p.seq_len
  c.lr_reference = p.learning_rate
  c.n_reference = 98_624.0  # s1's non-embedding parameters
  c.lr_exponent = LR_EXPONENT
  c.overrides = ()  # for every run, before the arm's own
  # Arm -> (annotation: plain | giveaway, overrides of experiments.launch's config).
  c.arms = ml_collections.ConfigDict({
      "baseline": ("plain", ()),
      "baseline_filtered": ("plain", ("data.feedback.placement=none", "data.train_min_score=1.0")),
      "ixt_quality_token": ("plain", (QUALITY_TOKEN,)),  # the primary arm: the one-token verdict
      "ixt_quality_token_shuffled": ("plain", (QUALITY_TOKEN, SHUFFLED)),
      "ixt_critique": ("plain", ()),  # natural-language critiques
      "ixt_critique_shuffled": ("plain", (SHUFFLED,)),
      "ixt_giveaway": ("giveaway", ()),  # the positive control
  })
  # Annotations beside the plain one: name -> overrides of configs/annotate/builtin.py.
  c.annotations = {"giveaway": ("giveaway=True",),
                   **{dose_annotation(f): (f"flip_fraction={f}",) for f in DOSE_FRACTIONS}}
  # Critic quality, dose-response: `arms` at `size` trained on annotations with a share of the verdicts
  # reversed (0 is the arm itself); a model critic of measured agreement sits on this curve.
  # One seed per point on CPU (the 2.5-hour budget); the 0 point has the arm's 3 seeds.
  c.dose = ml_collections.ConfigDict({"size": "s1", "arms": ("ixt_quality_token", "ixt_critique"),
                                      "fractions": DOSE_FRACTIONS,
                                      "seeds": (0,)})
  # IXT on a model critic's annotations: `arms` at `size` trained on the corpus as annotated by the
  # critic trained in `run_dir` (python -m experiments.critic), served on loopback and called through
  # the served client (configs/annotate/critic.py) with `concurrency` requests in flight. Its agreement
  # with the verifiers over the corpus places these runs on the dose-response curve. '' = none.
  c.model_critic = ml_collections.ConfigDict({"run_dir": "", "size": "s1", "arms": ("ixt_critique",),
                                              "seeds": (0, 1, 2), "concurrency": 32})
  # Mid-training: each seed's pre-trained baseline at `size` continued `steps` more steps with IXT
  # and, at equal compute, with the baseline objective.
  c.mid = ml_collections.ConfigDict({
      "size": "s1",
      "from_arm": "baseline",
      "steps": 400,
      "learning_rate": 3e-3,
      "arms": {"baseline": ("plain", ()),
               "ixt_quality_token": ("plain", (QUALITY_TOKEN,))},
  })
  c.domains = ("text",)
  c.prompts = 96
  c.samples = 4
  c.steer_tokens = 128
  c.bootstrap = 1000
  c.jobs = 2  # runs in flight here: two processes use 2 cores ~1.3x better than one
  c.slurm = ml_collections.ConfigDict({"directives": ("--time=02:00:00",), "setup": (), "max_parallel": 0})
  return c
