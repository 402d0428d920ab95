"""Serve a trained run, OpenAI-compatible: python -m experiments.serve --run_dir=DIR --port=8000

Routes: POST /v1/completions, POST /v1/chat/completions, GET /v1/models (and vLLM's /tokenize,
/detokenize, /tokenizer_info), on loopback by default. Any OpenAI client, lm-eval's
`local-completions` model (or `ixt_jax.feedback.served.ServedCritic`, to use the model as a critic)
points at http://127.0.0.1:PORT/v1. Requests may carry extra fields `condition` (none, positive,
negative), `domain` and `critique` (free text, or null for none); without them the server's
--condition / --critique apply. --condition=auto is the run's method: a positive critique when it
trained with a critique prefix, else none.
"""
import os

os.environ.setdefault("EPATH_USE_TF", "false")

from absl import app, flags  # pylint: disable=g-import-not-at-top

from experiments import cli
from ixt_jax.evaluate.openai_api import CONDITIONS, CompletionService, Conditioning, make_server, resolve_condition
from ixt_jax.evaluate.run_dir import load_run
from ixt_jax.evaluate.run_eval import run_positive_critique

_RUN_DIR = flags.DEFINE_string("run_dir", None, "run directory written by experiments.launch", required=True)
_PORT = flags.DEFINE_integer("port", 8000, "port to listen on (0: any free port, printed at start)")
_HOST = flags.DEFINE_string("host", "127.0.0.1", "address to listen on")
_MODEL_NAME = flags.DEFINE_string("model_name", "", "model id clients use; default: the run directory's name")
_CONDITION = flags.DEFINE_enum("condition", "auto", ("auto",) + CONDITIONS,
                               "default conditioning of a request; auto: the run's method")
_CRITIQUE = flags.DEFINE_string("critique", None, "default critique text (overrides --condition)")
_DOMAIN = flags.DEFINE_string("domain", "text", "default domain of the positive / negative critique")
_MAX_TOKENS = flags.DEFINE_integer("max_tokens_limit", 1024, "cap on a request's max_tokens")
_MAX_BATCH = flags.DEFINE_integer("max_batch", 16, "concurrent requests decoded together")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  run = load_run(_RUN_DIR.value)
  name = _MODEL_NAME.value or run.path.name
  condition = resolve_condition(_CONDITION.value, run.config)
  service = CompletionService(run, name, Conditioning(condition, _CRITIQUE.value, _DOMAIN.value),
                              run_positive_critique(run.config), max_tokens_limit=_MAX_TOKENS.value,
                              max_batch=_MAX_BATCH.value)
  server = make_server(_HOST.value, _PORT.value, service)
  host, port = server.server_address[:2]
  print(f"serving {name} (step {run.step}, default condition {service.default}) at http://{host}:{port}/v1",
        flush=True)
  try:
    server.serve_forever()
  except KeyboardInterrupt:
    pass
  finally:
    server.server_close()


if __name__ == "__main__":
  cli.run(main)
