"""The benchmarks' own encode: the bundled sample through the real pipeline with a six-rung H.264
ladder at Pensieve's rates (benchmarks/abr-ladder.toml), cached in .cache/abr-bench/."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
CACHE = ROOT / ".cache" / "abr-bench"


def long_first_shot_source() -> Path:
    """The sample rotated to open on its long last shot (5.28 s from 10.0 s): a title whose first
    shot is long, to measure the fast-start split on."""
    src = CACHE / "long-first.mp4"
    if not src.is_file():
        from shotenc.media import ffmpeg

        CACHE.mkdir(parents=True, exist_ok=True)
        graph = (
            "[0:v]trim=start=10,setpts=PTS-STARTPTS[v1];[0:v]trim=end=10,setpts=PTS-STARTPTS[v2];"
            "[0:a]atrim=start=10,asetpts=PTS-STARTPTS[a1];[0:a]atrim=end=10,asetpts=PTS-STARTPTS[a2];"
            "[v1][a1][v2][a2]concat=n=2:v=1:a=1[v][a]"
        )
        tmp = src.with_suffix(".part.mp4")
        args = ["-y", "-i", ROOT / "samples" / "sample.mp4", "-filter_complex", graph, "-map", "[v]", "-map", "[a]"]
        ffmpeg.run([*args, "-c:v", "libx264", "-crf", "16", "-preset", "fast", "-c:a", "aac", tmp], what="rotate")
        tmp.rename(src)
    return src


def own_encode(first_segment_s: float = 1.5, source: str = "sample") -> Path:
    """The encoded folder (encoded once per setting); ``first_segment_s`` 0 keeps the first shot
    whole; ``source`` "long-first" is the sample rotated to open on a 5.28 s shot."""
    name = source if first_segment_s == 1.5 else f"{source}-first{first_segment_s:g}"
    out = CACHE / name
    if not (out / "report.json").is_file():
        from shotenc.analysis.shots import ShotOptions
        from shotenc.pipeline import EncodeOptions, encode_title

        opts = EncodeOptions(
            ladder=str(ROOT / "benchmarks" / "abr-ladder.toml"),
            shot_options=ShotOptions(first_segment_s=first_segment_s),
        )
        src = ROOT / "samples" / "sample.mp4" if source == "sample" else long_first_shot_source()
        encode_title(src, out, opts)
    return out


def own_title(loops: int = 1):
    """The encode's H.264 ladder as a player sees it (sizes from the manifest), looped ``loops`` times."""
    from shotenc.delivery.manifests import load as load_manifest
    from shotenc.delivery.player.client import build_title
    from shotenc.delivery.player.session import Title

    out = own_encode()
    pres = load_manifest(str(out / "manifest.mpd"), lambda u: Path(u).read_text())
    _, rends = pres.group_for("h264")
    title, _ = build_title(pres, rends, json.loads((out / "report.json").read_text()))
    return Title(
        f"sample (own encode) x{loops}",
        title.rung_ids,
        title.bitrates_kbps,
        title.segment_s * loops,
        title.sizes_bits * loops,
        sizes_published=title.sizes_published,
    )
