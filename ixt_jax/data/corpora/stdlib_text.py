"""Real prose and code found on every machine: the Python standard library, cut into documents.

Files are read in an order shuffled by the seed (so one seed sees a different mix of modules).
From each file come two kinds of document: its docstrings as prose, pydoc-style (the module
docstring, then each public class and function as `name(args)` with its docstring;
`meta.kind == "prose"`), and its source as code chunks of whole top-level statements (`"code"`; a class too long for one
chunk is split into its header and its methods, dedented), so every clean code chunk parses.
Statements that alone exceed `max_chars` are left out. The corpus depends on the interpreter's
version: the manifest records it.

A fraction (`flaw_fraction`) is spoiled on purpose, for the text critic to notice: `noise`
(stray symbols and control characters in place of some characters), `repetition` (a run of lines
repeated several times), `syntax_error` (a code chunk cut off mid-statement so it no longer parses).
`flaws` narrows the kinds (`flaws="noise"`: injected noise only, a flaw a very small model can
both produce and avoid). A noisy record's `meta.flaw_line` is its first line with noise in it.
"""
from __future__ import annotations

import ast
import functools
import os
import random
import sysconfig
import textwrap
from collections.abc import Iterator
from typing import Any

from ixt_jax.data.corpora.seeding import record_rng
from ixt_jax.errors import ConfigError

FLAWS = ("noise", "repetition", "syntax_error")
_TEST_DIRS = {"test", "tests", "idle_test"}  # the stdlib's own test suites: many, and repetitive
_MIN_DOCSTRING = 80  # shorter class/function docstrings say little as prose
NOISE_CHARS = "¤§¶†‡•¬¦¨©®°±·¿×÷\ufffd\x07\x1b\x0c"


def stdlib_root() -> str:
  return sysconfig.get_paths()["stdlib"]


@functools.cache
def _stdlib_files(include_tests: bool) -> tuple[str, ...]:
  root = stdlib_root()
  skipped = {"site-packages", "__pycache__"} | (set() if include_tests else _TEST_DIRS)
  found = []
  for directory, subdirs, files in os.walk(root):
    subdirs[:] = sorted(d for d in subdirs if d not in skipped)
    found += [os.path.relpath(os.path.join(directory, f), root) for f in files if f.endswith(".py")]
  return tuple(sorted(found))


def _units(lines: list[str], body: list[ast.stmt], start: int, max_chars: int) -> Iterator[str]:
  """Source pieces of the statements in `body`, each with the comments and blank lines before it.

  `start` is the 0-based line where the first piece begins; over-long classes are split.
  """
  for node in body:
    end = node.end_lineno
    text = "".join(lines[start:end])
    if len(text) <= max_chars:
      yield text
    elif isinstance(node, ast.ClassDef) and node.body:
      # The header with its docstring is a valid piece alone; without a docstring it is dropped.
      has_doc = ast.get_docstring(node) is not None
      header_end = node.body[0].end_lineno if has_doc else node.body[0].lineno - 1
      if has_doc:
        yield "".join(lines[start:header_end])
      members = node.body[1:] if has_doc else node.body
      yield from (textwrap.dedent(m) for m in _units(lines, members, header_end, max_chars))
    start = end


def _documents(path: str, max_chars: int, min_chars: int) -> Iterator[tuple[str, str]]:
  """(kind, text) documents of one stdlib file; none if the file does not parse."""
  try:
    with open(os.path.join(stdlib_root(), path), encoding="utf-8") as f:
      source = f.read()
    module = ast.parse(source)
  except (SyntaxError, UnicodeDecodeError, ValueError):
    return
  for text in _packed(_docstrings(module), "\n\n", max_chars):
    if len(text) >= min_chars:
      yield "prose", text
  body, start = module.body, 0
  if ast.get_docstring(module) is not None:
    body, start = body[1:], body[0].end_lineno
  for text in _packed(_units(source.splitlines(keepends=True), body, start, max_chars), "", max_chars):
    text = text.strip("\n") + "\n"
    if len(text) >= min_chars and _parses(text):  # a dedented method may not: leave it out
      yield "code", text


def _docstrings(module: ast.Module) -> Iterator[str]:
  """The module docstring, then each public class and function as `name(args)` and its docstring."""
  if (doc := ast.get_docstring(module)) is not None:
    yield doc
  for node in ast.walk(module):
    if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and not node.name.startswith("_"):
      doc = ast.get_docstring(node)
      if doc is not None and len(doc) >= _MIN_DOCSTRING:
        args = "" if isinstance(node, ast.ClassDef) else f"({ast.unparse(node.args)})"
        yield f"{node.name}{args}\n\n{textwrap.indent(doc, '    ')}"


def _packed(pieces: Iterator[str], separator: str, max_chars: int) -> Iterator[str]:
  """Consecutive pieces joined into texts of at most max_chars; a longer piece is dropped."""
  text = ""
  for piece in pieces:
    if len(piece) > max_chars:
      continue
    if text and len(text) + len(separator) + len(piece) > max_chars:
      yield text
      text = ""
    text = text + separator + piece if text else piece
  if text:
    yield text


def _parses(text: str) -> bool:
  try:
    ast.parse(text)
  except SyntaxError:
    return False
  return True


def _noise(text: str, rng: random.Random) -> str:
  chars = list(text)
  spots = [i for i, ch in enumerate(chars) if not ch.isspace()]
  for i in rng.sample(spots, max(1, int(len(spots) * rng.uniform(0.05, 0.12)))):
    chars[i] = rng.choice(NOISE_CHARS)
  return "".join(chars)


def _repetition(text: str, rng: random.Random) -> str:
  """A block of 2-4 lines, starting at a line with some substance, repeated 3-6 more times."""
  lines = [line if line.endswith("\n") else line + "\n" for line in text.splitlines()]
  starts = [i for i, line in enumerate(lines) if len(line.strip()) >= 8] or [0]
  start = rng.choice(starts)
  block = lines[start:start + rng.randint(2, 4)]
  return "".join(lines[:start] + block * rng.randint(3, 6) + lines[start:])


def _cut(text: str, rng: random.Random) -> str | None:
  """The text cut mid-statement so it no longer parses, or None if no cut found breaks it."""
  for _ in range(20):
    cut = rng.randrange(len(text) // 3, len(text) - 1)
    try:
      ast.parse(text[:cut])
    except SyntaxError:
      return text[:cut]
  return None


def _spoil(kind: str, text: str, rng: random.Random, kinds: tuple[str, ...] = FLAWS) -> tuple[str, str]:
  allowed = FLAWS if kind == "code" else FLAWS[:2]
  flaw = rng.choice(allowed if kinds == FLAWS else tuple(k for k in kinds if k in allowed) or ("noise",))
  if flaw == "syntax_error":
    cut = _cut(text, rng)
    if cut is not None:
      return flaw, cut
    flaw = "noise"
  return flaw, (_noise if flaw == "noise" else _repetition)(text, rng)


def _first_changed_line(text: str, spoiled: str) -> int:
  return next((i for i, (a, b) in enumerate(zip(text.splitlines(), spoiled.splitlines())) if a != b),
              min(len(text.splitlines()), len(spoiled.splitlines())))


def generate(n: int, seed: int, flaw_fraction: float = 0.2, max_chars: int = 2000,
             min_chars: int = 200, include_tests: bool = False, flaws: str = "",
             start: int = 0) -> list[dict[str, Any]]:
  """Records start..start+n-1 (`start` > 0: documents a corpus of `start` records never saw)."""
  kinds = tuple(k for k in flaws.split(",") if k) or FLAWS
  if set(kinds) - set(FLAWS):
    raise ConfigError(f"flaws={flaws!r}: unknown kind(s) {sorted(set(kinds) - set(FLAWS))}; expected some of {FLAWS}")
  files = list(_stdlib_files(include_tests))
  random.Random(f"text-files:{seed}").shuffle(files)
  records = []
  for path in files:
    for kind, text in _documents(path, max_chars, min_chars):
      if len(records) == start + n:
        return records[start:]
      index = len(records)
      if index < start:  # only counted: the documents before `start` are not asked for
        records.append(None)
        continue
      rng = record_rng(seed, "text", index)
      flaw, flaw_line = None, None
      if rng.random() < flaw_fraction:
        flaw, spoiled = _spoil(kind, text, rng, kinds)
        flaw_line, text = _first_changed_line(text, spoiled), spoiled
      records.append({"id": f"text-{seed}-{index:07d}", "text": text, "domain": "text",
                      "meta": {"source": f"stdlib/{path}", "kind": kind, "flaw": flaw, "flaw_line": flaw_line}})
  if len(records) < start + n:
    hint = "" if include_tests else ", or set include_tests"
    raise ValueError(f"the standard library yields only {len(records)} text documents of "
                     f"{min_chars}..{max_chars} characters; ask for fewer{hint}")
  return records[start:]
