"""The thinking critic: supervised fine-tuning on documents (prompts) and the verifiers' reasoning,
critique and score (responses), loss on the response only. Built and trained by one command:

  python -m experiments.critic --workdir=runs/critic [--config=configs/stages/critic.py:size=1m,steps=300]

Variants as in configs/base.py; the method is always baseline (no critique prefix: the critique is
what the critic writes). `critic` holds what the SFT set and the served client must agree on.
"""
import ml_collections

from configs import common
from configs.stages import sft
from ixt_jax.feedback import critic_sft


def get_config(arg=None):
  variant = {"steps": 300, "seq_len": 768, **common.parse_variant(arg), "method": "baseline"}
  c = sft.get_config(variant)
  c.eval.tasks = ""  # math and code task scores measure a language model, not a critic
  # From scratch by default, so the base rate (configs/base.py); starting from a pre-trained run
  # (--config.train.init_from=RUN_DIR) wants the SFT stage's lower rate.
  c.optimizer.learning_rate = 3e-3
  c.optimizer.warmup_steps = min(30, c.train.steps // 10)
  with c.unlocked():
    c.critic = ml_collections.ConfigDict({
        "prompt_template": critic_sft.PROMPT_TEMPLATE,  # {domain}, {text}: what the client sends
        # The document is cut to its first this many characters (0: whole); the built-in text
        # documents are at most 2000 characters, the math and code ones far shorter.
        "max_document_chars": 2000,
        "heldout_fraction": 0.1,  # of the raw corpus, by content hash: the critic is measured on it
        "max_tokens": 256,  # a critique's token budget when annotating (reasoning, critique, score)
    })
  return c
