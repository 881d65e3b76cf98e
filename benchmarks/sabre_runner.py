"""Run Sabre itself (``../shared/sabre/sabre.py``, unmodified) and read its printed figures.

Used by ``benchmarks/abr.py`` (Sabre's figures beside ours) and ``tests/data/sabre/record.py``
(the per-trace figures the reference-rule tests pin). Sabre is run as a separate process, never
imported or copied.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from shotenc.delivery.player.traces import shared_dir  # noqa: E402

SABRE = Path(os.environ.get("SHOTENC_SABRE", shared_dir() / "sabre" / "sabre.py"))
FIELDS = {
    "time average score": "score",
    "time average played bitrate": "kbps",
    "rebuffer ratio": "rebuffer_ratio",
    "total rebuffer": "rebuffer_s",
    "total play time": "play_s",
    "total rebuffer events": "rebuffer_events",
    "time average played utility": "utility",
}
ALGORITHMS = {"bola-e": "bolae", "bola": "bola", "throughput": "throughput", "dynamic": "dynamic"}


def run_sabre(trace: Path, movie: Path, rule: str, buffer_s: float = 25.0, extra: tuple[str, ...] = ()) -> dict:
    """Sabre's figures for one session (rule by our name: bola-e, bola, throughput, dynamic)."""
    cmd = [
        sys.executable,
        str(SABRE),
        "-n",
        str(trace),
        "-m",
        str(movie),
        "-a",
        ALGORITHMS[rule],
        "-b",
        f"{buffer_s:g}",
        *extra,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    figures = {}
    for line in out.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in FIELDS:
            figures[FIELDS[key.strip()]] = float(value)
    return figures


def run_many(jobs: list[tuple[Path, Path, str]], buffer_s: float = 25.0, workers: int = 2) -> list[dict]:
    """Several sessions side by side (one process each)."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda j: run_sabre(j[0], j[1], j[2], buffer_s), jobs))
