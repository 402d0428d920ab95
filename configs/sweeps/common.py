"""Every field of a sweep config, with its default; configs/sweeps/*.py start here and change fields.

A sweep is a grid of runs of one launch config (`launch_config`): sizes x budgets, per method and seed.
Every run is otherwise identical: the same documents in the same order for a seed, and learning rate,
batch and warmup from one rule per size (`rules`), the same for every method (see grid.Rules).
Overrides are 'a.b=value' strings, passed to experiments.launch as --config.a.b=value.
"""
import ml_collections


def get_sweep_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.launch_config = "configs/base.py"  # its variant keys (configs/common.py) set method, size, steps, seed, batch, data, vocab
  c.vocab = "sentencepiece"  # or byte
  c.seq_len = 256
  # Method name -> extra overrides of its runs. A control is a method of its own name whose overrides
  # set its feedback knobs; it runs at every grid point unless the grid is cut for it.
  c.methods = ml_collections.ConfigDict({"ixt": (), "baseline": ()})
  # Size label -> model fields: `size` (a name in ixt_jax.models.sizes.LADDER) and any shape override
  # (d_model, n_layers, n_heads, n_kv_heads, head_dim, d_ff).
  c.sizes = ml_collections.ConfigDict()
  c.token_budgets = ()  # D: every size trains D row tokens (critiques and padding included)
  c.compute_budgets = ()  # C: IsoFLOP profiles, every size trains C / FLOPs-per-token(N) tokens
  c.budget_tolerance = 0.05  # whole steps must meet each budget this closely
  c.seeds = (0,)  # at every grid point
  c.extra_seeds = ()  # and these too at extra_seed_points ('<size>/<budget>', e.g. '3m/C1e13')
  c.extra_seed_points = ()
  # lr = lr_reference * (N / n_reference)^-lr_exponent; batch = batch_reference * (N / n_reference)^batch_exponent
  # rounded to a multiple of batch_multiple (the data-parallel size must divide it); warmup = warmup_fraction
  # of the run's steps. N is non-embedding parameters.
  c.rules = ml_collections.ConfigDict({
      "lr_reference": 3e-3, "lr_exponent": 0.25, "n_reference": 1e6,
      "batch_reference": 16, "batch_exponent": 0.0, "batch_multiple": 8, "warmup_fraction": 0.1})
  c.log_every = 25  # steps (at most the run's steps); held-out loss is measured once, at the end
  c.checkpoint_every = 200
  c.overrides = ()  # for every run
  c.fit = ml_collections.ConfigDict({"bootstrap": 1000})
  c.slurm = ml_collections.ConfigDict({
      "directives": ("--time=04:00:00",),  # more #SBATCH lines: partition, gres, cpus-per-task, mem
      "setup": (),  # shell lines run before the task's command (modules, environment)
      "max_parallel": 0,  # array tasks running at once (0 = as many as Slurm allows)
  })
  return c
