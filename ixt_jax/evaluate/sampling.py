"""Batched autoregressive sampling under `jax.jit`: prefill, then a while loop of one-token steps.

Prompts are left-padded to a shared length; row b's text starts at slot start[b], and the model's
`decode` never lets a token see the padding before it. A fixed-size key/value cache of prompt +
new-token slots is carried through `jax.lax.while_loop`, which ends when every row has produced
its end-of-document token or its token budget. Greedy where a row's temperature is 0, else nucleus
(top-p) sampling; temperatures, top-p and budgets are per row, so one compiled program serves
mixed requests. Every row draws from its own key (the call's seed folded with the row's seed, then
with the step), so a row's sample depends on its seed only, not on its batch or its neighbours:
the same prompt under two critique conditions can be sampled with the same randomness.
Batches are split over the mesh's data axes like training batches.
Stop strings are applied on the host after decoding. With `on_token`, every step's tokens also go
to the host as they are chosen (an io_callback in the loop, compiled in only then), for streaming.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import threading
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.experimental import io_callback
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ixt_jax.models.transformer import init_cache
from ixt_jax.parallel.mesh import data_parallel_size
from ixt_jax.parallel.rules import logical_to_mesh
from ixt_jax.parallel.sharding import use_mesh

_LENGTH_BUCKET = 64  # prompt and budget lengths are rounded up to this: fewer compilations
_STREAMS: dict[int, Callable[[np.ndarray], None]] = {}  # decoding call id -> receives each step's [B] tokens
_STREAM_IDS = itertools.count()
_STREAMS_LOCK = threading.Lock()


def _to_stream(call_id, tokens):
  with _STREAMS_LOCK:
    receive = _STREAMS.get(int(call_id))
  if receive is not None:
    receive(np.asarray(tokens))


@dataclasses.dataclass(frozen=True)
class SamplingSettings:
  max_new_tokens: int = 256
  temperature: float = 0.0  # 0: greedy
  top_p: float = 1.0
  stop: tuple[str, ...] = ()  # the text is cut before the first of these
  ignore_eos: bool = False  # run to max_new_tokens (for timing decode at a fixed length)

  def __post_init__(self):
    if self.max_new_tokens < 1:
      raise ValueError(f"max_new_tokens={self.max_new_tokens}: must be at least 1")
    if self.temperature < 0 or not 0 < self.top_p <= 1:
      raise ValueError(f"temperature={self.temperature}, top_p={self.top_p}: need temperature >= 0, 0 < top_p <= 1")


@dataclasses.dataclass(frozen=True)
class Completion:
  text: str
  tokens: list[int]  # generated ids, the end-of-document token included when produced
  prompt_tokens: int
  finish_reason: str  # "stop" (end of document or a stop string) or "length"


def choose_tokens(logits: jax.Array, temperature: jax.Array, top_p: jax.Array, keys: jax.Array) -> jax.Array:
  """Next token per row: argmax where temperature is 0, else a draw from the top-p nucleus with
  the row's key (`keys`: one per row)."""
  greedy = jnp.argmax(logits, axis=-1).astype(jnp.int32)

  def sample():
    scaled = logits / jnp.where(temperature > 0, temperature, 1.0)[:, None]
    ranked = jnp.sort(scaled, axis=-1)[:, ::-1]
    probs = jax.nn.softmax(ranked, axis=-1)
    mass_before = jnp.cumsum(probs, axis=-1) - probs
    kept = jnp.sum(mass_before < top_p[:, None], axis=-1)  # the fewest tokens reaching top_p (>= 1)
    threshold = jnp.take_along_axis(ranked, kept[:, None] - 1, axis=-1)
    nucleus = jnp.where(scaled >= threshold, scaled, -jnp.inf)
    drawn = jax.vmap(lambda k, row: jax.random.categorical(k, row))(keys, nucleus)
    return jnp.where(temperature > 0, drawn.astype(jnp.int32), greedy)

  return jax.lax.cond(jnp.any(temperature > 0), sample, lambda: greedy)


def _generate(graphdef, params, prompt, start, budget, stops_at_eos, temperature, top_p, key, row_seeds, call_id, *,
              new_tokens: int, use_cache: bool, stream: bool, eos_id: int, pad_id: int):
  """[B, new_tokens] generated ids (pad_id after a row's end); see the module docstring."""
  model = lambda: nnx.merge(graphdef, params)  # merged where used: NNX refuses modules across traces
  batch, prompt_len = prompt.shape
  slots = prompt_len + new_tokens
  if use_cache:
    state = init_cache(model().cfg, batch, slots)

    def advance(cache, tokens, index):
      logits, cache = model().decode(tokens, cache, index, start)
      return logits[:, -1], cache
  else:  # recompute the whole sequence every step: the reference the cache is measured against
    state = jnp.zeros((batch, slots), jnp.int32)
    slot = jnp.arange(slots)[None, :]
    segment_ids = (slot >= start[:, None]).astype(jnp.int32)
    positions = jnp.maximum(slot - start[:, None], 0)

    def advance(sequence, tokens, index):
      sequence = jax.lax.dynamic_update_slice_in_dim(sequence, tokens, index, axis=1)
      logits = model()(sequence, segment_ids, positions)
      return jax.lax.dynamic_index_in_dim(logits, index + tokens.shape[1] - 1, axis=1, keepdims=False), sequence

  row_keys = jax.vmap(lambda s: jax.random.fold_in(key, s))(row_seeds)

  def pick(logits, step, done):
    step_keys = jax.vmap(lambda k: jax.random.fold_in(k, step))(row_keys)
    token = jnp.where(done, pad_id, choose_tokens(logits, temperature, top_p, step_keys))
    if stream:
      io_callback(_to_stream, None, call_id, token)  # steps run in turn: each depends on the last token
    return token, done | ((token == eos_id) & stops_at_eos) | (step + 1 >= budget)

  logits, state = advance(state, prompt, 0)
  token, done = pick(logits, 0, jnp.zeros(batch, bool))
  out = jnp.zeros((batch, new_tokens), jnp.int32).at[:, 0].set(token)

  def body(carry):
    step, token, done, out, state = carry
    logits, state = advance(state, token[:, None], prompt_len + step - 1)
    token, done = pick(logits, step, done)
    return step + 1, token, done, out.at[:, step].set(token), state

  def more(carry):
    step, _, done, *_ = carry
    return (step < new_tokens) & ~jnp.all(done)

  return jax.lax.while_loop(more, body, (1, token, done, out, state))[3]


def _round_up(n: int, multiple: int) -> int:
  return -(-n // multiple) * multiple


class Sampler:
  """Generates continuations of token-id prompts with any parameters of one model, on a mesh.

  Args:
    graphdef: the model's graph (params come with each call, e.g. from the train state).
    vocab: decodes generated ids and applies stop strings.
    mesh: rows are split over its data axes.
    use_cache: False recomputes the full forward pass each step (for checks and benchmarks).
    max_batch: rows per compiled call; more prompts run in several calls.
  """

  def __init__(self, graphdef: nnx.GraphDef, vocab, mesh: Mesh, *, use_cache: bool = True,
               max_batch: int = 64):
    self.graphdef, self.vocab, self.mesh, self.use_cache = graphdef, vocab, mesh, use_cache
    self._rows = data_parallel_size(mesh)
    self.max_batch = _round_up(max_batch, self._rows)
    self._row_sharding = NamedSharding(mesh, logical_to_mesh(("batch",)))
    self._batch_sharding = NamedSharding(mesh, logical_to_mesh(("batch", "length")))
    self._jitted = jax.jit(_generate, static_argnames=("graphdef", "new_tokens", "use_cache", "stream", "eos_id", "pad_id"),
                           out_shardings=NamedSharding(mesh, PartitionSpec()))

  def _batch_size(self, n: int) -> int:
    """A power-of-two number of data-parallel groups: few distinct shapes, few compilations."""
    groups = -(-n // self._rows)
    return self._rows * 2 ** math.ceil(math.log2(groups))

  def generate(self, params, prompts: Sequence[Sequence[int]],
               settings: SamplingSettings | Sequence[SamplingSettings], seed: int = 0,
               on_token: Callable[[int, int], None] | None = None,
               row_seeds: Sequence[int] | None = None) -> list[list[int]]:
    """Generated ids of each prompt, up to and including its end-of-document token if produced.

    Rows of a call share one decoding loop: temperature, top_p and the budget may differ per row.
    on_token(i, token): called with each token of prompt i as the loop chooses it.
    Prompt i draws with `seed` and `row_seeds[i]` (default i): the same pair, prompt and settings
    give the same sample in any call, whatever else is in it.
    """
    row_seeds = list(range(len(prompts))) if row_seeds is None else list(row_seeds)
    if len(row_seeds) != len(prompts):
      raise ValueError(f"{len(row_seeds)} row_seeds for {len(prompts)} prompts")
    if isinstance(settings, SamplingSettings):
      settings = [settings] * len(prompts)
    if any(len(p) == 0 for p in prompts):
      raise ValueError("every prompt needs at least one token (a document's first token is never predicted)")
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))  # similar lengths batch together
    results: list[list[int]] = [[] for _ in prompts]
    for first in range(0, len(order), self.max_batch):
      rows = order[first:first + self.max_batch]
      generated = self._generate_batch(params, [prompts[i] for i in rows], [settings[i] for i in rows],
                                       jax.random.key(seed), [row_seeds[i] for i in rows],
                                       on_token and functools.partial(_deliver, on_token, rows, settings, self.vocab.eos_id))
      for i, ids in zip(rows, generated):
        results[i] = ids
    return results

  def _generate_batch(self, params, prompts, settings, key, row_seeds, on_step=None) -> list[list[int]]:
    batch = self._batch_size(len(prompts))
    prompt_len = _round_up(max(len(p) for p in prompts), _LENGTH_BUCKET)
    new_tokens = _round_up(max(s.max_new_tokens for s in settings), _LENGTH_BUCKET)
    tokens = np.full((batch, prompt_len), self.vocab.pad_id, np.int32)
    start = np.full(batch, prompt_len - 1, np.int32)  # filler rows: one padding token, budget 0
    budget = np.zeros(batch, np.int32)
    stops_at_eos = np.ones(batch, bool)
    temperature = np.zeros(batch, np.float32)
    top_p = np.ones(batch, np.float32)
    seeds = np.zeros(batch, np.int32)
    seeds[:len(row_seeds)] = row_seeds
    for row, (ids, s) in enumerate(zip(prompts, settings)):
      tokens[row, prompt_len - len(ids):] = ids
      start[row] = prompt_len - len(ids)
      budget[row], temperature[row], top_p[row] = s.max_new_tokens, s.temperature, s.top_p
      stops_at_eos[row] = not s.ignore_eos
    put = functools.partial(jax.device_put, device=self._row_sharding)
    call_id = next(_STREAM_IDS)
    if on_step is not None:
      with _STREAMS_LOCK:
        _STREAMS[call_id] = functools.partial(on_step, [0] * len(prompts))
    try:
      with use_mesh(self.mesh):
        out = self._jitted(self.graphdef, params, jax.device_put(tokens, self._batch_sharding), put(start),
                           put(budget), put(stops_at_eos), put(temperature), put(top_p), key,
                           put(seeds), np.int32(call_id % (1 << 31)), new_tokens=new_tokens, use_cache=self.use_cache,
                           stream=on_step is not None, eos_id=self.vocab.eos_id, pad_id=self.vocab.pad_id)
        out = np.asarray(jax.device_get(out))
    finally:
      with _STREAMS_LOCK:
        _STREAMS.pop(call_id, None)
    return [out[row, :budget[row]].tolist() if s.ignore_eos else _until_end(out[row, :budget[row]], self.vocab.eos_id)
            for row, s in enumerate(settings)]

  def complete(self, params, prompts: Sequence[Sequence[int]],
               settings: SamplingSettings | Sequence[SamplingSettings], seed: int = 0,
               on_token: Callable[[int, int], None] | None = None,
               row_seeds: Sequence[int] | None = None) -> list[Completion]:
    """`generate`, decoded to text and cut at the stop strings."""
    if isinstance(settings, SamplingSettings):
      settings = [settings] * len(prompts)
    completions = []
    for prompt, s, ids in zip(prompts, settings, self.generate(params, prompts, settings, seed, on_token, row_seeds)):
      ended = bool(ids) and ids[-1] == self.vocab.eos_id
      text, stopped = cut_at_stop(self.vocab.decode(ids[:-1] if ended else ids), s.stop)
      completions.append(Completion(text, ids, len(prompt), "stop" if ended or stopped else "length"))
    return completions


def _deliver(on_token, rows: list[int], settings, eos_id: int, counts: list[int], tokens: np.ndarray) -> None:
  """Hands one step's tokens to on_token(prompt index, token), each row until its end or budget."""
  for row, index in enumerate(rows):
    s = settings[index]
    if counts[row] < s.max_new_tokens:
      counts[row] = s.max_new_tokens if tokens[row] == eos_id and not s.ignore_eos else counts[row] + 1
      on_token(index, int(tokens[row]))


def _until_end(row: np.ndarray, eos_id: int) -> list[int]:
  ends = np.flatnonzero(row == eos_id)
  return row[:ends[0] + 1].tolist() if len(ends) else row.tolist()


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
  """`text` before the earliest stop string, and whether one occurred."""
  cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
  return (text[:cut], True) if cut >= 0 else (text, False)
