"""``shotenc compare``: the same ladder encoded the traditional way and per shot, measured alike.

Per shot is exactly what ``shotenc encode`` publishes (the pipeline's own analysis, allocator, rate
feedback and packaging), with the ladder's every rung at several multiples of its bitrate
(``scales``) so BD-rate has enough points. Traditional is one bitrate per rung for the whole title,
as a user of plain FFmpeg would: 2-pass VBR, and capped 1-pass (the rung's VBV cap), with a
closed GOP of ``gop_s`` seconds and no scene-cut keyframes (the usual setup for aligned segments).

Every rendition is measured the same way: rate from its video packet sizes, VMAF/PSNR/SSIM
against the source per frame (upscaled to the source size), aggregated per shot.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import allocators, codecs
from ..allocators import AllocatorOptions
from ..analysis.analyze import Analysis
from ..analysis.shots import ShotOptions
from ..errors import ShotencError
from ..jobs.executors import Runner
from ..ladder import Ladder, Rung, fit_to_source
from ..media import ffmpeg
from ..media.normalize import read_source, video_filters
from ..media.probe import MediaInfo, packet_info
from ..output import check_output, files_under, publish, remove_stale_staging, staging_dir
from ..pipeline import AUTO_LADDER, EncodeOptions, analyze_title, encode_title
from ..report import rendition_file
from .bdrate import TRADITIONAL, bd_rates
from .metrics import score

METHODS = ("per-shot", *TRADITIONAL)
REPORT = "compare.json"


@dataclass
class CompareOptions:
    ladder: str = "default"  # a ladder name or path, or "auto"
    codecs: list[str] | None = None
    scales: tuple[float, ...] = (0.5, 0.75, 1.0, 1.5)
    mode: str = allocators.DEFAULT
    target_vmaf: float | None = None
    auto_ladder: bool = False
    per_shot_sizes: bool = True  # modes that choose sizes pick one per shot inside a rung
    jobs: int | None = None
    n_subsample: int = 1  # VMAF of the compared renditions (probes use their own)
    gop_s: float = 2.0
    shot_options: ShotOptions = field(default_factory=ShotOptions)
    cache_dir: str | None = None  # probe cache (default: inside the output's work folder)
    keep_work: bool = False
    force: bool = False

    def encode_options(self, ladder: Ladder, work: Path) -> EncodeOptions:
        """What the per-shot leg runs: ``shotenc encode`` with these options and the scaled ladder."""
        cache = self.cache_dir or str(work / "probes")
        return EncodeOptions(
            ladder=ladder,
            codecs=self.codecs,
            jobs=self.jobs,
            shot_options=self.shot_options,
            mode=self.mode,
            allocator_options=AllocatorOptions(
                self.target_vmaf, self.auto_ladder, cache_dir=cache, per_shot_sizes=self.per_shot_sizes
            ),
            work_dir=work / "title",
            keep_work=True,
        )


def scaled_ladder(ladder: Ladder, scales: Sequence[float]) -> tuple[Ladder, dict[str, tuple[Rung, float]]]:
    """Every rung at every multiple of its rates (ids ``<id>-x<scale>`` but at 1), and what each came from."""
    rungs, origin = [], {}
    for r in ladder.rungs:
        for s in scales:
            sid = r.id if s == 1 else f"{r.id}-x{s:g}"
            rungs.append(
                replace(
                    r, id=sid, bitrate_kbps=r.bitrate_kbps * s, maxrate_kbps=r.maxrate_kbps * s,
                    bufsize_kbps=r.bufsize_kbps * s,
                )
            )  # fmt: skip
            origin[sid] = (r, s)
    return Ladder(f"{ladder.name} x{','.join(f'{s:g}' for s in scales)}", ladder.description, rungs), origin


def encode_traditional(media: MediaInfo, rung: Rung, method: str, dest: Path, gop_s: float, threads: int = 1) -> float:
    """Encode the whole title at one bitrate (2-pass VBR, uncapped or capped, or capped 1-pass); returns the
    seconds it took."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    base = ["-y", "-v", "error", *read_source(media, vf=video_filters(media, rung.width, rung.height))]
    base += ["-frames:v", str(media.frame_count)]
    gop = max(1, int(round(gop_s * float(media.fps))))
    rate = codecs.RatePoint("bitrate", rung.bitrate_kbps, rung.maxrate_kbps, rung.bufsize_kbps)
    # a whole-title encode keeps x264's default ABR tolerance, as a user of plain FFmpeg would
    enc = codecs.get(rung.codec).encoder_args(
        rung.preset, rate, gop, threads, rung.options, cap=method != "2pass-vbr", tight_abr=False
    )
    t0 = time.perf_counter()
    if method.startswith("2pass"):
        with tempfile.TemporaryDirectory(prefix="shotenc-2pass-") as tmp:  # stats files of this encode only
            log = Path(tmp) / "stats"
            for n, sink in ((1, ["-f", "null", "-"]), (2, ["-f", "mp4", dest])):
                ffmpeg.run([*base, *enc, *ffmpeg.pass_args(n, log), *sink], what=f"pass {n} of {dest.name}")
    else:
        ffmpeg.run([*base, *enc, "-f", "mp4", dest], what=f"encode {dest.name}")
    return time.perf_counter() - t0


def frame_sizes(path: str | Path) -> list[int]:
    """Bytes of every video frame in presentation order (what each shot of a rendition cost)."""
    packets = packet_info(path)
    return [p["size"] for p in sorted(packets, key=lambda p: p["pts"] if p["pts"] is not None else 0)]


def measure(path: Path, analysis: Analysis, n_subsample: int) -> dict:
    """Rate and quality of one rendition file, for the title and per shot."""
    media = analysis.media
    sizes = frame_sizes(path)
    if len(sizes) != media.frame_count:
        raise ShotencError(f"{path.name}: {len(sizes)} frames, expected {media.frame_count}")
    sc = score(path, media, 0, media.frame_count, n_subsample=n_subsample, threads=1)
    per_shot = sc.per_shot(analysis.shots)
    shots = []
    for s, q in zip(analysis.shots, per_shot, strict=True):
        b = sum(sizes[s.start_frame : s.end_frame])
        shots.append(
            {
                "shot": s.index, "bytes": b, "kbps": round(b * 8 / s.duration_s / 1000, 3),
                "vmaf": round(q.vmaf, 4), "vmaf_min": round(q.vmaf_min, 4), "psnr": round(q.psnr, 4),
                "ssim": round(q.ssim, 6),
            }
        )  # fmt: skip
    total = sum(sizes)
    return {
        "bytes": total,
        "kbps": round(total * 8 / media.duration_s / 1000, 3),
        "vmaf": round(sc.vmaf, 4),
        "vmaf_p5": round(sc.vmaf_percentile(5), 4),
        "vmaf_worst_shot": round(min(q.vmaf for q in per_shot), 4),
        "psnr": round(sc.psnr, 4),
        "ssim": round(sc.ssim, 6),
        "frames_scored": len(sc.frames),
        "shots": shots,
    }


@dataclass
class Leg:
    """One rendition to measure: how it was made and where its file is."""

    method: str
    rung: Rung
    base: Rung  # the ladder rung it scales
    scale: float
    path: Path
    encode_s: float
    crf: list[float] | None = None
    heights: list[int] | None = None  # picture height per shot (a rung may change size at shot boundaries)

    def entry(self, out: Path, measured: dict) -> dict:
        r = self.rung
        entry = {
            "method": self.method, "rung": r.id, "ladder_rung": self.base.id, "scale": self.scale, "codec": r.codec,
            "width": r.width, "height": r.height, "target_kbps": round(r.bitrate_kbps, 3),
            "maxrate_kbps": round(r.maxrate_kbps, 3), "file": str(self.path.relative_to(out)),
            "encode_s": self.encode_s, **measured,
        }  # fmt: skip
        for row, crf in zip(entry["shots"], self.crf or [], strict=False):
            row["crf"] = crf
        for row, height in zip(entry["shots"], self.heights or [], strict=False):
            row["height"] = height
        return entry


def per_shot_legs(title: dict, title_dir: Path, dest: Path, origin: dict[str, tuple[Rung, float]]) -> list[Leg]:
    """The published per-shot renditions, each joined into one file (init + segments) to measure."""
    legs = []
    choices = {c["rung"]: c for c in title["plan"].get("rungs", [])}
    for rend in title["renditions"]:
        rung = Rung(**{k: v for k, v in rend["rung"].items()})
        base, scale = origin[choices.get(rung.id, {}).get("ladder_rung", rung.id)]
        path = dest / f"{rung.id}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        rendition_file(title_dir / "video" / rung.id, [s["number"] for s in rend["segments"]], path)
        crf = [row["rate"]["value"] for row in rend["shots"]] if rend["shots"][0]["rate"]["kind"] == "crf" else None
        encode_s = round(sum(row.get("encode_s", 0.0) for row in rend["shots"]), 3)
        heights = [row["rate"].get("height") or rung.height for row in rend["shots"]]
        legs.append(Leg("per-shot", rung, base, scale, path, encode_s, crf, heights))
    return legs


def traditional_legs(
    media: MediaInfo, scaled: Ladder, origin: dict, dest: Path, gop_s: float, executor: Executor
) -> list[Leg]:
    """Every scaled rung encoded whole, each traditional way, as tasks on ``executor``."""
    jobs = [
        (r, m, executor.submit(encode_traditional, media, r, m, dest / m / f"{r.id}.mp4", gop_s))
        for r in scaled.rungs
        for m in TRADITIONAL
    ]
    return [Leg(m, r, *origin[r.id], dest / m / f"{r.id}.mp4", round(f.result(), 3)) for r, m, f in jobs]


def compare(
    source: str | Path, out_dir: str | Path, options: CompareOptions | None = None, log: Callable = print
) -> dict:
    """Encode traditional and per-shot ladders of ``source`` into ``out_dir``; write compare.json/html."""
    options = options or CompareOptions()
    source, out = Path(source), Path(out_dir)
    auto = options.auto_ladder or options.ladder == AUTO_LADDER
    options = replace(options, ladder="default" if options.ladder == AUTO_LADDER else options.ladder, auto_ladder=auto)
    ladder, _ = EncodeOptions(ladder=options.ladder, codecs=options.codecs, mode=options.mode).checked()
    check_output(out, [source], options.force)
    work = out.parent / f".{out.name}.work"
    staging = staging_dir(out)
    remove_stale_staging(out)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with Runner(jobs=options.jobs) as runner:
            report = _compare(source, staging, work, ladder, options, runner, log)
        report["files"] = files_under(staging)
        (staging / REPORT).write_text(json.dumps(report, indent=1), encoding="utf-8")
        publish(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not options.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _compare(
    source: Path, out: Path, work: Path, ladder: Ladder, options: CompareOptions, runner: Runner, log: Callable
) -> dict:
    t_start = time.perf_counter()
    analysis = analyze_title(source, options.shot_options, work / "title")  # the encode below reuses it
    media = analysis.media
    fitted = fit_to_source(ladder, media.width, media.height, options.codecs)
    scaled, origin = scaled_ladder(replace(ladder, rungs=fitted), options.scales)
    title_dir = out / "title"
    per_shot = encode_title(source, title_dir, options.encode_options(scaled, work), runner=runner).report
    log(f"{len(analysis.shots)} shots, {media.width}x{media.height}, {media.duration_s:.2f} s; per shot in "
        f"{per_shot['timings']['total_s']:.1f} s ({per_shot['allocator']})")  # fmt: skip
    legs = per_shot_legs(per_shot, title_dir, out / "renditions" / "per-shot", origin)
    t = time.perf_counter()
    legs += traditional_legs(media, scaled, origin, out / "renditions", options.gop_s, runner.executor)
    log(f"{len(legs) - len(per_shot['renditions'])} traditional encodes in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    futures = [runner.executor.submit(measure, leg.path, analysis, options.n_subsample) for leg in legs]
    renditions = [leg.entry(out, f.result()) for leg, f in zip(legs, futures, strict=True)]
    log(f"{len(legs)} renditions scored in {time.perf_counter() - t:.1f} s")
    codec_list = list(dict.fromkeys(r["codec"] for r in renditions))
    report = {
        "source": media.to_dict(),
        "ladder": options.ladder,
        "codecs": codec_list,
        "scales": list(options.scales),
        "mode": per_shot["allocator"],
        "methods": list(METHODS),
        "gop_s": options.gop_s,
        "n_subsample": options.n_subsample,
        "shots": [
            {
                "index": s.index,
                "start_s": round(s.start_s, 4),
                "duration_s": round(s.duration_s, 4),
                "frames": s.frame_count,
                "complexity": round(f.complexity, 3),
            }
            for s, f in zip(analysis.shots, analysis.features, strict=True)
        ],  # fmt: skip
        "rungs": summarize_rungs(renditions),
        "bd_rate": bd_rates(renditions, codec_list),
        "cost": cost(per_shot, renditions),
        "renditions": renditions,
        "plan": per_shot["plan"],
        "title": "title/",  # the per-shot leg as `shotenc encode` published it
        "seconds": round(time.perf_counter() - t_start, 3),
    }
    from .report_html import write_html

    write_html(report, out / "compare.html")
    return report


def cost(per_shot: dict, renditions: list[dict]) -> dict:
    """Probe cost of the per-shot plan against the final per-shot encodes (of the ladder at x1, and of all)."""
    probes = per_shot["plan"].get("probes", {})
    mine = [r for r in renditions if r["method"] == "per-shot"]
    final_one = sum(r["encode_s"] for r in mine if r["scale"] == 1)
    every = sum(r["encode_s"] for r in mine)
    out = {
        "probe_wall_s": probes.get("wall_s"),
        "probe_cpu_s": probes.get("cpu_s"),
        "plan_s": per_shot["timings"].get("plan_s"),
        "final_encode_cpu_s": round(final_one, 3),
        "all_per_shot_encode_cpu_s": round(every, 3),
    }
    if probes.get("cpu_s") is not None and final_one > 0:
        out["probe_to_final_ratio"] = round(probes["cpu_s"] / final_one, 3)
        out["probe_to_all_encodes_ratio"] = round(probes["cpu_s"] / every, 3)
    return out


def summarize_rungs(renditions: list[dict]) -> list[dict]:
    """One row per (rung, scale): every method's rate and quality side by side."""
    rows: dict[str, dict] = {}
    for r in renditions:
        key = f"{r['ladder_rung']}@{r['scale']:g}"
        row = rows.setdefault(
            key,
            {
                "ladder_rung": r["ladder_rung"],
                "scale": r["scale"],
                "codec": r["codec"],
                "target_kbps": r["target_kbps"],
                "methods": {},
            },
        )
        row["methods"][r["method"]] = {
            k: r[k] for k in ("rung", "width", "height", "kbps", "vmaf", "vmaf_p5", "vmaf_worst_shot", "psnr", "ssim")
        }
    return sorted(rows.values(), key=lambda r: (r["codec"], r["target_kbps"]))


def worst_shot_summary(report: dict) -> dict:
    """Per codec: the lowest worst-shot VMAF of each method over the renditions at scale 1."""
    out: dict = {}
    for r in report["renditions"]:
        if r["scale"] != 1:
            continue
        d = out.setdefault(r["codec"], {})
        d[r["method"]] = min(d.get(r["method"], 101.0), r["vmaf_worst_shot"])
    return out
