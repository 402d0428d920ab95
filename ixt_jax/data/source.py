"""Random access to single records of a corpus's shards, by reference.

A reference is (shard index, position, byte length): for JSONL the position is the line's byte
offset, for ArrayRecord the record index. The reader opens files lazily, so it pickles into Grain
worker processes without file handles, and serialises reads, so Grain's read threads can share it.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from etils import epath
import numpy as np

from ixt_jax.data import shards

REF_FIELDS = 3  # shard index, position, byte length


class ShardReader:
  """Reads records of `shard_paths` by reference."""

  def __init__(self, shard_paths: Sequence[str]):
    self.shard_paths = [os.fspath(p) for p in shard_paths]
    self._is_jsonl = [shards.format_of(p) == "jsonl" for p in self.shard_paths]
    self._open: dict[int, object] = {}
    self._lock = threading.Lock()

  def __getstate__(self):
    return {"shard_paths": self.shard_paths, "_is_jsonl": self._is_jsonl}

  def __setstate__(self, state):
    self.__init__(state["shard_paths"])

  def _handle(self, shard: int):
    if shard not in self._open:
      path = self.shard_paths[shard]
      if self._is_jsonl[shard]:
        self._open[shard] = epath.Path(path).open("rb")
      else:
        from array_record.python import array_record_module  # pylint: disable=g-import-not-at-top
        self._open[shard] = array_record_module.ArrayRecordReader(path, "readahead_buffer_size:0")
    return self._open[shard]

  def read(self, ref: np.ndarray) -> bytes:
    shard, position, length = (int(x) for x in ref)
    with self._lock:
      handle = self._handle(shard)
      if self._is_jsonl[shard]:
        handle.seek(position)
        return handle.read(length)
      return handle.read([position])[0]

  def close(self):
    with self._lock:
      for handle in self._open.values():
        handle.close()
      self._open.clear()
