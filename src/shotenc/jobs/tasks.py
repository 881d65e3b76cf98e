"""Idempotent title-level tasks: the analysis and the constant-frame-rate intermediate, cached in the work folder.

Like chunks, each result is keyed by a content hash of its inputs and parameters and kept beside a
JSON receipt (size, SHA-256); it is reused only when the receipt still matches the bytes, so a run
killed at any moment redoes only what had not been finished. Task functions take and return plain
data (paths, checksums), so they run the same in a local pool or on a Dask worker.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..analysis.analyze import ANALYSIS_WIDTH, Analysis, analysis_from_data, analyze
from ..analysis.shots import ShotOptions
from ..encode.chunk import ffmpeg_version, source_fingerprint
from ..media.normalize import adopt_tracks, make_mezzanine
from ..media.probe import MediaInfo, probe
from ..output import process_alive
from .receipts import content_key, read_receipt, sha256_file, temp_name, write_receipt

ANALYSIS_VERSION = 5


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
    return work / "analysis" / f"analysis-{key}.json"


def load_analysis(path: Path) -> Analysis | None:
    """An analysis saved by :func:`cached_analysis` (plain JSON, checked field by field); None if it is not one."""
    try:
        return analysis_from_data(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


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
        tmp.write_text(json.dumps(analysis.to_data()), encoding="utf-8")
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
        mezz = adopt_tracks(probe(dest, check_seek=False), media)
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
    if media.vfr or not media.seeks_exactly:
        work_dir.mkdir(parents=True, exist_ok=True)
        media = cached_mezzanine(media, work_dir / "cfr-source.mp4")
    analysis, reused = cached_analysis(media, options, work_dir)
    key = analysis_key(media, options)
    path = analysis_path(work_dir, key)
    found = verified(path, key)
    deadline = time.monotonic() + 5.0  # an identical task may be between replacing the file and its receipt
    while found is None and time.monotonic() < deadline:
        time.sleep(0.05)
        found = verified(path, key)
    if found is None:
        raise OSError(f"analysis of {source} vanished from {path}")
    return TaskResult(found.path, found.bytes, found.sha256, reused)


# what shotenc writes in a work folder; nothing else there is ever deleted
WORK_ENTRIES = ("analysis", "chunks", "audio", "subtitles", "stitch", "cfr-source.mp4", "cfr-source.mp4.json")
_PART = re.compile(r"^\..*?\.(?P<pid>\d{1,9})(?:\.\d+)?\.part(?:\.\w+)?$")  # receipts.temp_name / write_atomic


def clean_work(work: Path) -> None:
    """Remove what shotenc wrote in ``work`` (the folder too, once empty): a user's own files stay."""
    for name in WORK_ENTRIES:
        p = work / name
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_file() or p.is_symlink():
            p.unlink(missing_ok=True)
    remove_partials(work)
    try:
        work.rmdir()
    except OSError:
        pass  # not empty: it holds something shotenc did not write


def remove_partials(work: Path) -> int:
    """Delete half-written temporary files (``.<name>.<pid>…part``) whose writer is gone; returns how many."""
    if not work.is_dir():
        return 0
    found = [p for p in work.iterdir() if p.is_file()]
    for name in WORK_ENTRIES:
        if (work / name).is_dir() and not (work / name).is_symlink():
            found += [p for p in (work / name).rglob("*") if p.is_file()]
    stale = [p for p in found if (m := _PART.match(p.name)) and not process_alive(int(m["pid"]))]
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)
