"""Serve a trained run, OpenAI-compatible: python -m experiments.serve --run_dir=DIR --port=8000

Routes: POST /v1/completions, POST /v1/chat/completions, GET /v1/models, on loopback by default.
Any OpenAI client (or `ixt_jax.feedback.served.ServedCritic`, to use the model as a critic) points
at http://127.0.0.1:PORT/v1. Requests may carry an extra `critique` field (text, or null for
none); without it the server's --critique applies: `auto` is the run's positive critique for
--domain when it trained with a critique prefix, else none.
"""
import os

os.environ.setdefault("EPATH_USE_TF", "false")

import http.server  # pylint: disable=g-import-not-at-top

from absl import app, flags

from ixt_jax.evaluate.openai_api import CompletionService, make_handler
from ixt_jax.evaluate.run_dir import load_run
from ixt_jax.evaluate.run_eval import run_positive_critique
from experiments import cli

_RUN_DIR = flags.DEFINE_string("run_dir", None, "run directory written by experiments.launch", required=True)
_PORT = flags.DEFINE_integer("port", 8000, "port to listen on (0: any free port, printed at start)")
_HOST = flags.DEFINE_string("host", "127.0.0.1", "address to listen on")
_MODEL_NAME = flags.DEFINE_string("model_name", "", "model id clients use; default: the run directory's name")
_CRITIQUE = flags.DEFINE_string("critique", "auto", "default critique: auto, none, or the critique's text")
_DOMAIN = flags.DEFINE_string("domain", "text", "domain whose positive critique --critique=auto uses")
_MAX_TOKENS = flags.DEFINE_integer("max_tokens_limit", 1024, "cap on a request's max_tokens")
_MAX_BATCH = flags.DEFINE_integer("max_batch", 16, "concurrent requests decoded together")


def default_critique(run, choice: str, domain: str) -> str | None:
  if choice == "none":
    return None
  if choice != "auto":
    return choice
  return run_positive_critique(run.config)(domain) if run.config.data.feedback.placement == "prefix" else None


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  run = load_run(_RUN_DIR.value)
  name = _MODEL_NAME.value or run.path.name
  service = CompletionService(run, name, default_critique(run, _CRITIQUE.value, _DOMAIN.value),
                              max_tokens_limit=_MAX_TOKENS.value, max_batch=_MAX_BATCH.value)
  server = http.server.ThreadingHTTPServer((_HOST.value, _PORT.value), make_handler(service))
  host, port = server.server_address[:2]
  print(f"serving {name} (step {run.step}) at http://{host}:{port}/v1", flush=True)
  try:
    server.serve_forever()
  except KeyboardInterrupt:
    pass
  finally:
    server.server_close()


if __name__ == "__main__":
  cli.run(main)
