"""Study v2 on accelerators: the same arms, controls and mid-training arm at 19M-280M parameters, on a
budget where math and code leave the floor (not run in this repository: no accelerator was lent).

  python -m experiments.study_v2 --config=configs/sweeps/accelerator_study.py --workdir=DIR --emit=slurm
  python -m experiments.study_v2 --config=configs/sweeps/accelerator_study.py --workdir=DIR --emit=shell

`--emit` builds and annotates the corpus and trains the tokenizer where it runs (CPU work), then writes
DIR/runs.tsv and DIR/mid.tsv with one line per run (train, then sample its steer set) as two Slurm job
arrays (the mid-training array waits for the first) or two shell scripts for a TPU VM or one GPU host;
once every run has finished, the same command without --emit writes the results.

Sizing, against the CPU study (~2e5 parameters, 2.5M tokens, math and code at the floor): 100-1,000x
the parameters and 160x the tokens. Every size trains 3,000 steps of 128 x 1,024 tokens (393M tokens,
about 1.5 passes over a 120k-record corpus, 40% math and 27% code): 6.4e16 / 2.4e17 / 7.8e17 FLOPs
per run at 20m / 125m / 350m (19M / 82M / 279M parameters with the 8,192-piece vocabulary), about 3 /
10 / 32 minutes on one H100/H200 at 400 TFLOP/s. The whole study (7 arms x 3 sizes x 3 seeds, plus 6
mid-training runs at 125m) is 2.3e19 FLOPs, about 16 GPU-hours at that rate.
"""

from configs.sweeps import study_v2


def get_config():
  c = study_v2.get_config()
  c.corpus = ("math.count=48000", "math.flaw_fraction=0.5", "math.flaws=wrong_answer",
              "code.count=32000", "code.flaw_fraction=0.5", "code.bug=fixed",
              "code.exclude_templates=caesar,clamp,evens,gcd,spread",
              "text.count=40000", "text.flaw_fraction=0.5", "text.flaws=noise")
  c.sizes = ("125m", "20m", "350m")  # the mid-training size first: its baselines finish first
  c.models = {s: {"size": s} for s in c.sizes}
  c.steps = 3000
  c.batch_size = 128
  c.seq_len = 1024
  c.lr_reference = 3e-3  # the pod example's rule: 3e-3 at 1e8 non-embedding parameters, ~N^-0.3
  c.n_reference = 1e8
  c.lr_exponent = 0.3
  c.overrides = ("data.vocab.size=8192", "model.compute_dtype=bfloat16", "model.attention=auto",
                 "train.eval_batch_size=64")
  c.mid.size = "125m"
  c.mid.steps = 750  # a quarter of pre-training
  c.mid.learning_rate = 1e-3
  c.dose.size = c.mid.size
  c.dose.seeds = c.seeds
  c.model_critic.size = c.mid.size
  c.domains = ("math", "code", "text")
  c.prompts = 128
  c.steer_tokens = 256
  c.slurm.directives = ("--time=04:00:00", "--nodes=1", "--gres=gpu:1")
  return c
