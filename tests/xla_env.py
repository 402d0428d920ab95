"""XLA_FLAGS for tests: simulated CPU devices, and collectives that wait out an oversubscribed CPU.

With 8 simulated devices on 2 cores and parallel test workers, a device thread can be starved for
longer than XLA's default 40 s collective rendezvous, and XLA then aborts the process.
"""


def xla_flags(devices: int = 8) -> str:
  return (f"--xla_force_host_platform_device_count={devices} "
          "--xla_cpu_collective_call_terminate_timeout_seconds=900")
