"""Idempotent title-level tasks: the analysis and the constant-frame-rate intermediate, cached in the work folder.

Like chunks, each result is keyed by a content hash of its inputs and parameters and kept beside a
JSON receipt (size, SHA-256); it is reused only when the receipt still matches the bytes, so a run
killed at any moment redoes only what had not been finished. Task functions take and return plain
data (paths, checksums), so they run the same in a local pool or on a Dask worker.
"""

from __future__ import annotations

import glob
import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .analyze import ANALYSIS_WIDTH, Analysis, analyze
from .encode import ffmpeg_version, source_fingerprint
from .normalize import make_mezzanine
from .probe import MediaInfo, probe
from .receipts import content_key, read_receipt, sha256_file, temp_name, write_receipt
from .shots import ShotOptions

ANALYSIS_VERSION = 1


@dataclass(frozen=True)
class TaskResult:
    """What a task hands back: where its result is and how to check it (never the bytes)."""

    path: str
    bytes: int
    sha256: str
    reused: bool


def _receipt(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def verified(path: Path, key: str) -> TaskResult | None:
    """The result at ``path`` if its receipt names ``key`` and matches its size and checksum."""
    meta = read_receipt(path, _receipt(path))
    if meta is None or meta.get("key") != key:
        return None
    return TaskResult(str(path), meta["bytes"], meta["sha256"], True)


def record(path: Path, key: str) -> TaskResult:
    """Write the receipt of a result already in place at ``path``."""
    result = TaskResult(str(path), path.stat().st_size, sha256_file(path), False)
    write_receipt(_receipt(path), {"key": key, "bytes": result.bytes, "sha256": result.sha256})
    return result


def analysis_key(media: MediaInfo, options: ShotOptions) -> str:
    return content_key(
        {
            "task": "analyse",
            "src": source_fingerprint(media.path),
            "path": os.path.abspath(media.path),
            "shots": asdict(options),
            "width": ANALYSIS_WIDTH,
            "ff": ffmpeg_version(),
            "v": ANALYSIS_VERSION,
        }
    )


def analysis_path(work: Path, key: str) -> Path:
    return work / "analysis" / f"analysis-{key}.pickle"


def load_analysis(path: Path) -> Analysis | None:
    """An analysis saved by :func:`cached_analysis`; None if it cannot be read."""
    try:
        analysis = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    return analysis if isinstance(analysis, Analysis) else None


def cached_analysis(
    media: MediaInfo,
    options: ShotOptions,
    work: Path | None,
    on_progress: Callable[[float], None] | None = None,
) -> tuple[Analysis, bool]:
    """``analyze`` once per (source, shot options): later runs load the verified result. Returns (analysis, reused)."""
    if work is None:
        return analyze(media, options, on_progress), False
    key = analysis_key(media, options)
    path = analysis_path(work, key)
    if verified(path, key) is not None:
        analysis = load_analysis(path)
        if analysis is not None:
            if on_progress:
                on_progress(1.0)
            return analysis, True
    analysis = analyze(media, options, on_progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        tmp.write_bytes(pickle.dumps(analysis))
        os.replace(tmp, path)
        record(path, key)
    finally:
        tmp.unlink(missing_ok=True)
    return analysis, False


def cached_mezzanine(media: MediaInfo, dest: Path, on_progress: Callable[[float], None] | None = None) -> MediaInfo:
    """``make_mezzanine`` unless a verified intermediate of this very source is already there.

    Chunk keys hash the intermediate, so reusing it (rather than making a new one) is what lets a
    resumed run of a variable-frame-rate title keep its finished chunks.
    """
    key = content_key({"task": "cfr", "src": source_fingerprint(media.path), "ff": ffmpeg_version(), "v": 1})
    if verified(dest, key) is not None:
        mezz = probe(dest)
        mezz.audio = media.audio
        mezz.audio_path = media.path
        if on_progress:
            on_progress(1.0)
        return mezz
    _receipt(dest).unlink(missing_ok=True)
    mezz = make_mezzanine(media, dest, on_progress)
    record(dest, key)
    return mezz


def analyse_task(source: str, options: ShotOptions, work: str) -> TaskResult:
    """Probe and analyse one title into its work folder (the title's first task; runs on any worker)."""
    work_dir = Path(work)
    media = probe(source)
    if media.vfr:
        work_dir.mkdir(parents=True, exist_ok=True)
        media = cached_mezzanine(media, work_dir / "cfr-source.mp4")
    analysis, reused = cached_analysis(media, options, work_dir)
    key = analysis_key(media, options)
    path = analysis_path(work_dir, key)
    found = verified(path, key)
    if found is None:  # pragma: no cover - just written
        raise OSError(f"analysis of {source} vanished from {path}")
    return TaskResult(found.path, found.bytes, found.sha256, reused)


def remove_stale_staging(out_dir: Path) -> list[Path]:
    """Delete ``.<name>.tmp-<pid>`` / ``.<name>.old-<pid>`` folders left by killed runs (their pid is gone)."""
    removed = []
    for p in out_dir.parent.glob(f".{glob.escape(out_dir.name)}.*-*"):
        kind, _, pid = p.name[len(out_dir.name) + 2 :].partition("-")
        if kind not in ("tmp", "old") or not pid.isdigit() or not p.is_dir() or _alive(int(pid)):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
