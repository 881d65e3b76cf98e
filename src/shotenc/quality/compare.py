"""``shotenc compare``: the same ladder encoded the traditional way and per shot, measured alike.

Traditional: one bitrate for the whole title per rung, as a user would with plain FFmpeg, in two
flavours: 2-pass VBR, and capped 1-pass (average bitrate with the rung's VBV cap); a closed GOP of
``gop_s`` seconds and no scene-cut keyframes, the usual setup for aligned ABR segments.
Per shot: the chosen optimizer's plan (``hull`` by default), one chunk per shot and rung, stitched.

Every rendition is kept on disk and measured the same way: rate from its video packet sizes,
VMAF/PSNR/SSIM against the source per frame (upscaled to the source size), aggregated per shot.
To give BD-rate enough points, every rung is encoded at several multiples of its bitrate
(``scales``); BD-rate per codec is computed over the Pareto front of all those points.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import codecs
from ..allocators.convex import RDPoint, pareto_front
from ..allocators.optimize import make_allocator
from ..analysis.analyze import Analysis, analyze
from ..analysis.shots import ShotOptions
from ..encode.chunk import encode_chunk
from ..errors import ShotencError
from ..ladder import Rung, fit_to_source, load_ladder
from ..media import ffmpeg
from ..media.normalize import make_mezzanine, read_source, video_filters
from ..media.probe import MediaInfo, packet_info, probe
from ..package.cmaf import stitch_chunks
from ..pipeline import chunk_jobs, default_jobs
from .metrics import Scores, score

METHODS = ("per-shot", "2pass-vbr", "1pass-capped")
TRADITIONAL = ("2pass-vbr", "1pass-capped")


@dataclass
class CompareOptions:
    ladder: str = "default"
    codecs: list[str] | None = None
    scales: tuple[float, ...] = (0.5, 0.75, 1.0, 1.5)
    mode: str = "hull"
    target_vmaf: float | None = None
    auto_ladder: bool = False
    jobs: int | None = None
    n_subsample: int = 1  # VMAF of the compared renditions (probes use their own)
    gop_s: float = 2.0
    shot_options: ShotOptions = field(default_factory=ShotOptions)
    cache_dir: str | None = None  # probe cache (default: inside the output's work folder)
    keep_work: bool = False


def scaled_rungs(rungs: Sequence[Rung], scales: Sequence[float]) -> list[tuple[Rung, Rung, float]]:
    """(scaled rung, ladder rung, scale) for every rung and multiple of its bitrate."""
    out = []
    for r in rungs:
        for s in scales:
            sid = r.id if s == 1 else f"{r.id}-x{s:g}"
            out.append(
                (
                    replace(
                        r,
                        id=sid,
                        bitrate_kbps=r.bitrate_kbps * s,
                        maxrate_kbps=r.maxrate_kbps * s,
                        bufsize_kbps=r.bufsize_kbps * s,
                    ),
                    r,
                    s,
                )
            )
    return out


def traditional_args(rung: Rung, method: str, media: MediaInfo, gop_s: float, threads: int) -> list[str]:
    """Whole-title encoder options: one bitrate, a fixed closed GOP, capped or not."""
    gop = max(1, int(round(gop_s * float(media.fps))))
    rate = codecs.RatePoint("bitrate", rung.bitrate_kbps, rung.maxrate_kbps, rung.bufsize_kbps)
    # a whole-title encode keeps x264's default ABR tolerance, as a user of plain FFmpeg would
    return codecs.get(rung.codec).encoder_args(
        rung.preset, rate, gop, threads, rung.options, cap=method != "2pass-vbr", tight_abr=False
    )


def encode_traditional(media: MediaInfo, rung: Rung, method: str, dest: Path, gop_s: float, threads: int = 1) -> float:
    """Encode the whole title at one bitrate (2-pass VBR or capped 1-pass); returns the seconds it took."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    vf = video_filters(media, rung.width, rung.height)
    base = [
        "-y",
        "-v",
        "error",
        *read_source(media, vf=vf),
        "-frames:v",
        str(media.frame_count),
    ]
    enc = traditional_args(rung, method, media, gop_s, threads)
    t0 = time.perf_counter()
    if method == "2pass-vbr":
        with tempfile.TemporaryDirectory(prefix="shotenc-2pass-") as tmp:  # stats files of this encode only
            log = Path(tmp) / "stats"
            ffmpeg.run(
                [*base, *enc, "-pass", "1", "-passlogfile", log, "-f", "null", "-"],
                what=f"first pass of {dest.name}",
            )
            ffmpeg.run(
                [*base, *enc, "-pass", "2", "-passlogfile", log, "-f", "mp4", dest],
                what=f"second pass of {dest.name}",
            )
    else:
        ffmpeg.run([*base, *enc, "-f", "mp4", dest], what=f"encode {dest.name}")
    return time.perf_counter() - t0


def frame_sizes(path: str | Path) -> list[int]:
    """Bytes of every video frame in presentation order (what each shot of a rendition cost)."""
    packets = packet_info(path)
    return [p["size"] for p in sorted(packets, key=lambda p: p["pts"] if p["pts"] is not None else 0)]


def measure(path: Path, media: MediaInfo, analysis: Analysis, n_subsample: int) -> tuple[dict, Scores]:
    """Rate and quality of one rendition, for the title and per shot."""
    sizes = frame_sizes(path)
    if len(sizes) != media.frame_count:
        raise ShotencError(f"{path.name}: {len(sizes)} frames, expected {media.frame_count}")
    sc = score(path, media, 0, media.frame_count, n_subsample=n_subsample, threads=1)
    per_shot = sc.per_shot(analysis.shots)
    duration = media.frame_count / float(media.fps)
    shots = []
    for s, q in zip(analysis.shots, per_shot, strict=True):
        b = sum(sizes[s.start_frame : s.end_frame])
        shots.append(
            {
                "shot": s.index,
                "bytes": b,
                "kbps": round(b * 8 / s.duration_s / 1000, 3),
                "vmaf": round(q.vmaf, 4),
                "vmaf_min": round(q.vmaf_min, 4),
                "psnr": round(q.psnr, 4),
                "ssim": round(q.ssim, 6),
            }
        )
    total = sum(sizes)
    m = {
        "bytes": total,
        "kbps": round(total * 8 / duration / 1000, 3),
        "vmaf": round(sc.vmaf, 4),
        "vmaf_p5": round(sc.vmaf_percentile(5), 4),
        "vmaf_worst_shot": round(min(q.vmaf for q in per_shot), 4),
        "psnr": round(sc.psnr, 4),
        "ssim": round(sc.ssim, 6),
        "frames_scored": len(sc.frames),
        "shots": shots,
    }
    return m, sc


def bd_rates(renditions: list[dict], codecs: Sequence[str]) -> dict:
    """BD-rate (VMAF and PSNR, PCHIP) of per-shot against each traditional method, per codec.

    Each curve is the Pareto front of a method's renditions of that codec (all rungs, all scales).
    Negative means per-shot needs fewer bits for the same quality.
    """
    import bjontegaard as bd

    out: dict = {}
    for codec in codecs:
        res: dict = {}
        for anchor in TRADITIONAL:
            row: dict = {}
            for metric in ("vmaf", "psnr"):

                def curve(method: str, metric: str = metric, codec: str = codec) -> list[RDPoint]:
                    pts = [
                        RDPoint(r["kbps"], r[metric])
                        for r in renditions
                        if r["codec"] == codec and r["method"] == method
                    ]
                    return pareto_front(pts)

                a, t = curve(anchor), curve("per-shot")
                entry: dict = {"anchor_points": len(a), "test_points": len(t)}
                if len(a) < 4 or len(t) < 4:
                    entry["value"] = None
                    entry["note"] = "fewer than 4 points on a curve"
                else:
                    try:
                        with warnings.catch_warnings(record=True) as caught:
                            warnings.simplefilter("always")
                            v = bd.bd_rate(
                                [p.kbps for p in a],
                                [p.quality for p in a],
                                [p.kbps for p in t],
                                [p.quality for p in t],
                                method="pchip",
                                require_matching_points=False,
                            )
                        entry["value"] = None if v is None or not math.isfinite(v) else round(float(v), 3)
                        if caught:  # e.g. too little overlap of the two curves' quality ranges
                            entry["note"] = "; ".join(str(w.message).split(". You can")[0] for w in caught)
                    except (ValueError, AssertionError, ZeroDivisionError) as exc:
                        entry["value"] = None
                        entry["note"] = f"not computable: {exc}"
                row[metric] = entry
            res[f"vs_{anchor}"] = row
        out[codec] = res
    return out


def compare(source: str | Path, out_dir: str | Path, options: CompareOptions | None = None, log=print) -> dict:
    """Encode traditional and per-shot ladders of ``source`` into ``out_dir``; write compare.json/html."""
    options = options or CompareOptions()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    work.mkdir(exist_ok=True)
    jobs = options.jobs or default_jobs()
    t_start = time.perf_counter()
    media = probe(source)
    if media.vfr:
        media = make_mezzanine(media, work / "cfr-source.mp4")
    analysis = analyze(media, options.shot_options)
    log(f"{len(analysis.shots)} shots, {media.width}x{media.height}, {media.duration_s:.2f} s")
    rungs = fit_to_source(load_ladder(options.ladder), media.width, media.height, options.codecs)
    codecs = list(dict.fromkeys(r.codec for r in rungs))
    scaled = scaled_rungs(rungs, options.scales)

    # per shot: one plan over every scaled rung (the probes are shared), then chunk encodes
    allocator = make_allocator(
        options.mode,
        target_vmaf=options.target_vmaf,
        auto_ladder=options.auto_ladder,
        work_dir=options.cache_dir or work,
        jobs=jobs,
    )
    t = time.perf_counter()
    plan = allocator.allocate(analysis, [s[0] for s in scaled])
    plan_s = time.perf_counter() - t
    log(f"plan ({plan.allocator}) in {plan_s:.1f} s")
    origin = {s[0].id: (s[1], s[2]) for s in scaled}
    ladder_of = {}
    for new, choice in zip(plan.rungs, plan.details.get("rungs") or [{}] * len(plan.rungs), strict=True):
        ladder_of[new.id] = origin[choice.get("ladder_rung", new.id)]
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        chunks = list(pool.map(lambda j: encode_chunk(j, str(work)), chunk_jobs(analysis, plan, 1)))
    chunk_wall = time.perf_counter() - t
    log(f"{len(chunks)} per-shot chunks in {chunk_wall:.1f} s")

    rend_dir = out / "renditions"
    tasks: list[dict] = []
    for rung in plan.rungs:
        base, scale = ladder_of[rung.id]
        mine = sorted((c for c in chunks if c.rung_id == rung.id), key=lambda c: c.shot_index)
        path = rend_dir / "per-shot" / f"{rung.id}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        stitch_chunks([c.path for c in mine], path, rung.codec, fragmented=False)
        tasks.append(
            {
                "method": "per-shot",
                "rung": rung,
                "base": base,
                "scale": scale,
                "path": path,
                "encode_s": round(sum(c.seconds for c in mine), 3),
                "crf": [plan.point(rung.id, s.index).value for s in analysis.shots],
            }
        )

    # traditional: whole-title encodes at the same scaled rungs
    def trad(item: tuple[Rung, Rung, float, str]) -> dict:
        rung, base, scale, method = item
        path = rend_dir / method / f"{rung.id}.mp4"
        secs = encode_traditional(media, rung, method, path, options.gop_s)
        return {
            "method": method,
            "rung": rung,
            "base": base,
            "scale": scale,
            "path": path,
            "encode_s": round(secs, 3),
        }

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        tasks += list(pool.map(trad, [(r, b, s, m) for r, b, s in scaled for m in TRADITIONAL]))
    log(f"{len(scaled) * len(TRADITIONAL)} traditional encodes in {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        measured = list(pool.map(lambda d: measure(d["path"], media, analysis, options.n_subsample), tasks))
    log(f"{len(tasks)} renditions scored in {time.perf_counter() - t:.1f} s")

    renditions = []
    for d, (m, _sc) in zip(tasks, measured, strict=True):
        rung: Rung = d["rung"]
        entry = {
            "method": d["method"],
            "rung": rung.id,
            "ladder_rung": d["base"].id,
            "scale": d["scale"],
            "codec": rung.codec,
            "width": rung.width,
            "height": rung.height,
            "target_kbps": round(rung.bitrate_kbps, 3),
            "maxrate_kbps": round(rung.maxrate_kbps, 3),
            "file": str(d["path"].relative_to(out)),
            "encode_s": d["encode_s"],
            **m,
        }
        if "crf" in d:
            for row, crf in zip(entry["shots"], d["crf"], strict=True):
                row["crf"] = crf
        renditions.append(entry)

    probes = plan.details.get("probes", {})
    final_one = [c for c in chunks if ladder_of[c.rung_id][1] == 1.0]
    cost = {
        "probe_wall_s": probes.get("wall_s"),
        "probe_cpu_s": probes.get("cpu_s"),
        "plan_s": round(plan_s, 3),
        "final_encode_cpu_s": round(sum(c.seconds for c in final_one), 3),
        "all_per_shot_encode_cpu_s": round(sum(c.seconds for c in chunks), 3),
    }
    if probes.get("cpu_s") is not None and cost["final_encode_cpu_s"] > 0:
        cost["probe_to_final_ratio"] = round(probes["cpu_s"] / cost["final_encode_cpu_s"], 3)
        cost["probe_to_all_encodes_ratio"] = round(probes["cpu_s"] / cost["all_per_shot_encode_cpu_s"], 3)

    report = {
        "source": media.to_dict(),
        "ladder": options.ladder,
        "codecs": codecs,
        "scales": list(options.scales),
        "mode": plan.allocator,
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
        ],
        "rungs": summarize_rungs(renditions),
        "bd_rate": bd_rates(renditions, codecs),
        "cost": cost,
        "renditions": renditions,
        "plan": plan.details,
        "seconds": round(time.perf_counter() - t_start, 3),
    }
    (out / "compare.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    from .report_html import write_html

    write_html(report, out / "compare.html")
    if not options.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return report


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


def mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else float("nan")
