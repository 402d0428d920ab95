"""Writing a fit's results: `fits.json` and figures, to a local folder or a bucket (via fsspec)."""
from __future__ import annotations

import json
import math
from typing import Any

import fsspec
import numpy as np

FITS = "fits.json"
FIGURE_FORMATS = ("png", "pdf")


def jsonable(value: Any) -> Any:
  """Plain JSON types throughout: numpy becomes lists and floats, a non-finite number becomes null."""
  if isinstance(value, dict):
    return {str(k): jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple, np.ndarray)):
    return [jsonable(v) for v in value]
  if isinstance(value, (bool, np.bool_)):
    return bool(value)
  if isinstance(value, (int, np.integer)):
    return int(value)
  if isinstance(value, (float, np.floating)):
    return float(value) if math.isfinite(value) else None
  return value


def write_fits(fits: dict, out_dir: str) -> str:
  path = f"{str(out_dir).rstrip('/')}/{FITS}"
  with fsspec.open(path, "wt", auto_mkdir=True) as f:
    json.dump(jsonable(fits), f, indent=2)
  return path


def save_figures(figures: dict, out_dir: str) -> list[str]:
  """Saves each named matplotlib figure as `<name>.png` and `<name>.pdf`; returns the paths."""
  paths = []
  for name, figure in figures.items():
    for fmt in FIGURE_FORMATS:
      path = f"{str(out_dir).rstrip('/')}/{name}.{fmt}"
      with fsspec.open(path, "wb", auto_mkdir=True) as f:
        figure.savefig(f, format=fmt, dpi=200, bbox_inches="tight")
      paths.append(path)
  return paths
