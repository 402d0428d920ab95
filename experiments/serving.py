"""`experiments.serve` in a child process on a free loopback port, for commands (and tests) that
need a served model for a while, and annotation by a trained critic served that way (critic_eval
measures a critic with it; study v2 trains IXT on its annotations)."""
import contextlib
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping

from etils import epath

from configs.annotate import critic as critic_annotate
from ixt_jax.data import shards
from ixt_jax.feedback.annotate import annotate_directory
from ixt_jax.feedback.critics import make_critic

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@contextlib.contextmanager
def serving(run_dir, *flags: str, env: Mapping[str, str] | None = None, start_timeout_s: float = 300.0,
            quiet: bool = False) -> Iterator[str]:
  """Yields the base URL (http://127.0.0.1:PORT/v1) of `experiments.serve --run_dir=run_dir *flags`."""
  process = subprocess.Popen(
      [sys.executable, "-m", "experiments.serve", f"--run_dir={run_dir}", "--port=0", *flags],
      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL if quiet else None, text=True,
      env=dict(env) if env is not None else None, cwd=_ROOT)
  try:
    deadline = time.time() + start_timeout_s
    line = ""
    while "serving" not in line:
      if process.poll() is not None or time.time() > deadline:
        raise RuntimeError(f"experiments.serve --run_dir={run_dir} did not start (exit status {process.poll()})")
      if select.select([process.stdout], [], [], 1.0)[0]:
        line = process.stdout.readline()
    yield line.rsplit(" ", 1)[1].strip()
  finally:
    process.terminate()
    process.wait(timeout=30)


def annotate_with_critic(run_dir: epath.PathLike, input_dir: epath.PathLike, out: epath.PathLike, *,
                         concurrency: int, base_url: str = "") -> dict:
  """The annotation summary of input_dir by the critic trained in run_dir, through the served client
  (configs/annotate/critic.py): served here on loopback unless base_url names a server. Resumable: a
  finished annotation is read back, a killed one continues where it stopped."""
  out = epath.Path(out)
  if (out / shards.MANIFEST).exists():
    return json.loads((out / "summary.json").read_text())
  config = critic_annotate.get_config(str(run_dir))
  config.served.concurrency = concurrency
  config.served.timeout_s = 600.0
  flags = ["--verbosity=-1", "--model_name=critic", f"--max_batch={concurrency}",
           f"--max_tokens_limit={config.served.max_tokens}"]
  with contextlib.nullcontext(base_url) if base_url else serving(run_dir, *flags) as url:
    config.served.base_url = url
    return annotate_directory(input_dir, out, make_critic(config), batch_size=4 * concurrency,
                              keep_existing_feedback=False, use_cache=False)
