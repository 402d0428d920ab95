"""Small Python functions with docstrings and unit tests; a fraction carry planted bugs.

A record's text is the function (with its docstring) followed by a `test_<name>` function of
`assert <call> == <expected>` lines, so a model reads the contract and its tests together. The
same tests sit in meta as data (`"tests": [{"call": "f(3)", "expected": "6"}]`, with
`"entry_point"`), which is what a critic runs; expected values come from running the correct
function, so a planted bug (`off_by_one`, `wrong_operator`, `wrong_return`; meta "flaw", for tests
only) always fails at least one test and the tests shown in the text still state the right answer.

Options for a corpus a very small model can act on: `bug="fixed"` plants each template's one fixed
bug (its first `wrong_operator` slot, else its first slot: one token changed, always the same), and
`exclude_templates` keeps some templates out (fresh functions for sampling). A flawed record's
`meta.flaw_line` is the 0-based line of the text that differs from the correct function.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from ixt_jax.data.corpora import function_templates
from ixt_jax.data.corpora.seeding import record_rng
from ixt_jax.errors import ConfigError

_SLOT = re.compile(r"\{\{(.*?)\|(.*?)\|(\w+)\}\}")
_DRAWS = 20  # redraws of names, constants and inputs until a planted bug shows in the tests


def _resolve(body: str, buggy_slot: int | None) -> str:
  """The body with slot `buggy_slot` (by position) mutated and every other slot correct."""
  slots = iter(range(10**6))
  return _SLOT.sub(lambda m: m.group(2) if next(slots) == buggy_slot else m.group(1), body)


def _source(name: str, params: list[str], doc: str, body: str) -> str:
  lines = [f"def {name}({', '.join(params)}):", f'    """{doc}"""']
  lines += ["    " + line for line in body.splitlines()]
  return "\n".join(lines) + "\n"


def _outcomes(source: str, name: str, args_list: list[tuple]) -> list[tuple[str, Any]]:
  """What each call returns (or which exception it raises); the source is our own template."""
  namespace: dict[str, Any] = {}
  exec(compile(source, "<corpus>", "exec"), namespace)  # pylint: disable=exec-used
  outcomes = []
  for args in args_list:
    try:
      outcomes.append(("ok", namespace[name](*copy.deepcopy(args))))
    except Exception as e:  # pylint: disable=broad-except
      outcomes.append(("error", type(e).__name__))
  return outcomes


def _call(name: str, args: tuple) -> str:
  return f"{name}({', '.join(repr(a) for a in args)})"


BUGS = ("random", "fixed")


def fixed_slot(body: str) -> int:
  """The slot a template's fixed bug goes in: its first wrong_operator slot, else its first."""
  kinds = [kind for _, _, kind in _SLOT.findall(body)]
  return kinds.index("wrong_operator") if "wrong_operator" in kinds else 0


def template_names(exclude: str = "", only: str = "") -> list[str]:
  """Sorted template names: `only` (comma-separated) if given, else all but `exclude`."""
  names = [n for n in (only or exclude).split(",") if n]
  unknown = sorted(set(names) - set(function_templates.TEMPLATES))
  if unknown:
    raise ConfigError(f"unknown code template(s) {unknown}; expected some of {sorted(function_templates.TEMPLATES)}")
  if only:
    return sorted(names)
  return sorted(set(function_templates.TEMPLATES) - set(names))


def make_record(seed: int, index: int, flaw_fraction: float, bug: str = "random",
                templates: list[str] | None = None) -> dict[str, Any]:
  """Record `index`; with flaw_fraction 1 it is the flawed twin of the clean record (same function,
  unless the planted bug needs other draws to show in the tests)."""
  rng = record_rng(seed, "code", index)
  template_name = rng.choice(templates or sorted(function_templates.TEMPLATES))
  template = function_templates.TEMPLATES[template_name]
  plant = rng.random() < flaw_fraction
  for _ in range(_DRAWS):
    name = rng.choice(template.names)
    params = [rng.choice(choices) for choices in template.params]
    names = {f"p{i}": p for i, p in enumerate(params)} | {"k": str(rng.randint(*template.constant))}
    body = function_templates.substitute(template.body, names)
    doc = function_templates.substitute(template.doc, names)
    args_list = list({repr(a): a for a in template.inputs(rng, int(names["k"]))}.values())
    clean = _source(name, params, doc, _resolve(body, None))
    expected = _outcomes(clean, name, args_list)
    assert all(kind == "ok" for kind, _ in expected), f"template {template_name} fails its own inputs"
    if not plant:
      source, flaw = clean, None
      break
    slot = fixed_slot(body) if bug == "fixed" else rng.randrange(len(_SLOT.findall(body)))
    source, flaw = _source(name, params, doc, _resolve(body, slot)), _SLOT.findall(body)[slot][2]
    if _outcomes(source, name, args_list) != expected:
      break
  else:
    raise RuntimeError(f"template {template_name}: no planted bug changed a test result in {_DRAWS} draws")
  tests = [{"call": _call(name, args), "expected": repr(value)} for args, (_, value) in zip(args_list, expected)]
  test_lines = [f"    assert {t['call']} == {t['expected']}" for t in tests]
  flaw_line = None
  if flaw is not None:
    flaw_line = next(i for i, (a, b) in enumerate(zip(source.splitlines(), clean.splitlines())) if a != b)
  return {
      "id": f"code-{seed}-{index:07d}",
      "text": source + f"\n\ndef test_{name}():\n" + "\n".join(test_lines) + "\n",
      "domain": "code",
      "meta": {"entry_point": name, "tests": tests, "template": template_name, "flaw": flaw,
               "flaw_line": flaw_line},
  }


def generate(n: int, seed: int, flaw_fraction: float = 0.3, bug: str = "random", exclude_templates: str = "",
             start: int = 0) -> list[dict[str, Any]]:
  """Records start..start+n-1 (`start` > 0: functions a corpus of `start` records never saw)."""
  if bug not in BUGS:
    raise ConfigError(f"bug={bug!r}: expected one of {BUGS}")
  names = None if not exclude_templates else template_names(exclude=exclude_templates)
  return [make_record(seed, i, flaw_fraction, bug, names) for i in range(start, start + n)]
