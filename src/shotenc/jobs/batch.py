"""Batch: every video under a folder becomes one published title; one bad file never stops the others.

Titles run side by side and send their tasks (analyse, encode chunk) to one shared executor, so
the cores (or Dask workers) stay busy while a title is being analysed or packaged. A published
title gets a small receipt beside it (``.<name>.done.json``, keyed by a hash of the source and
every option); a later batch skips titles whose receipt and report still match.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import __version__
from ..encode.chunk import ffmpeg_version, source_fingerprint
from ..errors import ShotencError
from ..output import REPORT
from ..pipeline import EncodeOptions, encode_title
from ..progress import Reporter
from .executors import Runner, thread_pool
from .receipts import content_key, sha256_file, write_atomic

VIDEO_SUFFIXES = frozenset(
    ".mp4 .m4v .mov .mkv .webm .avi .mxf .ts .m2ts .mts .mpg .mpeg .flv .wmv .y4m .ogv .3gp".split()
)
SUMMARY_NAME = "batch.json"


@dataclass
class TitleOutcome:
    """One line of the summary: ``reason`` is the one-line error of a failed title."""

    source: str
    output: str
    status: str = "pending"  # ok | failed
    reason: str = ""
    seconds: float = 0.0
    shots: int = 0
    chunks: int = 0
    reused_chunks: int = 0
    reused_analysis: bool = False
    skipped: bool = False  # already published with the same inputs: nothing to do


@dataclass
class BatchResult:
    folder: str
    output: str
    scheduler: str
    workers: int
    seconds: float
    titles: list[TitleOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[TitleOutcome]:
        return [t for t in self.titles if t.status != "ok"]

    def to_dict(self) -> dict:
        return {
            **{k: v for k, v in asdict(self).items() if k != "titles"},
            "ok": sum(t.status == "ok" for t in self.titles),
            "failed": len(self.failed),
            "chunks": sum(t.chunks for t in self.titles),
            "reused_chunks": sum(t.reused_chunks for t in self.titles),
            "titles": [asdict(t) for t in self.titles],
        }


def find_titles(folder: Path, exclude: Path | None = None) -> list[Path]:
    """Video files under ``folder`` by suffix, skipping hidden paths and anything inside ``exclude``."""
    folder = folder.resolve()
    skip = exclude.resolve() if exclude else None
    found = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or p.suffix.lower() not in VIDEO_SUFFIXES:
            continue
        if skip is not None and (p == skip or skip in p.parents):
            continue
        if p.is_file():
            found.append(p)
    return found


def output_paths(titles: list[Path], folder: Path, out: Path) -> dict[Path, Path]:
    """``out/<relative path without suffix>``; names that would collide keep their suffix."""
    folder = folder.resolve()
    stems = [t.relative_to(folder).with_suffix("") for t in titles]
    dupes = {s for s in stems if stems.count(s) > 1}
    return {
        t: out / (s.with_name(f"{s.name}-{t.suffix.lstrip('.').lower()}") if s in dupes else s)
        for t, s in zip(titles, stems, strict=True)
    }


def title_key(source: Path, options: EncodeOptions) -> str:
    """Hash of everything that decides a title's output: source bytes and path, ladder, options, FFmpeg."""
    ladder, _ = options.checked()
    return content_key(
        {
            "task": "title",
            "src": source_fingerprint(str(source)),
            "path": str(source.resolve()),
            "ladder": [asdict(r) for r in ladder.rungs],
            "auto": options.ladder == "auto",
            "codecs": options.codecs,
            "shots": asdict(options.shot_options),
            "mode": options.mode,
            "allocator": asdict(options.allocator_options),
            "vmaf": options.measure_vmaf,
            "ff": ffmpeg_version(),
            "shotenc": __version__,
        }
    )


def done_receipt(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.done.json"


def already_published(out_dir: Path, key: str) -> dict | None:
    """The published report if ``out_dir`` was made from the same inputs and is unchanged since."""
    try:
        meta = json.loads(done_receipt(out_dir).read_text())
        report = out_dir / "report.json"
        if meta["key"] != key or sha256_file(report) != meta["report_sha256"]:
            return None
        return json.loads(report.read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(exc, (ShotencError, OSError)):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class BatchReporter:
    """Silent; the CLI passes a live (rich) view."""

    def title(self, name: str) -> Reporter:
        return Reporter()

    def finished(self, name: str, outcome: TitleOutcome) -> None:
        """Title ``name`` ended (``outcome.status`` tells how)."""


def check_batch(folder: Path, out: Path, options: EncodeOptions) -> list[Path]:
    """What fails the whole batch, checked once before any work: the folder, the options, the output."""
    if not folder.is_dir():
        raise ShotencError(f"{folder} is not a folder")
    options.checked()
    titles = find_titles(folder, exclude=out)
    if not titles:
        raise ShotencError(f"no video files under {folder}")
    summary = out / SUMMARY_NAME
    if summary.exists() and not _is_summary(summary) and not options.force:
        raise ShotencError(f"{summary} exists and is not a batch summary shotenc wrote; choose another -o")
    out.mkdir(parents=True, exist_ok=True)
    if not os.access(out, os.W_OK):
        raise ShotencError(f"cannot write to {out}")
    return titles


def _is_summary(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("titles"), list) and "scheduler" in data


def encode_one(
    src: Path, dest: Path, out: Path, options: EncodeOptions, runner: Runner, reporter: BatchReporter
) -> TitleOutcome:
    """One title of a batch: skipped when already published from the same inputs, else encoded; never raises."""
    name = str(dest.relative_to(out))
    outcome = TitleOutcome(str(src), str(dest))
    t = time.perf_counter()
    try:
        key = title_key(src, options)
        report = already_published(dest, key)
        if report is not None:
            outcome.status, outcome.skipped = "ok", True
            outcome.shots = len(report["shots"])
            outcome.chunks = outcome.reused_chunks = report["totals"]["chunks"]
        else:
            title_reporter = reporter.title(name)
            title_reporter.stage("analyse", 100)
            dest.parent.mkdir(parents=True, exist_ok=True)
            done_receipt(dest).unlink(missing_ok=True)
            result = encode_title(src, dest, options, title_reporter, runner)
            write_atomic(done_receipt(dest), json.dumps({"key": key, "report_sha256": sha256_file(dest / REPORT)}))
            s = result.summary
            outcome.status, outcome.reused_analysis = "ok", result.reused_analysis
            outcome.shots, outcome.chunks, outcome.reused_chunks = s["shots"], s["chunks"], s["reused_chunks"]
    except Exception as exc:  # noqa: BLE001 - one title's failure is reported, the batch goes on
        outcome.status, outcome.reason = "failed", one_line(exc)
    outcome.seconds = round(time.perf_counter() - t, 3)
    reporter.finished(name, outcome)
    return outcome


def run_batch(
    folder: str | Path,
    out: str | Path,
    options: EncodeOptions | None = None,
    runner: Runner | None = None,
    reporter: BatchReporter | None = None,
) -> BatchResult:
    """Encode every video under ``folder`` into ``out`` with ``runner``'s executor; never raises for one title.

    Without a runner, a local pool of ``options.jobs`` (default: one per core) is used.
    """
    folder, out, options = Path(folder), Path(out), options or EncodeOptions()
    if runner is None:
        with Runner(jobs=options.jobs) as own:
            return run_batch(folder, out, options, own, reporter)
    reporter = reporter or BatchReporter()
    titles = check_batch(folder, out, options)
    dests = output_paths(titles, folder, out)
    title_options = dataclasses.replace(options, work_dir=None)
    t0 = time.perf_counter()

    def one(src: Path) -> TitleOutcome:
        return encode_one(src, dests[src], out, title_options, runner, reporter)

    # titles in flight mostly wait on their tasks; twice the workers keeps the task queue full while
    # some titles are being analysed or packaged (earlier titles' tasks still run first)
    in_flight = min(len(titles), 2 * runner.workers)
    with thread_pool(in_flight, name="title") as pool:
        outcomes = list(pool.map(one, titles))
    result = BatchResult(
        str(folder),
        str(out),
        runner.scheduler or f"local threads ({runner.workers})",
        runner.workers,
        round(time.perf_counter() - t0, 3),
        outcomes,
    )
    write_atomic(out / SUMMARY_NAME, json.dumps(result.to_dict(), indent=2))
    return result
