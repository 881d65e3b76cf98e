"""The benchmarks' own encode: the bundled sample through the real pipeline with a six-rung H.264
ladder at Pensieve's rates (benchmarks/abr-ladder.toml), cached in .cache/abr-bench/sample."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
CACHE = ROOT / ".cache" / "abr-bench"


def own_encode() -> Path:
    """The encoded folder (encodes once)."""
    out = CACHE / "sample"
    if not (out / "report.json").is_file():
        from shotenc.pipeline import EncodeOptions, encode_title

        encode_title(
            ROOT / "samples" / "sample.mp4", out, EncodeOptions(ladder=str(ROOT / "benchmarks" / "abr-ladder.toml"))
        )
    return out
