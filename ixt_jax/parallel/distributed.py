"""Multi-host start-up: one code path for a laptop, a TPU pod and a GPU cluster.

On a pod every worker runs the same `python -m experiments.launch ...`; `jax.distributed.initialize()`
finds the coordinator from the TPU metadata, Slurm or Open MPI environment.
"""
from __future__ import annotations

import os

import jax

from ixt_jax.errors import ConfigError

# Environment variables that mean "this process is one of several" for JAX's cluster detection.
CLUSTER_ENV = ("JAX_COORDINATOR_ADDRESS", "TPU_WORKER_HOSTNAMES", "MEGASCALE_COORDINATOR_ADDRESS",
               "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE")


def _in_cluster() -> bool:
  if os.environ.get("SLURM_NTASKS", "1") != "1" or os.environ.get("OMPI_COMM_WORLD_SIZE", "1") != "1":
    return True
  return any(os.environ.get(name) for name in CLUSTER_ENV if name not in ("SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"))


def initialize(mode: str = "auto", coordinator_address: str = "", num_processes: int = 0,
               process_id: int = -1) -> bool:
  """Calls `jax.distributed.initialize` when `mode` is "on", or "auto" inside a cluster; returns whether it did.

  Explicit `coordinator_address`/`num_processes`/`process_id` serve hand-launched runs (and tests on
  loopback); otherwise JAX detects the cluster itself.
  """
  if mode not in ("auto", "on", "off"):
    raise ConfigError(f"distributed.mode={mode!r}; expected auto, on or off")
  if mode == "off" or (mode == "auto" and not coordinator_address and not _in_cluster()):
    return False
  # CPU processes need a collectives backend of their own to talk (tests, CPU clusters).
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  kwargs = {}
  if coordinator_address:
    kwargs = dict(coordinator_address=coordinator_address, num_processes=num_processes, process_id=process_id)
  jax.distributed.initialize(**kwargs)
  return True


def overlapping_collectives_unsafe() -> bool:
  """Whether computations with collectives must not overlap. On CPU, with several devices (simulated
  ones in one process, or gloo across processes), two in-flight computations can join each other's
  collective rendezvous in different orders and hang; accelerators order them and keep the overlap."""
  return jax.device_count() > 1 and jax.devices()[0].platform == "cpu"
