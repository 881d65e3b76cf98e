"""RGB and full-range sources come out as video-range Y'CbCr that says which matrix made it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shotenc.media import ffmpeg
from shotenc.media.colour import stream_colour
from shotenc.media.probe import probe
from shotenc.pipeline import EncodeOptions, encode_title
from shotenc.report import rendition_file

SOURCES = {  # name: (encoder options, the matrix its renditions must state)
    "RGB (PNG in QuickTime)": (["-vf", "format=rgb24", "-c:v", "png"], "bt709", "rgb.mov"),
    "full-range MJPEG": (["-c:v", "mjpeg", "-pix_fmt", "yuvj422p", "-q:v", "2"], "bt470bg", "jpeg.avi"),
}


def _rgb_psnr(rendition: Path, source: Path, size: tuple[int, int], read: str, stats: Path) -> float:
    """Mean PSNR of the rendition's pictures turned to RGB (as ``read`` says) against the source's, at its size."""
    scale = "scale={}:{}:flags=bicubic".format(*size)
    ffmpeg.run(
        ["-v", "error", "-i", rendition, "-i", source, "-lavfi",
         f"[0:v]{scale}{read},format=gbrp[a];[1:v]{scale},format=gbrp[b];[a][b]psnr=stats_file={stats}",
         "-f", "null", "-"],
        what="colour check",
    )  # fmt: skip
    values = [float(m) for m in re.findall(r"psnr_avg:([\d.]+)", stats.read_text())]
    return sum(values) / len(values)


@pytest.mark.parametrize("kind", list(SOURCES))
def test_rgb_and_full_range_sources_come_out_in_video_range_saying_their_matrix(kind, tmp_path):
    args, matrix, name = SOURCES[kind]
    src = tmp_path / name
    colours = "gradients=s=320x180:r=25:d=1.2:n=4:seed=7:c0=red:c1=lime:c2=blue:c3=yellow"  # smooth: no edge to blur
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i", colours, *args, src])
    assert probe(src).colour.delivered.matrix == matrix
    out = tmp_path / "out"
    result = encode_title(src, out, EncodeOptions(ladder="tiny", codecs=["h264", "vp9"], jobs=2))
    for r in result.report["renditions"]:
        rendition = rendition_file(out / "video" / r["id"], [1], tmp_path / f"{r['id']}.mp4")
        c = stream_colour(rendition)
        assert (c.range, c.matrix) == ("tv", matrix), (r["id"], c)
        if matrix == "bt709":  # an RGB source's primaries and transfer are sRGB's, which are BT.709's
            assert (c.primaries, c.transfer) == ("bt709", "bt709"), (r["id"], c)
        # read as it says, the picture has the source's colours; read otherwise, it has not
        size = (r["width"], r["height"])
        right = _rgb_psnr(rendition, src, size, "", tmp_path / "right.log")
        misread = ":in_range=pc" if matrix == "bt470bg" else ":in_color_matrix=bt601"
        wrong = _rgb_psnr(rendition, src, size, misread, tmp_path / "wrong.log")
        assert right > 33 and right > wrong + 6, (r["id"], right, wrong)
