"""Errors that are the user's to fix (a config value, a flag, the data), not the code's.

Entry points (`experiments.cli.run`) print these as their message alone, with a non-zero exit; every
other exception is a bug and keeps its traceback. Each also derives from the built-in error callers
already catch (ValueError, FileNotFoundError), so library users see the same types as before.
"""


class UserError(Exception):
  """Base of the errors whose message tells the user what to change."""


class ConfigError(UserError, ValueError):
  """A config field or flag has a value the run cannot use; the message names the field."""


class DataError(UserError, ValueError):
  """The data is unusable as given (too many malformed records, an empty sample); the message says where."""


class DataNotFoundError(UserError, FileNotFoundError):
  """A data directory or file the config names does not exist or holds no shards."""
