"""Export a run to Hugging Face `transformers`: python -m experiments.export --run_dir=DIR --out=HF_DIR

Writes HF_DIR/config.json (LlamaForCausalLM, untied: see ixt_jax/interop/llama.py) and
HF_DIR/model.safetensors from the run's latest checkpoint (or --step), and the run's tokenizer as
HF_DIR/tokenizer.json + tokenizer_config.json (ixt_jax/interop/hf_tokenizer.py: the same ids, the
critique markers and quality tokens as special tokens), so that `transformers.AutoModelForCausalLM`
and `AutoTokenizer.from_pretrained(HF_DIR)` load them without custom code. The other way,
`--config.train.init_from=HF_DIR` starts a run from a Llama checkpoint, with its tokenizer.
"""
import os

os.environ.setdefault("EPATH_USE_TF", "false")

import jax  # pylint: disable=g-import-not-at-top
from absl import app, flags

from ixt_jax.evaluate.run_dir import load_run
from ixt_jax.interop import hf_tokenizer
from ixt_jax.interop import llama
from experiments import cli

_RUN_DIR = flags.DEFINE_string("run_dir", None, "run directory written by experiments.launch", required=True)
_OUT = flags.DEFINE_string("out", None, "directory to write the transformers model into", required=True)
_STEP = flags.DEFINE_integer("step", None, "checkpoint step (default: the latest)")


def export_run(run_dir: str, out: str, step: int | None = None) -> dict:
  """Writes the run's parameters as a Llama checkpoint and its tokenizer; returns the model's config."""
  run = load_run(run_dir, step=step)
  params = jax.device_get(run.params)
  config = llama.llama_config(run.model_config, max_positions=run.config.data.seq_len,
                              eos_id=run.vocab.eos_id, pad_id=run.vocab.pad_id)
  config["ixt_jax"] = {"run_dir": str(run.path), "step": run.step, "tokenizer": run.vocab.sha256,
                       "method": run.config.method}
  llama.save(out, config, llama.to_llama(run.model_config, params))
  hf_tokenizer.save(run.vocab, out)
  return config


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  config = export_run(_RUN_DIR.value, _OUT.value, _STEP.value)
  print(f"wrote {_OUT.value}: LlamaForCausalLM, {config['num_hidden_layers']} layers x {config['hidden_size']}, "
        f"vocab {config['vocab_size']}, step {config['ixt_jax']['step']}")


if __name__ == "__main__":
  cli.run(main)
