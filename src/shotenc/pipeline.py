"""probe → shots/features → plan → encode chunks → package → manifests → report, for one title.

The output folder appears only when everything is written: the job builds a hidden sibling and
renames it into place. Chunks live in a work folder (``.<name>.work`` beside the output) until
the title is published, so a killed run picks up the chunks it had finished.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from .allocators.base import Allocator, ComplexityAllocator, EncodePlan
from .analysis.analyze import Analysis
from .analysis.shots import ShotOptions
from .encode.chunk import Chunk, ChunkJob, SourceRef, encode_chunk
from .encode.ratecontrol import RateFeedback
from .errors import ShotencError
from .jobs.executors import TaskGroup
from .jobs.tasks import cached_analysis, cached_mezzanine, clean_work, remove_partials
from .ladder import Ladder, fit_to_source, load_ladder
from .media.probe import probe
from .output import REPORT, check_output, files_under, publish, remove_stale_staging, staging_dir
from .package.cmaf import Rendition, audio_renditions, encode_audio, package_audio, package_video
from .package.manifests import master_playlist, media_playlist, write_mpd
from .progress import Reporter


@dataclass
class EncodeOptions:
    ladder: str = "default"
    codecs: list[str] | None = None
    jobs: int | None = None
    shot_options: ShotOptions = field(default_factory=ShotOptions)
    work_dir: Path | None = None
    keep_work: bool = False
    force: bool = False  # publish into a folder holding foreign files (they are kept)


@dataclass
class Prepared:
    """An analysis already made for this title (e.g. by a task on a worker), with what it cost."""

    analysis: Analysis
    reused: bool
    seconds: float


@dataclass
class TitleResult:
    out_dir: Path
    report: dict

    @property
    def summary(self) -> dict:
        r = self.report
        return {
            "output": str(self.out_dir),
            "shots": len(r["shots"]),
            "renditions": len(r["renditions"]),
            "chunks": r["totals"]["chunks"],
            "reused_chunks": r["totals"]["reused_chunks"],
            "seconds": r["timings"]["total_s"],
        }


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def work_dir_for(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.work"


def plan_title(
    source: str | Path,
    options: EncodeOptions,
    allocator: Allocator | None = None,
    reporter: Reporter | None = None,
    work: Path | None = None,
    prepared: Prepared | None = None,
) -> tuple[Analysis, EncodePlan, dict]:
    """Probe, analyse and allocate: everything before the first encode (probe and analysis skipped when prepared)."""
    reporter = reporter or Reporter()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    ladder = load_ladder(options.ladder)  # option errors first, before any decoding
    fit_to_source(ladder, 1920, 1080, options.codecs)
    if prepared is not None:
        if prepared.reused:
            reporter.note(f"reused the analysis of {Path(source).name} from {work}")
        timings.update(probe_s=0.0, analyse_s=prepared.seconds)
        return prepared.analysis, _allocate(prepared.analysis, ladder, options, allocator, timings), timings
    media = probe(source)
    if media.vfr:
        if work is None:
            raise ShotencError("a variable-frame-rate source needs a work folder")
        work.mkdir(parents=True, exist_ok=True)
        reporter.note(f"variable frame rate: making a {float(media.fps):.3f} fps intermediate")
        reporter.stage("constant frame rate", 100)
        media = cached_mezzanine(
            media, work / "cfr-source.mp4", lambda f: reporter.update("constant frame rate", f * 100)
        )
    timings["probe_s"] = time.perf_counter() - t

    t = time.perf_counter()
    reporter.stage("analyse", 100)
    analysis, reused = cached_analysis(media, options.shot_options, work, lambda f: reporter.update("analyse", f * 100))
    if reused:
        reporter.note(f"reused the analysis of {Path(source).name} from {work}")
    timings["analyse_s"] = time.perf_counter() - t

    return analysis, _allocate(analysis, ladder, options, allocator, timings), timings


def _allocate(
    analysis: Analysis, ladder: Ladder, options: EncodeOptions, allocator: Allocator | None, timings: dict
) -> EncodePlan:
    t = time.perf_counter()
    media = analysis.media
    rungs = fit_to_source(ladder, media.width, media.height, options.codecs)
    plan = (allocator or ComplexityAllocator()).allocate(analysis, rungs)
    timings["plan_s"] = time.perf_counter() - t
    return plan


def chunk_jobs(analysis: Analysis, plan: EncodePlan, threads: int = 1) -> list[ChunkJob]:
    src = SourceRef.of(analysis.media)
    jobs = [
        ChunkJob(src, shot.index, shot.start_frame, shot.frame_count, rung, plan.point(rung.id, shot.index), threads)
        for rung in plan.rungs
        for shot in plan.shots
    ]
    return sorted(jobs, key=lambda j: -j.cost())  # longest first packs the workers best


def run_chunks(
    jobs: list[ChunkJob],
    work: Path,
    executor: Executor,
    reporter: Reporter,
    submit_kwargs: dict | None = None,
    in_flight: int = 4,
) -> dict[tuple[str, int], Chunk]:
    """Encode every job, keeping ``in_flight`` submitted so each new one gets the latest rate feedback."""
    reporter.stage("encode", len(jobs))
    feedback = RateFeedback()
    feedback.expect(jobs)
    pending = list(jobs)
    running: dict[Future, ChunkJob] = {}
    done: dict[tuple[str, int], Chunk] = {}
    try:
        while pending or running:
            while pending and len(running) < max(1, in_flight):
                job = feedback.adjust(pending.pop(0))
                running[executor.submit(encode_chunk, job, str(work), **(submit_kwargs or {}))] = job
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                job = running.pop(fut)
                chunk = fut.result()
                feedback.record(job, chunk)
                done[(chunk.rung_id, chunk.shot_index)] = chunk
                reporter.advance("encode")
    except BaseException:
        for f in running:
            f.cancel()
        raise
    return done


def encode_title(
    source: str | Path,
    out_dir: str | Path,
    options: EncodeOptions | None = None,
    allocator: Allocator | None = None,
    reporter: Reporter | None = None,
    executor: Executor | None = None,
    submit_kwargs: dict | None = None,
    prepared: Prepared | None = None,
) -> TitleResult:
    """Encode one title into ``out_dir`` (DASH + HLS + report.json), published atomically."""
    options = options or EncodeOptions()
    reporter = reporter or Reporter()
    out_dir = Path(out_dir)
    t_start = time.perf_counter()
    check_output(out_dir, [Path(source)], options.force)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(out_dir.parent, os.W_OK):
        raise ShotencError(f"cannot write to {out_dir.parent}")
    work = Path(options.work_dir) if options.work_dir else work_dir_for(out_dir)
    if remove_partials(work):
        reporter.note(f"removed half-written files of an earlier run from {work}")

    analysis, plan, timings = plan_title(source, options, allocator, reporter, work, prepared)

    t = time.perf_counter()
    n_jobs = options.jobs or default_jobs()
    threads = max(1, default_jobs() // n_jobs)
    jobs = chunk_jobs(analysis, plan, threads)
    work.mkdir(parents=True, exist_ok=True)
    own_executor = executor is None
    base = executor or ThreadPoolExecutor(max_workers=n_jobs)
    try:
        return _encode_and_publish(
            analysis,
            plan,
            jobs,
            work,
            out_dir,
            options,
            n_jobs,
            timings,
            t,
            t_start,
            reporter,
            TaskGroup(base),
            submit_kwargs or {},
        )
    finally:
        if own_executor:
            base.shutdown(wait=True, cancel_futures=True)


def _encode_and_publish(
    analysis: Analysis,
    plan: EncodePlan,
    jobs: list[ChunkJob],
    work: Path,
    out_dir: Path,
    options: EncodeOptions,
    n_jobs: int,
    timings: dict[str, float],
    t: float,
    t_start: float,
    reporter: Reporter,
    executor: TaskGroup,
    submit_kwargs: dict,
) -> TitleResult:
    """Chunks, audio and packaging all run as tasks on ``executor`` (a local pool or Dask workers).

    On any failure every task of the title is stopped or finished before the staging folder goes.
    """
    media = analysis.media
    audio = {
        spec.id: executor.submit(
            encode_audio, spec, media, media.duration_s, work / "audio" / f"{spec.id}.mp4", **submit_kwargs
        )
        for spec in audio_renditions(media)
    }
    try:
        chunks = run_chunks(jobs, work, executor, reporter, submit_kwargs, in_flight=n_jobs + 1)
    except BaseException:
        executor.settle()
        raise
    timings["encode_s"] = time.perf_counter() - t
    reused = sum(1 for c in chunks.values() if c.reused)
    if reused:
        reporter.note(f"reused {reused} of {len(chunks)} finished chunks from {work}")

    t = time.perf_counter()
    staging = staging_dir(out_dir)
    remove_stale_staging(out_dir)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        report = _package(analysis, plan, chunks, audio, staging, work / "stitch", reporter, executor, submit_kwargs)
        timings["package_s"] = time.perf_counter() - t
        timings["total_s"] = time.perf_counter() - t_start
        report["timings"] = {k: round(v, 3) for k, v in timings.items()}
        report["totals"]["chunks"] = len(chunks)
        report["totals"]["reused_chunks"] = reused
        report["totals"]["chunk_encode_s"] = round(sum(c.seconds for c in chunks.values() if not c.reused), 3)
        report["options"] = {
            "ladder": options.ladder,
            "codecs": options.codecs,
            "jobs": n_jobs,
            "detector": options.shot_options.detector,
            "threshold": options.shot_options.threshold,
            "min_shot_s": options.shot_options.min_shot_s,
            "max_segment_s": options.shot_options.max_segment_s,
        }
        report["files"] = files_under(staging)  # the inventory that lets a later run replace this folder
        (staging / REPORT).write_text(json.dumps(report, indent=2), encoding="utf-8")
        check_output(out_dir, [Path(analysis.media.path)], options.force)  # it may have changed meanwhile
        publish(staging, out_dir)
    except BaseException:
        executor.settle()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not options.keep_work:
        clean_work(work)
    return TitleResult(out_dir, report)


def _package(
    analysis: Analysis,
    plan: EncodePlan,
    chunks: dict[tuple[str, int], Chunk],
    audio_files: dict[str, Future],
    staging: Path,
    scratch: Path,
    reporter: Reporter,
    pool: Executor,
    submit_kwargs: dict,
) -> dict:
    media = analysis.media
    shots = plan.shots
    specs = audio_renditions(media)
    reporter.stage("package", len(plan.rungs) + len(specs))

    stitched = [
        pool.submit(
            package_video,
            rung,
            [chunks[(rung.id, s.index)].path for s in shots],
            shots,
            media,
            staging,
            scratch,
            **submit_kwargs,
        )
        for rung in plan.rungs
    ]
    video: list[Rendition] = []
    for rung, fut in zip(plan.rungs, stitched, strict=True):
        rend = fut.result()
        rend.extra["rung"] = rung.to_dict()
        rend.extra["shots"] = [
            {
                "shot": s.index,
                "rate": plan.point(rung.id, s.index).to_dict(),
                "requested_kbps": chunks[(rung.id, s.index)].requested_kbps,
                "bytes": chunks[(rung.id, s.index)].bytes,
                "kbps": round(chunks[(rung.id, s.index)].bytes * 8 / s.duration_s / 1000, 2),
            }
            for s in shots
        ]
        (staging / rend.directory / "playlist.m3u8").write_text(media_playlist(rend), encoding="utf-8")
        reporter.advance("package")
        video.append(rend)
    audio: list[Rendition] = []
    for spec in specs:
        rend = package_audio(spec, audio_files[spec.id].result(), video[0].segments, staging)
        (staging / rend.directory / "playlist.m3u8").write_text(media_playlist(rend), encoding="utf-8")
        audio.append(rend)
        reporter.advance("package")
    duration = sum(s.duration_s for s in shots)
    (staging / "manifest.mpd").write_text(write_mpd(video, audio, duration), encoding="utf-8")
    (staging / "master.m3u8").write_text(master_playlist(video, audio), encoding="utf-8")
    total_bytes = sum(s.bytes for r in video + audio for s in r.segments)
    return {
        "source": media.to_dict(),
        "allocator": plan.allocator,
        "plan": plan.details,
        "shots": [{**s.to_dict(), "features": f.to_dict()} for s, f in zip(shots, analysis.features, strict=True)],
        "renditions": [r.to_dict() for r in video],
        "audio": [r.to_dict() for r in audio],
        "totals": {
            "duration_s": round(duration, 6),
            "frames": media.frame_count,
            "bytes": total_bytes,
            "video_bytes": sum(s.bytes for r in video for s in r.segments),
        },
        "outputs": {"dash": "manifest.mpd", "hls": "master.m3u8"},
    }
