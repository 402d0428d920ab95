"""The shipped CPU study: IXT (prefix critiques, and its conditioning-cooldown variant) vs the baseline.

Three parts, each a sweep of its own (`python -m experiments.study` runs them in order and resumes):

  lr        the learning-rate sweep that fixes the rule: sizes s1 and s3 at C=3e12, both methods, 4
            learning rates 2e-3..3e-2, one sweep each (`--config.rules.lr_reference=...`, exponent 0)
  grid      5 sizes (56k-1.4M non-embedding parameters) x 3 IsoFLOP budgets (1e12, 3e12, 9e12 FLOPs) x
            (ixt, ixt_cooldown, baseline), seeds 1 and 2 as well at s2/C3e12 and s3/C3e12: 57 runs.
            s0 joined after a first fit: with s1 the smallest, every budget's best size was the smallest,
            and an IsoFLOP minimum must be bracketed to be measured
  controls  critique placement, dropout, loss weight, quality token, 15% annotated, shuffled critiques,
            a neutral prefix, and filtering, at s2/C3e12, 3 seeds each (ixt and baseline there are the
            grid's own runs)

Every part trains on the same built-in mixed corpus (`corpus`: math with planted mistakes, code with
planted bugs, real text), batch 8 x 256 tokens, warmup 10% of the steps, cosine to 10%.

  python -m experiments.study --config=configs/sweeps/cpu_study.py --workdir=runs/cpu_study
"""
from configs.sweeps import common

PARTS = ("lr", "grid", "controls")


def _size(d_model: int, n_layers: int, n_heads: int, n_kv_heads: int, head_dim: int, d_ff: int) -> dict:
  # Shape overrides of the ladder's 1m entry (d_model 128, 4 layers), the study's s3.
  return {"size": "1m", "d_model": d_model, "n_layers": n_layers, "n_heads": n_heads, "n_kv_heads": n_kv_heads,
          "head_dim": head_dim, "d_ff": d_ff}


SIZES = {
    "s0": _size(48, 2, 4, 2, 12, 144),
    "s1": _size(64, 2, 4, 2, 16, 192),
    "s2": _size(96, 3, 4, 2, 24, 256),
    "s3": {"size": "1m"},
    "s4": _size(160, 5, 5, 1, 32, 448),
}

# Method name -> overrides. Controls are methods of their own (a run's summary.json names its method).
CONTROLS = {
    "ixt_suffix": ("data.feedback.placement=suffix",),  # critique after the document (trained on)
    "ixt_dropout50": ("data.feedback.dropout=0.5",),  # half the documents shown without critique
    "ixt_critique_loss": ("data.feedback.weight.critique=1.0",),  # prefix critique tokens trained on too
    "ixt_quality_token": ("data.feedback.kind=quality_token",),  # <quality_k> instead of the critique text
    "ixt_annotated15": ("data.feedback.annotated_fraction=0.15",),  # only 15% of documents annotated
    "ixt_shuffled": ("data.feedback.control=shuffled",),  # another document's critique: no information
    "ixt_neutral": ("data.feedback.control=neutral",),  # a prefix of the same length that says nothing
    "baseline_filtered": ("data.feedback.placement=none", "data.train_min_score=0.5"),  # approved only
}


def get_config(arg: str = "grid"):
  if arg not in PARTS:
    raise ValueError(f"cpu_study part {arg!r}: expected one of {PARTS}")
  c = common.get_sweep_config()
  c.seq_len = 256
  c.sizes = SIZES
  c.compute_budgets = (1e12, 3e12, 9e12)
  # Written by experiments.study: the rule fitted to the `lr` part; these are the lr part's defaults.
  c.rules.update({"lr_reference": 5e-3, "lr_exponent": 0.0, "n_reference": 98624, "batch_reference": 8,
                  "batch_multiple": 8, "warmup_fraction": 0.1})
  c.methods = {"ixt": (), "ixt_cooldown": ("train.conditioning_cooldown=0.2",), "baseline": ()}
  # Pinned to what the committed results were trained with: the critique before every chunk, and
  # shuffled critiques drawn from any record.
  c.overrides = ("train.eval_batch_size=32", "data.feedback.repeat=every", "data.feedback.donors=any")
  c.log_every = 100
  c.checkpoint_every = 500
  c.fit.bootstrap = 1000
  # The corpus every part trains on: ~25k records, ~6M tokens (experiments.corpus overrides).
  c.corpus = ("math.count=12000", "code.count=8000", "text.count=5000")
  c.lr_sweep = {"learning_rates": (2e-3, 5e-3, 1.25e-2, 3e-2)}
  c.study_point = "s2/C3e12"  # where the controls run and seed noise is measured
  if arg == "lr":
    c.sizes = {label: SIZES[label] for label in ("s1", "s3")}
    c.compute_budgets = (3e12,)
    c.methods = {"ixt": (), "baseline": ()}
  elif arg == "grid":
    c.extra_seeds = (1, 2)
    c.extra_seed_points = ("s2/C3e12", "s3/C3e12")
  else:  # controls: at the study point only; ixt and baseline there are the grid's own runs (same names)
    c.sizes = {"s2": SIZES["s2"]}
    c.compute_budgets = (3e12,)
    c.methods = {"ixt": (), "baseline": (), **CONTROLS}
    c.extra_seeds = (1, 2)  # every control with 3 seeds, like ixt and baseline there
    c.extra_seed_points = (c.study_point,)
  return c
