"""A rendition whose picture size changes at a shot boundary: one init segment, parameter sets in band."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import SMALL, SmallFirstShot, make_clip
from shotenc.media import ffmpeg
from shotenc.package.codec_strings import codec_string
from shotenc.pipeline import EncodeOptions, encode_title

ONE_360P = str(Path(__file__).resolve().parents[1] / "data" / "ladders" / "one-h264-360p.toml")


def frame_sizes(url: Path) -> list[str]:
    res = ffmpeg.run(["-v", "info", "-i", url, "-map", "0:v:0", "-vf", "showinfo", "-f", "null", "-"], what="decode")
    return re.findall(r" s:(\d+x\d+) ", res.stderr)


@pytest.fixture(scope="module")
def resized(tiny_clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("sizes") / "title"
    options = EncodeOptions(ladder="tiny", codecs=["h264", "hevc", "vp9", "av1"], mode=SmallFirstShot.name)
    return out, encode_title(tiny_clip, out, options).report


def test_frame_sizes_change_exactly_at_the_shot_boundary(resized):
    out, report = resized
    shots = report["shots"]
    assert len(shots) >= 2
    for rend in report["renditions"]:
        full = f"{rend['width']}x{rend['height']}"
        sizes = frame_sizes(out / "video" / rend["id"] / "playlist.m3u8")
        small = f"{SMALL[0]}x{SMALL[1]}" if rend["height"] > SMALL[1] else full  # the 108p rung keeps its size
        expected = [size for s in shots for size in [small if s["index"] % 2 == 0 else full] * s["frame_count"]]
        assert sizes == expected, rend["id"]


def test_manifests_describe_the_largest_picture_and_in_band_parameter_sets(resized):
    out, report = resized
    entries = {r["id"]: r["codec_string"].split(".")[0] for r in report["renditions"]}
    # the 108p rung's smaller size is its own: it does not change size and keeps avc1
    assert entries == {"h264-180p": "avc3", "h264-108p": "avc1", "hevc-180p": "hev1", "vp9-180p": "vp09",
                       "av1-180p": "av01"}  # fmt: skip
    master = (out / "master.m3u8").read_text()
    for rend in report["renditions"]:
        assert f"RESOLUTION={rend['width']}x{rend['height']}" in master
        assert rend["codec_string"] in master


def test_validate_accepts_a_rendition_that_changes_size(resized):
    out, _ = resized
    res = subprocess.run(
        [sys.executable, "-m", "shotenc", "validate", str(out), "--json"], capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert json.loads(res.stdout)["ok"]


def test_codecs_names_the_level_of_the_largest_picture_not_the_first(tmp_path):
    """640x360 needs a higher H.264 level than the small first shot; the init segment is the first shot's."""
    src = make_clip(tmp_path / "clip.mp4", 1.2, 3.0, size="640x360")
    out = tmp_path / "title"
    report = encode_title(src, out, EncodeOptions(ladder=ONE_360P, mode=SmallFirstShot.name)).report
    (rend,) = report["renditions"]
    first = codec_string((out / "video" / rend["id"] / "init.mp4").read_bytes())
    assert first.startswith("avc3.") and rend["codec_string"].startswith("avc3.")
    assert int(rend["codec_string"][-2:], 16) > int(first[-2:], 16)  # level_idc
