"""Small real test titles, made with FFmpeg's DASH muxer from the bundled sample.

Used where a test needs media of a particular shape (several codecs, a silent title) without
running the full per-shot pipeline; cuts are forced at uneven instants so segment durations
vary like shot-based segments do.
"""

from __future__ import annotations

from pathlib import Path

from shotenc import ffmpeg

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample.mp4"
CUTS = "0,1.6,2.4,4,5.2"
ENCODERS = {
    "h264": ["libx264", "-preset", "veryfast"],
    "vp9": ["libvpx-vp9", "-deadline", "good", "-cpu-used", "8", "-row-mt", "1"],
    "av1": ["libsvtav1", "-preset", "12"],
    "hevc": ["libx265", "-preset", "ultrafast", "-tag:v", "hvc1"],
}


def make_title(out: Path, codecs: tuple[str, ...] = ("h264",), seconds: float = 6.0,
               rungs: tuple[tuple[int, int, int], ...] = ((320, 180, 500), (160, 90, 150)),
               audio: bool = True) -> Path:
    """A DASH + HLS title with one AdaptationSet per codec; returns the folder."""
    out.mkdir(parents=True, exist_ok=True)
    n = len(rungs) * len(codecs)
    split = f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n))
    graph = [split]
    args: list[str] = []
    i = 0
    sets = []
    for codec in codecs:
        ids = []
        for w, h, kbps in rungs:
            graph.append(f"[s{i}]scale={w}:{h},setsar=1[v{i}]")
            args += ["-map", f"[v{i}]", f"-c:v:{i}", *_per_stream(ENCODERS[codec], i), f"-b:v:{i}", f"{kbps}k",
                     f"-force_key_frames:v:{i}", CUTS]
            ids.append(str(i))
            i += 1
        sets.append(f"id={len(sets)},streams={','.join(ids)}")
    if audio:
        args += ["-map", "0:a", "-c:a", "aac", "-b:a", "64k", "-ac", "2"]
        sets.append(f"id={len(sets)},streams=a")
    for k in range(n + (1 if audio else 0)):
        (out / "media" / str(k)).mkdir(parents=True, exist_ok=True)  # the muxer makes no folders
    ffmpeg.run(
        ["-y", "-i", SAMPLE, "-t", str(seconds), "-filter_complex", ";".join(graph), *args,
         "-sc_threshold", "0", "-g", "1000", "-keyint_min", "1000",
         "-f", "dash", "-dash_segment_type", "mp4", "-use_timeline", "1", "-use_template", "1", "-seg_duration", "0.5",
         "-hls_playlist", "1", "-adaptation_sets", " ".join(sets),
         "-init_seg_name", "media/$RepresentationID$/init.mp4",
         "-media_seg_name", "media/$RepresentationID$/seg-$Number%05d$.m4s", out / "manifest.mpd"],
        what="test title",
    )
    return out


def _per_stream(opts: list[str], i: int) -> list[str]:
    """Encoder name followed by its options, the options scoped to output stream ``v:i``."""
    name, rest = opts[0], opts[1:]
    scoped = []
    for k in range(0, len(rest), 2):
        scoped += [f"{rest[k]}:v:{i}", rest[k + 1]]
    return [name, *scoped]
