"""Runs untrusted Python in a throwaway sandbox: `run_python(source, timeout_s, memory_mb)`.

Isolation, the strongest this machine allows (the result's `isolation` says which it got):
- namespaces (needs root and `unshare`): new mount, network and PID namespaces. The program sees a
  new root on a small tmpfs holding only read-only, nosuid binds of the system directories (/usr,
  /etc, /bin, /lib...), the interpreter's own prefix, four character devices, a fresh /proc and a
  size-limited /tmp (its working directory). Nothing else of the machine exists there: no /work,
  /root, /home, no caller's temp files. The network namespace has no interface up. It runs as
  nobody (uid 65534) with no new privileges, so it cannot undo any of this.
- rlimits on every process: address space (memory_mb), CPU seconds, file size, process count.
- `python -I -S` from the base interpreter with an empty environment: no PYTHON* variables, no
  user site, no site-packages.
- fallback where namespaces are refused: the same rlimits, a fresh temp working directory, nobody
  if we are root; the machine's world-readable files and the network stay reachable, and
  `isolation` says so.
The caller is never blocked for longer than timeout_s plus start-up: the whole process group is
killed at the deadline (and with a PID namespace everything the program started dies with it).
"""
from __future__ import annotations

import dataclasses
import functools
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

NOBODY = 65534
_STARTUP_S = 1.0  # namespace set-up and interpreter start-up, on top of the program's own time
_SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_DEVICES = ("null", "zero", "random", "urandom")
_TOOL_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


@dataclasses.dataclass(frozen=True)
class SandboxResult:
  ok: bool  # exited with status 0 within the time limit
  exit_code: int | None  # negative: killed by that signal; None: never started
  stdout: str
  stderr: str
  timed_out: bool
  isolation: str


def interpreter() -> str:
  """The base interpreter (a virtualenv's python is a link into a tree the sandbox hides)."""
  return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def _tool(name: str) -> str:
  path = shutil.which(name, path=_TOOL_PATH)
  if path is None:
    raise FileNotFoundError(f"sandbox needs `{name}` (util-linux / coreutils) on {_TOOL_PATH}")
  return path


def _binds() -> list[str]:
  """Directories to expose read-only: the system ones and wherever the interpreter lives."""
  binds = [d for d in _SYSTEM_DIRS if os.path.isdir(d) and not os.path.islink(d)]
  for extra in (os.path.realpath(sys.base_prefix), os.path.dirname(interpreter())):
    if not any(extra == b or extra.startswith(b + "/") for b in binds):
      binds.append(extra)
  return binds


def _namespace_command(work: str, tmp_mb: int) -> list[str]:
  """unshare + a root-run script that builds the new root, then drops to nobody and runs main.py."""
  root = os.path.join(work, "root")
  mount, q = _tool("mount"), shlex.quote
  script = [f"{mount} -t tmpfs -o size=4m,mode=755 tmpfs {q(root)}"]
  for d in _SYSTEM_DIRS:  # symlinked top-level dirs (merged /usr) are recreated as links
    if os.path.islink(d):
      script.append(f"ln -s {q(os.readlink(d))} {q(root + d)}")
  for d in _binds():
    script += [f"mkdir -p {q(root + d)}", f"{mount} -o bind,ro,nosuid,nodev {q(d)} {q(root + d)}"]
  script.append(f"mkdir {q(root)}/dev {q(root)}/proc {q(root)}/tmp")
  for dev in _DEVICES:
    script += [f"touch {q(root)}/dev/{dev}", f"{mount} -o bind /dev/{dev} {q(root)}/dev/{dev}"]
  script += [
      f"{mount} -t proc -o nosuid,nodev,noexec proc {q(root)}/proc",
      f"{mount} -t tmpfs -o size={tmp_mb}m,mode=1777,nosuid,nodev tmpfs {q(root)}/tmp",
      f"cp {q(work)}/main.py {q(root)}/tmp/main.py",
  ]
  run = f"cd /tmp && exec {_tool('env')} -i {q(interpreter())} -I -S main.py"
  drop = [_tool("setpriv"), f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--no-new-privs"]
  final = " ".join(q(a) for a in [_tool("chroot"), root, *drop, "--", "/bin/sh", "-c", run])
  return [_tool("unshare"), "--mount", "--net", "--pid", "--fork", "--propagation", "private",
          "/bin/sh", "-c", " && ".join(script) + " && exec " + final]


def _limits(timeout_s: float, memory_mb: int, nproc: int | None) -> list[str]:
  """prlimit flags (applied before exec, thread-safe unlike preexec_fn).

  The CPU limit sits past the wall deadline, so a busy loop is reported as a timeout; with hard =
  soft it kills by SIGKILL, which even a PID namespace's init receives (it ignores SIGXCPU).
  """
  cpu = math.ceil(timeout_s + _STARTUP_S) + 1
  flags = [f"--as={memory_mb << 20}", f"--cpu={cpu}", f"--fsize={64 << 20}", "--core=0"]
  if nproc is not None:
    flags.append(f"--nproc={nproc}")
  return [_tool("prlimit"), *flags, "--"]


@functools.cache
def namespace_error() -> str | None:
  """None if namespaced runs work here, else why not (checked once per process)."""
  if os.geteuid() != 0:
    return "not running as root"
  try:
    result = _run("print('ok')", 10.0, 256, use_namespaces=True)
  except FileNotFoundError as e:
    return str(e)
  if result.stdout.strip() != "ok":
    return (result.stderr.strip().splitlines() or [f"exit code {result.exit_code}"])[-1]
  return None


def _read(path: str, limit: int) -> str:
  with open(path, "rb") as f:
    return f.read(limit).decode("utf-8", errors="replace")


def _run(source: str, timeout_s: float, memory_mb: int, *, use_namespaces: bool, nproc: int = 64,
         tmp_mb: int = 64, max_output_bytes: int = 1 << 20, isolation: str = "") -> SandboxResult:
  with tempfile.TemporaryDirectory(prefix="ixt-sandbox-") as work:
    os.chmod(work, 0o755)  # in the fallback, nobody must reach main.py and its working dir
    with open(os.path.join(work, "main.py"), "w", encoding="utf-8") as f:
      f.write(source)
    drop = {}
    if use_namespaces:
      os.mkdir(os.path.join(work, "root"))
      command, cwd = _limits(timeout_s, memory_mb, nproc) + _namespace_command(work, tmp_mb), "/"
    else:
      cwd = os.path.join(work, "cwd")
      os.mkdir(cwd)
      os.chmod(cwd, 0o777)
      if _fallback_drops_to_nobody():
        drop = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
      # RLIMIT_NPROC counts all of a user's processes: only safe to set for the sandbox's own user.
      command = _limits(timeout_s, memory_mb, nproc if drop else None)
      command += [interpreter(), "-I", "-S", os.path.join(work, "main.py")]
    out_path, err_path = os.path.join(work, "stdout"), os.path.join(work, "stderr")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
      proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd, env={},
                              start_new_session=True, **drop)
      try:
        exit_code, timed_out = proc.wait(timeout=timeout_s + _STARTUP_S), False
      except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        exit_code, timed_out = proc.wait(), True
    return SandboxResult(ok=exit_code == 0 and not timed_out, exit_code=exit_code,
                         stdout=_read(out_path, max_output_bytes), stderr=_read(err_path, max_output_bytes),
                         timed_out=timed_out, isolation=isolation)


def _fallback_drops_to_nobody() -> bool:
  """Whether the fallback can run as nobody: only as root, and if nobody can run the interpreter.

  Not so when the interpreter lives under a private home such as /root/.pyenv.
  """
  if os.geteuid() != 0:
    return False
  path = interpreter()
  parents = []
  while path != os.path.dirname(path):
    path = os.path.dirname(path)
    parents.append(path)
  return os.stat(interpreter()).st_mode & 0o005 == 0o005 and all(os.stat(p).st_mode & 0o001 for p in parents)


def isolation() -> str:
  """What run_python isolates with on this machine, in words."""
  error = namespace_error()
  if error is None:
    return "namespaces(mount,net,pid)+chroot+nobody+rlimits"
  user = "as nobody" if _fallback_drops_to_nobody() else f"as uid {os.geteuid()}"
  return f"rlimits only, {user} (namespaces refused: {error}): machine files and network reachable"


def run_python(source: str, timeout_s: float = 10.0, memory_mb: int = 512, *, nproc: int = 64,
               tmp_mb: int = 64, max_output_bytes: int = 1 << 20) -> SandboxResult:
  """Runs `source` as a script in a fresh sandbox; never blocks much longer than timeout_s.

  memory_mb bounds each process's address space; nproc the processes of the sandbox user; tmp_mb
  the writable /tmp; stdout and stderr are cut at max_output_bytes.
  """
  return _run(source, timeout_s, memory_mb, use_namespaces=namespace_error() is None, nproc=nproc,
              tmp_mb=tmp_mb, max_output_bytes=max_output_bytes, isolation=isolation())
