"""Small annotated corpora made on the spot, for tests and benchmarks (no download, no critic).

Code comes from the Python standard library's own sources, prose from its docstrings, math from
generated arithmetic (some of it wrong); critiques are templated from the score, so a score of 1
reads as flawless, as a critic's would.
"""
from __future__ import annotations

import ast
import functools
import os
import random
from collections.abc import Sequence

from etils import epath

from ixt_jax.data import shards

_STDLIB = os.path.dirname(os.__file__)
_MODULES = ("textwrap", "string", "shlex", "glob", "fnmatch", "heapq", "bisect", "colorsys",
            "difflib", "calendar", "argparse", "csv", "json/decoder", "json/encoder", "random",
            "statistics", "fractions", "tokenize", "pprint", "dataclasses")
_PROBLEMS = ("wrong result", "unclear naming", "missing edge case", "needless repetition",
             "no explanation", "inconsistent style", "off-by-one error", "unhandled input")


@functools.cache
def _material() -> dict[str, tuple[str, ...]]:
  """Code blocks and docstrings of a few standard-library modules."""
  code, prose = [], []
  for name in _MODULES:
    path = os.path.join(_STDLIB, name + ".py")
    if not os.path.exists(path):
      continue
    text = epath.Path(path).read_text()
    code += [b.strip("\n") for b in text.split("\n\n\n") if b.strip()]
    for node in ast.walk(ast.parse(text)):
      if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)):
        doc = ast.get_docstring(node)
        if doc and len(doc) > 40:
          prose.append(doc)
  return {"code": tuple(code), "text": tuple(prose)}


def critique_for(score: float, rng: random.Random) -> str:
  if score >= 1.0:
    return "Correct and clear; no issues found."
  problems = rng.sample(_PROBLEMS, k=1 + int((1.0 - score) * 4))
  return f"Score {score:.2f}. Problems: " + "; ".join(problems) + "."


def _math_document(rng: random.Random) -> tuple[str, bool]:
  a, b = rng.randint(2, 999), rng.randint(2, 999)
  correct = rng.random() < 0.6
  result = a * b if correct else a * b + rng.choice((-10, -1, 1, 10))
  return f"Problem: compute {a} * {b}.\nSolution: {a} * {b} = {result}.\nAnswer: {result}", correct


def synthetic_records(num_records: int, seed: int = 0) -> list[dict]:
  """`num_records` annotated records cycling through the code, text and math domains."""
  rng = random.Random(seed)
  material = _material()
  out = []
  for i in range(num_records):
    domain = ("code", "text", "math")[i % 3]
    if domain == "math":
      text, correct = _math_document(rng)
      score = 1.0 if correct else round(rng.uniform(0.0, 0.4), 2)
    else:
      pool = material[domain]
      text = pool[(i // 3) % len(pool)]
      cycle = (i // 3) // len(pool)
      if cycle:  # keep repeated material distinct in content
        text += f"\n# variant {cycle}" if domain == "code" else f" (variant {cycle})"
      score = 1.0 if rng.random() < 0.3 else round(rng.random(), 2)
    out.append({"id": f"{domain}-{i}", "text": text, "domain": domain,
                "feedback": {"critique": critique_for(score, rng), "score": score, "critic": "synthetic"}})
  return out


def write_corpus(directory: epath.PathLike, records: Sequence[dict | bytes], *, num_shards: int = 2,
                 fmt: str = "jsonl", prefix: str = "synthetic") -> epath.Path:
  """Writes `records` round-robin into `num_shards` shards plus a manifest; returns the directory."""
  directory = epath.Path(directory)
  entries = []
  for s in range(num_shards):
    name = shards.shard_filename(prefix, s, num_shards, fmt)
    count = shards.write_shard(directory / name, records[s::num_shards])
    entries.append({"path": name, "records": count})
  shards.write_manifest(directory, {"shards": entries})
  return directory
