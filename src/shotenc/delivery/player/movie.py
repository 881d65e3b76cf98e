"""Sabre's movie files (segment sizes per rung) as a :class:`Title`, for simulation-only runs."""

from __future__ import annotations

import json
from pathlib import Path

from .session import Title
from .traces import TraceError


def load_movie(path: str | Path) -> Title:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        seg_s = data["segment_duration_ms"] / 1000
        rates = [float(b) for b in data["bitrates_kbps"]]
        sizes = [[float(bits) for bits in row] for row in data["segment_sizes_bits"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TraceError(f"{path}: not a Sabre movie file ({exc})") from None
    return Title(path.stem, [f"{int(r)}k" for r in rates], rates, [seg_s] * len(sizes), sizes, sizes_published=True)


def is_movie(path: str | Path) -> bool:
    p = Path(path)
    if p.suffix != ".json" or not p.is_file():
        return False
    return p.read_text()[:200].lstrip().startswith("{") and "segment_sizes_bits" in p.read_text()
