"""The top costs of one compiled train step: XLA ops by time, from a `jax.profiler` trace.

Builds the step exactly as benchmarks/train_step.py does (same model, optimizer and batch), compiles
it once, traces a few steps with `jax.profiler.trace`, reads the trace back with
`jax.profiler.ProfileData` and sums the device time of every XLA op over the traced steps (control
flow such as the layer scan's `while` is left out: its body's ops are counted instead). Each op is
named by its output shape and the JAX operation it came from (the compiled HLO's metadata) and put
in a coarse class (matmul, copy/transpose, broadcast, element-wise, ...); ops alike in all three
(the same op of every layer, whether the layers loop or are unrolled) make one row. Shares are of
the summed op time; on a CPU two ops can run at once on different threads, so the sum may exceed
the step's wall time.

  python benchmarks/profile_step.py [--size=d512] [--dtype=float32] [--batch=8] [--seq_len=256] [--top=25]
"""
from __future__ import annotations

import collections
import json
import os
import pathlib
import re
import sys
import tempfile
import time

import jax
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.train_step import build_step, ixt_module, synthetic_batch  # pylint: disable=g-import-not-at-top,wrong-import-position

CONTROL_FLOW = ("while", "conditional", "call")
_INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = (.*?) ([a-z][\w\-]*)\((.*)$")
_COMPUTATION = re.compile(r"^%?([\w.\-]+) .*\{$")


def hlo_ops(hlo_text: str) -> dict[str, dict]:
  """Each instruction of a compiled module's text: {name: {opcode, shape, source, inner}}.

  `inner` is the set of opcodes of the computation a fusion calls (a fusion holding a dot is a matmul).
  """
  ops, computations, current = {}, collections.defaultdict(set), None
  for line in hlo_text.splitlines():
    if (computation := _COMPUTATION.match(line)) and " = " not in line:
      current = computation.group(1)
      continue
    instruction = _INSTRUCTION.match(line)
    if not instruction:
      continue
    name, shape, opcode, rest = instruction.groups()
    computations[current].add(opcode)
    source = re.search(r'op_name="([^"]*)"', rest)
    calls = re.search(r"calls=%?([\w.\-]+)", rest)
    ops[name] = {"opcode": opcode, "shape": shape, "source": source.group(1) if source else "",
                 "calls": calls.group(1) if calls else None}
  for op in ops.values():
    op["inner"] = computations.get(op.pop("calls"), set())
  return ops


def op_class(op: dict) -> str:
  """A coarse class of an HLO op: what kind of work its time is spent on."""
  opcodes = op["inner"] or {op["opcode"]}
  if opcodes & {"dot", "convolution"}:
    return "matmul"
  if opcodes <= {"copy", "transpose", "bitcast", "parameter", "reshape"}:
    return "copy/transpose"
  if opcodes <= {"broadcast", "constant", "parameter", "bitcast"}:
    return "broadcast"
  if opcodes & {"reduce", "reduce-window"}:
    return "reduction"
  if opcodes & {"dynamic-slice", "dynamic-update-slice", "gather", "scatter", "slice", "concatenate", "pad"}:
    return "data movement"
  return "element-wise"


def short_source(source: str) -> str:
  """The JAX operation an op came from, without the jit and transform prefix."""
  source = re.sub(r"^jit\([^)]*\)/", "", source)
  source = source.replace("transpose(jvp())", "bwd").replace("jvp()", "fwd")
  return source.replace("while/body/closed_call/", "layer/").replace("closed_call/", "layer/")


def op_times(trace_dir: str, module_name: str) -> dict[str, list[int]]:
  """{HLO op name: [nanoseconds of each execution]} of one module in a `jax.profiler.trace` directory."""
  trace_file, = pathlib.Path(trace_dir).rglob("*.xplane.pb")
  host = jax.profiler.ProfileData.from_file(str(trace_file)).find_plane_with_name("/host:CPU")
  times = collections.defaultdict(list)
  for line in host.lines:
    for event in line.events:
      stats = dict(event.stats)
      if stats.get("hlo_module") == module_name and "hlo_op" in stats:
        times[stats["hlo_op"]].append(event.duration_ns)
  return times


def profile(compiled, state, batch: dict, steps: int) -> tuple[list[dict], float]:
  """(rows of executed ops, by time; the step's median wall seconds) over `steps` traced steps."""
  ops = hlo_ops(compiled.as_text())
  module_name = re.search(r"^HloModule ([\w.\-]+)", compiled.as_text(), re.M).group(1)
  walls = []
  with tempfile.TemporaryDirectory() as trace_dir:
    with jax.profiler.trace(trace_dir):
      for _ in range(steps):
        start = time.perf_counter()
        state, metrics = compiled(state, batch)
        jax.block_until_ready(metrics)
        walls.append(time.perf_counter() - start)
    times = op_times(trace_dir, module_name)
  groups = {}
  for name, durations in times.items():
    op = ops.get(name, {"opcode": "?", "shape": "?", "source": "", "inner": set()})
    if op["opcode"] in CONTROL_FLOW:
      continue
    # One row per (class, JAX source, shape): the same op of every layer, looped or unrolled.
    key = (op_class(op), short_source(op["source"]), op["shape"])
    row = groups.setdefault(key, {"ops": [], "ms_per_step": 0.0, "calls_per_step": 0.0, "class": key[0],
                                  "source": key[1], "shape": key[2]})
    row["ops"].append(name)
    row["ms_per_step"] += sum(durations) / steps / 1e6
    row["calls_per_step"] += len(durations) / steps
  rows = list(groups.values())
  total = sum(row["ms_per_step"] for row in rows)
  for row in rows:
    row["share"] = row["ms_per_step"] / total
  return sorted(rows, key=lambda row: -row["ms_per_step"]), sorted(walls)[len(walls) // 2]


def by_class(rows: list[dict]) -> dict[str, float]:
  """Milliseconds per step of each op class, largest first."""
  totals = collections.Counter()
  for row in rows:
    totals[row["class"]] += row["ms_per_step"]
  return dict(totals.most_common())


def define_flags():
  flags.DEFINE_string("size", "d512", "ladder size of the model")
  flags.DEFINE_string("dtype", "float32", "compute dtype")
  flags.DEFINE_integer("vocab_size", 8192, "output vocabulary (0 = the ladder's)")
  flags.DEFINE_integer("batch", 8, "rows per step")
  flags.DEFINE_integer("seq_len", 256, "tokens per row")
  flags.DEFINE_integer("steps", 3, "traced steps (after one warm-up step)")
  flags.DEFINE_integer("top", 25, "ops to list")
  flags.DEFINE_string("json", "", "also write the rows here")


def main(_):
  f = flags.FLAGS
  module = ixt_module(f.size, f.dtype, f.vocab_size or None)
  step, state = build_step(module)
  batch = synthetic_batch(f.batch, f.seq_len, module.cfg.vocab_size)
  compiled = step.lower(state, batch).compile()
  state, metrics = compiled(state, batch)  # warm up
  jax.block_until_ready(metrics)
  rows, wall = profile(compiled, state, batch, f.steps)
  total = sum(row["ms_per_step"] for row in rows)
  print(f"{f.size} {f.dtype}, batch {f.batch} x {f.seq_len}: step wall {wall * 1e3:.1f} ms (median of {f.steps}), "
        f"summed op time {total:.1f} ms/step over {sum(len(row['ops']) for row in rows)} ops in {len(rows)} rows")
  print("by class: " + ", ".join(f"{name} {ms:.1f} ms ({ms / total:.0%})" for name, ms in by_class(rows).items()))
  print(f"{'ms/step':>8} {'share':>6} {'calls':>5} {'class':<14} {'first op':<28} {'shape':<28} source")
  for row in rows[:f.top]:
    print(f"{row['ms_per_step']:>8.2f} {row['share']:>6.1%} {row['calls_per_step']:>5.0f} {row['class']:<14} "
          f"{row['ops'][0][:28]:<28} {row['shape'][:28]:<28} {row['source'][-70:]}")
  if f.json:
    with open(f.json, "w") as out:
      json.dump({"size": f.size, "dtype": f.dtype, "wall_s": wall, "by_class": by_class(rows), "rows": rows}, out,
                indent=2)


if __name__ == "__main__":
  define_flags()
  app.run(main)
