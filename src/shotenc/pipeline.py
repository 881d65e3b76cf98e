"""One title, end to end: probe → analysis → plan → encode → package → measure → report → publish.

Every step that costs time runs as a task on the runner's executor (a local pool or Dask
workers): the analysis, the probes, every chunk, the audio and the packaging of each rendition.
The output folder appears only when everything is written (a hidden sibling is renamed into
place); chunks live in a work folder (``.<name>.work`` beside the output) until then, so a killed
run picks up what it had finished.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from . import allocators
from .allocators import AllocatorOptions
from .allocators.base import Allocator, EncodePlan
from .analysis.analyze import Analysis
from .analysis.shots import ShotOptions
from .encode.chunk import Chunk
from .encode.run import encode_plan
from .errors import ShotencError
from .jobs.executors import Runner, TaskGroup
from .jobs.tasks import analyse_task, clean_work, load_analysis, remove_partials
from .ladder import Ladder, check_codecs, check_options, fit_to_source, load_ladder
from .output import REPORT, check_output, files_under, publish, remove_stale_staging, staging_dir
from .package.audio import audio_renditions, check_formats, encode_audio
from .package.subtitles import Sidecar, prepare_subtitles, read_sidecar, subtitle_specs
from .package.thumbnails import ThumbnailOptions
from .package.title import Tracks, package_title
from .progress import Reporter
from .report import build_report, measure_quality

AUTO_LADDER = "auto"  # ladder name: the default ladder's bitrates, each rung's size chosen from the hulls


@dataclass
class EncodeOptions:
    """Everything that decides how a title is encoded; checked by :meth:`checked` before any work."""

    ladder: str | Ladder = "default"  # a name in ladders/, a .toml path, a Ladder, or "auto"
    codecs: list[str] | None = None
    jobs: int | None = None  # parallel encodes on a local pool (default: one per core)
    shot_options: ShotOptions = field(default_factory=ShotOptions)
    mode: str = allocators.DEFAULT  # the allocator: allocators.names()
    allocator_options: AllocatorOptions = field(default_factory=AllocatorOptions)
    measure_vmaf: bool = False  # score every rendition (VMAF per shot and segment) into report.json
    work_dir: Path | None = None
    keep_work: bool = False
    force: bool = False  # publish into a folder holding foreign files (they are kept)
    subtitles: list[str | tuple[str, str | Path]] = field(default_factory=list)  # sidecars: "fr=movie.fr.srt"
    audio_formats: list[str] = field(default_factory=lambda: ["aac"])  # package.audio.AUDIO_FORMATS; AAC always
    thumbnails: ThumbnailOptions = field(default_factory=ThumbnailOptions)

    def sidecars(self) -> list[Sidecar]:
        return [Sidecar.parse(s) for s in self.subtitles]

    def checked(self) -> tuple[Ladder, Allocator]:
        """The ladder and the allocator these options name; ShotencError on anything wrong, before any decoding.

        Sidecar subtitle files are read and parsed here, so a malformed one stops the run before it starts.
        """
        self.shot_options.check()
        check_formats(self.audio_formats)
        self.thumbnails.check()
        for sidecar in self.sidecars():
            read_sidecar(sidecar)
        auto = self.ladder == AUTO_LADDER
        ladder = self.ladder if isinstance(self.ladder, Ladder) else load_ladder("default" if auto else self.ladder)
        check_codecs(ladder, self.codecs)
        check_options(ladder, self.codecs)
        chosen = replace(self.allocator_options, auto_ladder=self.allocator_options.auto_ladder or auto)
        return ladder, allocators.create(self.mode, chosen)

    def to_dict(self) -> dict:
        ladder = self.ladder.name if isinstance(self.ladder, Ladder) else self.ladder
        so = self.shot_options
        return {
            "ladder": ladder,
            "codecs": self.codecs,
            "jobs": self.jobs,
            "mode": self.mode,
            "detector": so.detector,
            "threshold": so.threshold,
            "min_shot_s": so.min_shot_s,
            "max_segment_s": so.max_segment_s,
            "audio_formats": check_formats(self.audio_formats),
            "subtitles": [f"{s.language}={s.path}" for s in self.sidecars()],
            "thumbnails": asdict(self.thumbnails),
        }


@dataclass
class TitleResult:
    out_dir: Path
    report: dict

    @property
    def reused_analysis(self) -> bool:
        return bool(self.report["totals"].get("reused_analysis"))

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


def analyze_title(
    source: str | Path, shot_options: ShotOptions | None = None, work_dir: Path | None = None
) -> Analysis:
    """Shots and their complexity as ``encode`` sees them (a variable-rate source through its intermediate)."""
    shot_options = shot_options or ShotOptions()
    shot_options.check()
    if work_dir is None:
        with tempfile.TemporaryDirectory(prefix="shotenc-analyse-") as tmp:
            return analyze_title(source, shot_options, Path(tmp))
    done = analyse_task(str(source), shot_options, str(work_dir))
    analysis = load_analysis(Path(done.path))
    if analysis is None:
        raise ShotencError(f"the analysis of {source} could not be read back from {done.path}")
    return analysis


def work_dir_for(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.work"


def encode_title(
    source: str | Path,
    out_dir: str | Path,
    options: EncodeOptions | None = None,
    reporter: Reporter | None = None,
    runner: Runner | None = None,
) -> TitleResult:
    """Encode one title into ``out_dir`` (DASH + HLS + report.json), published atomically.

    ``runner`` is where tasks run (a local pool of ``options.jobs`` when None; pass one to share
    it between titles or to use Dask).
    """
    options = options or EncodeOptions()
    if runner is None:
        with Runner(jobs=options.jobs) as own:
            return encode_title(source, out_dir, options, reporter, own)
    reporter = reporter or Reporter()
    t_start = time.perf_counter()
    ladder, allocator = options.checked()
    source, out_dir = Path(source), Path(out_dir)
    work = Path(options.work_dir) if options.work_dir else work_dir_for(out_dir)
    _prepare_output(source, out_dir, work, options, reporter)

    timings: dict[str, float] = {}
    analysis, reused = _analyse(source, options.shot_options, work, runner, reporter, timings)
    if reused:
        reporter.note(f"reused the analysis of {source.name} from {work}")
    tasks = TaskGroup(runner.executor)
    try:
        t = time.perf_counter()
        media = analysis.media
        rungs = fit_to_source(ladder, media.width, media.height, options.codecs)
        plan = allocator.allocate(analysis, rungs, tasks)
        timings["plan_s"] = time.perf_counter() - t
        for text in plan.details.get("warnings", []):
            reporter.warn(text)
        result = _encode_and_publish(analysis, plan, work, out_dir, options, runner, tasks, reporter, timings, t_start)
    except BaseException:
        tasks.settle()  # nothing of this title may still write when the caller cleans up
        raise
    result.report["totals"]["reused_analysis"] = reused
    return result


def _prepare_output(source: Path, out_dir: Path, work: Path, options: EncodeOptions, reporter: Reporter) -> None:
    """Refuse an output that would destroy a user's files; tidy what an earlier killed run left."""
    check_output(out_dir, [source], options.force)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(out_dir.parent, os.W_OK):
        raise ShotencError(f"cannot write to {out_dir.parent}")
    if remove_partials(work):
        reporter.note(f"removed half-written files of an earlier run from {work}")


def _analyse(
    source: Path, shot_options: ShotOptions, work: Path, runner: Runner, reporter: Reporter, timings: dict
) -> tuple[Analysis, bool]:
    """Probe and analyse as the title's first task (on a worker, on Dask); the result comes back as plain data."""
    t = time.perf_counter()
    reporter.stage("analyse", 1)
    done = runner.executor.submit(analyse_task, str(source), shot_options, str(work)).result()
    analysis = load_analysis(Path(done.path))
    if analysis is None:
        raise ShotencError(f"the analysis of {source.name} could not be read back from {done.path}")
    reporter.advance("analyse")
    timings["analyse_s"] = time.perf_counter() - t
    return analysis, done.reused


def _encode_and_publish(
    analysis: Analysis,
    plan: EncodePlan,
    work: Path,
    out_dir: Path,
    options: EncodeOptions,
    runner: Runner,
    tasks: TaskGroup,
    reporter: Reporter,
    timings: dict[str, float],
    t_start: float,
) -> TitleResult:
    media = analysis.media
    work.mkdir(parents=True, exist_ok=True)
    tracks = _submit_tracks(media, work, options, tasks, reporter)
    t = time.perf_counter()
    chunks = encode_plan(analysis, plan, work, tasks, reporter, runner.chunk_threads, runner.workers + 1)
    timings["encode_s"] = time.perf_counter() - t
    reused = sum(1 for c in chunks.values() if c.reused)
    if reused:
        reporter.note(f"reused {reused} of {len(chunks)} finished chunks from {work}")

    staging = staging_dir(out_dir)
    remove_stale_staging(out_dir)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        report = _package_and_report(analysis, plan, chunks, tracks, staging, work, options, tasks, reporter, timings)
        report["options"]["jobs"] = runner.workers
        timings["total_s"] = time.perf_counter() - t_start
        report["timings"] = {k: round(v, 3) for k, v in timings.items()}
        report["files"] = files_under(staging)  # the inventory that lets a later run replace this folder
        (staging / REPORT).write_text(json.dumps(report, indent=2), encoding="utf-8")
        check_output(out_dir, [Path(media.path)], options.force)  # it may have changed meanwhile
        publish(staging, out_dir)
    except BaseException:
        tasks.settle()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not options.keep_work:
        clean_work(work)
    return TitleResult(out_dir, report)


def _submit_tracks(media, work: Path, options: EncodeOptions, tasks: TaskGroup, reporter: Reporter) -> Tracks:
    """Audio encodes and subtitle conversions as tasks (they run beside the chunks); a warning per track left out."""
    formats = tuple(check_formats(options.audio_formats))
    audio = [
        (spec, tasks.submit(encode_audio, spec, media, media.duration_s, work / "audio" / f"{spec.id}.mp4"))
        for spec in audio_renditions(media, formats)
    ]
    specs, warnings = subtitle_specs(media, options.sidecars())
    if media.tracks_end_s and media.audio:
        warnings.append(
            f"the sound runs to {media.tracks_end_s:.2f} s, past the picture's end at {media.duration_s:.2f} s; "
            "the title ends with the picture"
        )
    for text in warnings:
        reporter.warn(text)
    subtitles = [
        (spec, tasks.submit(prepare_subtitles, spec, media, work / "subtitles" / f"{spec.id}.vtt")) for spec in specs
    ]
    return Tracks(audio, subtitles, options.thumbnails, warnings)


def _package_and_report(
    analysis: Analysis,
    plan: EncodePlan,
    chunks: dict[tuple[str, int], Chunk],
    tracks: Tracks,
    staging: Path,
    work: Path,
    options: EncodeOptions,
    tasks: TaskGroup,
    reporter: Reporter,
    timings: dict[str, float],
) -> dict:
    t = time.perf_counter()
    title = package_title(analysis, plan, chunks, tracks, staging, work / "stitch", tasks, reporter)
    timings["package_s"] = time.perf_counter() - t
    report = build_report(analysis, plan, chunks, title)
    report["options"] = options.to_dict()
    if options.measure_vmaf:
        t = time.perf_counter()
        reporter.stage("measure quality", 1)
        measure_quality(report, staging, analysis)
        reporter.advance("measure quality")
        timings["measure_s"] = time.perf_counter() - t
    return report
