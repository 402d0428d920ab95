"""Runs many records' unit tests in a few sandboxes, each record alone in a child process.

One sandbox start costs tens of milliseconds, a record's tests microseconds, so records go to the
sandbox in groups: a small harness forks one child per record (own process group, own directory,
output silenced, CPU-limited), reads its per-test results with a deadline, kills the group and reaps
everything. A record that loops, allocates without bound or crashes its child spoils only its own
result. If the harness itself dies (a record killed it), the records it did not report on run
again, one sandbox each, so the culprit is found and the others still get a result.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from ixt_jax.feedback import sandbox

_STATUS_CHARS = 200  # of a repr or an error message

_HARNESS = r'''
import ast, json, math, os, resource, select, signal, sys, time

JOBS = json.loads(%(jobs)r)
TIMEOUT = %(timeout)r
CHARS = %(chars)r


def short(text):
  return text if len(text) <= CHARS else text[:CHARS - 3] + "..."


def describe(e):
  return short(type(e).__name__ + (": " + str(e) if str(e) else ""))


def same(got, expected):
  if isinstance(got, float) and isinstance(expected, (int, float)):
    return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)
  return type(got) == type(expected) and got == expected


def run_job(job, emit):
  namespace = {"__name__": "__record__"}
  try:
    exec(compile(job["source"], "<record>", "exec"), namespace)
  except BaseException as e:
    emit({"load_error": describe(e)})
    return
  for i, test in enumerate(job["tests"]):
    emit({"start": i})
    try:
      expected = ast.literal_eval(test["expected"])
      got = eval(test["call"], namespace)
      status = "pass" if same(got, expected) else "fail"
      emit({"test": i, "status": status, "got": short(repr(got))})
    except BaseException as e:
      emit({"test": i, "status": "error", "error": describe(e)})


def child(index, job, w):
  os.setpgid(0, 0)
  null = os.open(os.devnull, os.O_RDWR)
  for fd in (0, 1, 2):
    os.dup2(null, fd)
  os.mkdir("job%%d" %% index)
  os.chdir("job%%d" %% index)
  cpu = math.ceil(TIMEOUT) + 1
  resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
  run_job(job, lambda event: os.write(w, (json.dumps(event) + "\n").encode()))


def collect(r, deadline):
  data, timed_out = b"", False
  while True:
    left = deadline - time.monotonic()
    ready = select.select([r], [], [], max(left, 0))[0] if left > 0 else []
    if not ready:
      timed_out = True
      break
    chunk = os.read(r, 1 << 16)
    if not chunk:
      break
    data += chunk
  os.close(r)
  return data, timed_out


def reap():
  try:
    while os.waitpid(-1, os.WNOHANG)[0]:
      pass
  except ChildProcessError:
    pass


for index, job in enumerate(JOBS):
  r, w = os.pipe()
  try:
    pid = os.fork()
  except OSError as e:
    print(json.dumps({"job": index, "crashed": "cannot fork: " + describe(e)}), flush=True)
    continue
  if pid == 0:
    try:
      os.close(r)
      child(index, job, w)
    finally:
      os._exit(0)
  os.close(w)
  try:
    os.setpgid(pid, pid)
  except OSError:
    pass
  data, timed_out = collect(r, time.monotonic() + TIMEOUT)
  try:
    os.killpg(pid, signal.SIGKILL)
  except OSError:
    pass
  status = os.waitpid(pid, 0)[1]
  reap()
  events = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
  print(json.dumps({"job": index, "events": events, "timed_out": timed_out,
                    "exit": os.waitstatus_to_exitcode(status)}), flush=True)
'''


@dataclasses.dataclass(frozen=True)
class Job:
  source: str
  tests: Sequence[dict[str, str]]  # {"call": "f(3)", "expected": "6"}: Python expression, literal


@dataclasses.dataclass(frozen=True)
class Outcome:
  test: int
  status: str  # pass | fail | error | timeout | died (ended its process) | not_run (after one of those)
  got: str = ""  # repr of the value returned (status fail)
  error: str = ""  # the exception (status error) or the exit status (died)


@dataclasses.dataclass(frozen=True)
class Report:
  outcomes: tuple[Outcome, ...] = ()
  load_error: str | None = None  # the code raised before any test ran
  crashed: str | None = None  # no verdict: the sandbox could not judge this record


def _report(result: dict[str, Any], job: Job) -> Report:
  if "crashed" in result:
    return Report(crashed=result["crashed"])
  done: dict[int, Outcome] = {}
  started = None
  for event in result["events"]:
    if "load_error" in event:
      return Report(load_error=event["load_error"])
    if "start" in event:
      started = event["start"]
    else:
      done[event["test"]] = Outcome(event["test"], event["status"], event.get("got", ""), event.get("error", ""))
  outcomes = []
  for i in range(len(job.tests)):
    if i in done:
      outcomes.append(done[i])
    elif i == started and result["timed_out"]:
      outcomes.append(Outcome(i, "timeout"))
    elif i == started:
      outcomes.append(Outcome(i, "died", error=f"exit status {result['exit']}"))
    else:
      outcomes.append(Outcome(i, "not_run"))
  return Report(tuple(outcomes))


def _run_group(jobs: Sequence[Job], timeout_s: float, memory_mb: int) -> list[dict[str, Any] | None]:
  """Per-job raw results of one sandbox run (None for a job the harness never reported on)."""
  source = _HARNESS % {"jobs": json.dumps([dataclasses.asdict(j) for j in jobs]), "timeout": timeout_s,
                       "chars": _STATUS_CHARS}
  result = sandbox.run_python(source, timeout_s=len(jobs) * (timeout_s + 0.5) + 5.0, memory_mb=memory_mb)
  found: list[dict[str, Any] | None] = [None] * len(jobs)
  for line in result.stdout.splitlines():
    try:
      item = json.loads(line)
    except json.JSONDecodeError:
      continue
    if isinstance(item, dict) and isinstance(item.get("job"), int) and 0 <= item["job"] < len(jobs):
      found[item["job"]] = item
  if len(jobs) == 1 and found[0] is None:
    tail = (result.stderr.strip().splitlines() or [f"exit code {result.exit_code}"])[-1]
    found[0] = {"crashed": f"sandbox harness died ({tail[:_STATUS_CHARS]})"}
  return found


def _judge_group(jobs: Sequence[Job], timeout_s: float, memory_mb: int) -> list[Report]:
  found = _run_group(jobs, timeout_s, memory_mb)
  for i, item in enumerate(found):
    if item is None:  # the harness died before this job: judge it alone
      found[i] = _run_group([jobs[i]], timeout_s, memory_mb)[0]
  return [_report(item, job) for item, job in zip(found, jobs)]


def run_unit_tests(jobs: Sequence[Job], timeout_s: float = 2.0, memory_mb: int = 256,
                   jobs_per_sandbox: int = 128, concurrency: int = 2) -> list[Report]:
  """One Report per job, in order; timeout_s and memory_mb bound each job (each record)."""
  groups = [jobs[i:i + jobs_per_sandbox] for i in range(0, len(jobs), jobs_per_sandbox)]
  with concurrent.futures.ThreadPoolExecutor(max(1, concurrency)) as pool:
    results = pool.map(lambda group: _judge_group(group, timeout_s, memory_mb), groups)
    return [report for group_reports in results for report in group_reports]
