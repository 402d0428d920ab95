"""The records of an offline W&B run file (`run-ID.wandb`), decoded with W&B's own protobuf schema.

The file is W&B's transaction log: a 7-byte header (`:W&B`, magic, version), then LevelDB-log framed
records (4-byte CRC, 2-byte length, 1-byte type: full, first, middle, last) in 32 KiB blocks.
"""
import glob
import os
import struct

import wandb
from wandb.proto import wandb_internal_pb2

_HEADER, _BLOCK, _FRAME = 7, 32768, 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def read_records(path: str) -> list:
  data = open(path, "rb").read()
  assert data[:4] == b":W&B", f"{path} is not a W&B run file"
  records, pending, at = [], b"", _HEADER
  while at + _FRAME <= len(data):
    if _BLOCK - at % _BLOCK < _FRAME:  # a block's tail too short for a frame is padding
      at += _BLOCK - at % _BLOCK
      continue
    _, length, kind = struct.unpack("<IHB", data[at:at + _FRAME])
    chunk, at = data[at + _FRAME:at + _FRAME + length], at + _FRAME + length
    if kind in (_FULL, _FIRST):
      pending = chunk
    elif kind in (_MIDDLE, _LAST):
      pending += chunk
    else:
      break  # zeroed space after the last record
    if kind in (_FULL, _LAST):
      record = wandb_internal_pb2.Record()
      record.ParseFromString(pending)
      records.append(record)
  return records


def offline_run_file(wandb_dir) -> str:
  """The run file under `wandb_dir`, complete: `finish()` may return before W&B's service wrote it out."""
  wandb.teardown()  # stops the service, which flushes every run file first
  (path,) = glob.glob(os.path.join(str(wandb_dir), "offline-run-*", "run-*.wandb"))
  return path
