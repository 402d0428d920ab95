"""One random stream per record, so record i is the same whatever n is (a smaller corpus is a prefix)."""
import random


def record_rng(seed: int, domain: str, index: int) -> random.Random:
  # A string seed is hashed with SHA-512 by `random`, so it is stable across processes and machines.
  return random.Random(f"{domain}:{seed}:{index}")
