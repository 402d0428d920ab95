"""Content-hash cache of feedback: identical texts are judged once, also across runs and workers.

Keys hash the critic's description (so a different model, prompt or limit misses) with the record's
domain and text. Each worker appends to its own JSON-lines file (`cache/<worker>.cache`: not a record
file, so a `**/*.jsonl` glob of the output folder misses it) and reads every worker's file at start;
a line cut short by a kill is skipped. Failures are not cached, so they are retried.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from etils import epath

from ixt_jax.feedback.critic import Feedback


class FeedbackCache:

  def __init__(self, directory: epath.PathLike, worker: str, critic_description: dict[str, Any]):
    self._dir = epath.Path(directory)
    self._dir.mkdir(parents=True, exist_ok=True)
    self._salt = json.dumps(critic_description, sort_keys=True)
    self._entries: dict[str, Feedback] = {}
    for path in sorted(self._dir.glob("*.cache")):
      for line in path.read_text().splitlines():
        try:
          item = json.loads(line)
          self._entries[item["key"]] = Feedback(item["critique"], item["score"], item["critic"], item["tokens"])
        except (ValueError, KeyError, TypeError):
          continue
    self._file = (self._dir / f"{worker}.cache").open("a")

  def key(self, record: dict[str, Any]) -> str:
    content = json.dumps([self._salt, record.get("domain"), record["text"]])
    return hashlib.sha256(content.encode("utf-8")).hexdigest()

  def get(self, key: str) -> Feedback | None:
    return self._entries.get(key)

  def put(self, key: str, feedback: Feedback) -> None:
    self._entries[key] = feedback
    self._file.write(json.dumps({"key": key, "critique": feedback.critique, "score": feedback.score,
                                 "critic": feedback.critic, "tokens": feedback.tokens}) + "\n")

  def flush(self) -> None:
    self._file.flush()

  def close(self) -> None:
    self._file.close()
