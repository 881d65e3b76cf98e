"""``report.json``: what was encoded and how (the schema), and optionally how good it is (VMAF).

Quality is measured on the packaged segments before the title is published, so a published
report is never rewritten afterwards.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .allocators.base import EncodePlan
from .analysis.analyze import Analysis
from .encode.chunk import Chunk
from .encode.vbv import buffer_trace
from .media.colour import SDR
from .package.title import PackagedTitle
from .quality.metrics import score


def rendition_shots(plan: EncodePlan, rung_id: str, chunks: dict[tuple[str, int], Chunk]) -> list[dict]:
    """Per shot of one rendition: the planned rate point, what was asked of the encoder, what it made."""
    rows = []
    for s in plan.shots:
        chunk = chunks[(rung_id, s.index)]
        rows.append(
            {
                "shot": s.index,
                "rate": plan.point(rung_id, s.index).to_dict(),
                "requested_kbps": chunk.requested_kbps,
                "requested_crf": chunk.requested_crf,
                "bytes": chunk.bytes,
                "media_bytes": chunk.media_bytes,
                "kbps": round(chunk.media_bytes * 8 / s.duration_s / 1000, 2),
                "encode_s": round(chunk.seconds, 3),
            }
        )
    return rows


def rate_summary(
    plan: EncodePlan, rung_id: str, rendition: dict, chunks: dict[tuple[str, int], Chunk], fps: float
) -> dict:
    """The rung's target, what the plan expected it to spend, how far the result is from the target, and
    whether the rendition as played keeps the rung's VBV buffer (:mod:`.encode.vbv`)."""
    rung = next(r for r in plan.rungs if r.id == rung_id)
    seconds = sum(s.duration_s for s in plan.shots)
    points = [plan.point(rung_id, s.index) for s in plan.shots]
    kbps = [p.value if p.kind == "bitrate" else p.predicted_kbps for p in points]
    planned = sum(k * s.duration_s for k, s in zip(kbps, plan.shots, strict=True)) / seconds if all(kbps) else None
    return {
        "target_kbps": rung.bitrate_kbps,
        "planned_kbps": None if planned is None else round(planned, 2),
        "target_error": round(rendition["avg_kbps"] / rung.bitrate_kbps - 1, 4),
        **vbv_summary(plan, rung_id, chunks, fps),
    }


def vbv_summary(plan: EncodePlan, rung_id: str, chunks: dict[tuple[str, int], Chunk], fps: float) -> dict:
    """The lowest level of the rung's VBV buffer over the rendition (a share of bufsize; under 0: it ran dry)
    and the shot where, read from the chunks' own frame sizes; nothing for a rung without a cap."""
    rung = next(r for r in plan.rungs if r.id == rung_id)
    if not (rung.maxrate_kbps and rung.bufsize_kbps):
        return {}
    frames = [chunks[(rung_id, s.index)].frame_sizes() for s in plan.shots]
    trace = buffer_trace(frames, fps, rung.maxrate_kbps, rung.bufsize_kbps)
    return {"vbv_lowest": trace.lowest, "vbv_lowest_shot": plan.shots[trace.lowest_chunk].index}


def build_report(
    analysis: Analysis, plan: EncodePlan, chunks: dict[tuple[str, int], Chunk], title: PackagedTitle
) -> dict:
    """Everything but timings and options (the pipeline adds those)."""
    media = analysis.media
    rungs = {r.id: r for r in plan.rungs}
    renditions = []
    for rend in title.video:
        rend.extra["rung"] = rungs[rend.id].to_dict()
        rend.extra["shots"] = rendition_shots(plan, rend.id, chunks)
        entry = rend.to_dict()
        renditions.append({**entry, **rate_summary(plan, rend.id, entry, chunks, float(media.fps))})
    every = title.video + title.audio + title.subtitles + ([title.thumbnails] if title.thumbnails else [])
    reused = sum(1 for c in chunks.values() if c.reused)
    return {
        "source": media.to_dict(),
        "allocator": plan.allocator,
        "plan": plan.details,
        "shots": [{**s.to_dict(), "features": f.to_dict()} for s, f in zip(plan.shots, analysis.features, strict=True)],
        "renditions": renditions,
        "audio": [r.to_dict() for r in title.audio],
        "subtitles": [r.to_dict() for r in title.subtitles],
        "thumbnails": title.thumbnails.to_dict() if title.thumbnails else None,
        "left_out": title.left_out,
        "totals": {
            "duration_s": round(title.duration_s, 6),
            "frames": media.frame_count,
            "bytes": sum(s.bytes for r in every for s in r.segments),
            "video_bytes": sum(s.bytes for r in title.video for s in r.segments),
            "chunks": len(chunks),
            "reused_chunks": reused,
            "chunk_encode_s": round(sum(c.seconds for c in chunks.values() if not c.reused), 3),
        },
        "outputs": {"dash": "manifest.mpd", "hls": "master.m3u8"},
    }


def measure_quality(report: dict, folder: Path, analysis: Analysis, n_subsample: int = 1) -> None:
    """Add VMAF/PSNR per rendition, shot and segment to ``report``, scoring the packaged segments in ``folder``.

    Each rendition is read back from its init and media segments (what a player gets), against the
    source as the encoders saw it (the constant-rate intermediate for a variable-rate source).
    Segments are cut at shot starts: segment i is shot i.
    """
    media = analysis.media
    model = ""
    for rend in report["renditions"]:
        with tempfile.TemporaryDirectory(prefix="shotenc-measure-") as tmp:
            joined = Path(tmp) / "rendition.mp4"
            rendition_file(folder / "video" / rend["id"], [s["number"] for s in rend["segments"]], joined)
            hdr = rend.get("video_range", SDR) != SDR  # scored on its tone-mapped picture, as the reference is
            sc = score(joined, media, 0, media.frame_count, n_subsample=n_subsample, threads=0, hdr_distorted=hdr)
        model = sc.model
        per_shot = sc.per_shot(analysis.shots)
        rend["vmaf"] = round(sc.vmaf, 3)
        rend["vmaf_worst_shot"] = round(min(q.vmaf for q in per_shot), 3)
        rend["vmaf_p5"] = round(sc.vmaf_percentile(5), 3)
        rend["psnr"] = round(sc.psnr, 3)
        for seg, q in zip(rend["segments"], per_shot, strict=True):
            seg["vmaf"] = round(q.vmaf, 3)
        for row, q in zip(rend.get("shots", []), per_shot, strict=True):
            row["vmaf"] = round(q.vmaf, 3)
            row["psnr"] = round(q.psnr, 3)
    report["quality"] = {"model": model, "n_subsample": n_subsample}


def rendition_file(folder: Path, numbers: list[int], dest: Path) -> Path:
    """One playable file of a rendition: its init segment and media segments, in order."""
    with dest.open("wb") as f:
        f.write((folder / "init.mp4").read_bytes())
        for n in numbers:
            f.write((folder / f"seg-{n:05d}.m4s").read_bytes())
    return dest
