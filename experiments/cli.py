"""How every entry point runs: absl's app.run, with the user's mistakes printed as a message alone.

A user error (a bad flag or config value, missing data, too many malformed records: see
ixt_jax.errors) prints `error: <message>` and exits with status 2; a failed child command exits with
the child's status (the child printed why). Anything else is a bug and keeps its traceback.
IXT_TRACEBACK=1 shows the traceback of a user error too.
"""
import os
import subprocess
import sys
from collections.abc import Callable

from absl import app, flags
from ml_collections import config_flags

from ixt_jax.errors import UserError

USER_ERROR_STATUS = 2


def _fail(message: str, status: int = USER_ERROR_STATUS):
  if os.environ.get("IXT_TRACEBACK"):
    raise  # pylint: disable=misplaced-bare-raise  # called from an except block
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(status)


# What config_flags raises for a config override naming no field or holding a bad value, or for a
# config file whose get_config(variant) refuses its argument.
_CONFIG_ERRORS = (AttributeError, KeyError, TypeError, ValueError, flags.Error)


def _config_refused(error: Exception):
  while len(error.args) == 1 and isinstance(error.args[0], Exception):  # ml_collections wraps its KeyError
    error = error.args[0]
  message = error.args[0] if len(error.args) == 1 and isinstance(error.args[0], str) else str(error)
  if "Traceback (most recent call last)" in message:  # config_flags quotes get_config's traceback: keep its last line
    message = message.split("\n", 1)[0].rstrip(": ") + ": " + message.strip().rsplit("\n", 1)[-1]
  if isinstance(error, (AttributeError, KeyError)):  # "'name'" then, maybe, a "Did you mean" line
    key, _, hint = message.partition("\n")
    message = f"no field {key}" + (f"; {hint}" if hint else "")
  if isinstance(error, flags.Error):
    _fail(f"{message}\nPass --help for the flags.")
  _fail(f"the config was refused: {message}")


def define_config_file(name: str, default: str | None, help_string: str, **kwargs):
  """config_flags.DEFINE_config_file; with a default it reads argv at once, so refusals are caught here."""
  try:
    return config_flags.DEFINE_config_file(name, default, help_string, **kwargs)
  except _CONFIG_ERRORS as e:
    _config_refused(e)


def _parse_flags(argv: list[str]) -> list[str]:
  """absl's parser; an unknown flag, or a config override that names no field, is the user's to fix."""
  try:
    return flags.FLAGS(argv)
  except _CONFIG_ERRORS as e:
    _config_refused(e)


def run(main: Callable[[list[str]], None]) -> None:
  """app.run(main) with user errors and failed child commands reported without a traceback."""

  def guarded(argv):
    try:
      return main(argv)
    except UserError as e:
      _fail(str(e))
    except subprocess.CalledProcessError as e:
      command = " ".join(str(a) for a in e.cmd[1:]) if isinstance(e.cmd, list) else e.cmd
      _fail(f"`python {command}` failed with status {e.returncode}; its output above says why", e.returncode or 1)

  app.run(guarded, flags_parser=_parse_flags)
