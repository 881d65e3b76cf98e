"""HDR: PQ/HLG sources detected; HEVC and AV1 renditions keep HDR10 at 10 bits, H.264 is tone-mapped SDR."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import m3u8
import pytest

import corpus
from shotenc.ladder import load_ladder
from shotenc.media import ffmpeg
from shotenc.media.colour import Colour, frame_colour, header_colour, stream_colour
from shotenc.media.probe import probe
from shotenc.package.thumbnails import ThumbnailOptions
from shotenc.pipeline import EncodeOptions, encode_title
from shotenc.report import rendition_file

NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}
HDR10 = (0.68, 0.32, 0.265, 0.69, 0.15, 0.06, 0.3127, 0.329, 1000.0, 0.0001)


def test_probe_finds_pq_with_its_static_metadata(hdr_title):
    c = probe(hdr_title.source).colour
    assert (c.video_range, c.primaries, c.matrix, c.bit_depth) == ("PQ", "bt2020", "bt2020nc", 10)
    assert c.mastering == pytest.approx(HDR10) and (c.max_cll, c.max_fall) == (1000, 400)


def test_probe_finds_hlg(tmp_path):
    c = probe(corpus.hdr10(tmp_path / "hlg.mkv", seconds=0.4, transfer="arib-std-b67")).colour
    assert (c.video_range, c.transfer, c.mastering) == ("HLG", "arib-std-b67", ())


def test_colour_parsing_from_headers_and_frames():
    assert header_colour("yuv420p", "tv, bt709, progressive") == Colour("bt709", "bt709", "bt709", "tv", 8)
    stated = header_colour("yuv420p10le", "tv, bt2020nc/unknown/unknown, progressive")
    assert (stated.matrix, stated.transfer, stated.bit_depth) == ("bt2020nc", "", 10) and not stated.hdr
    log = (
        "side data - Mastering display metadata: has_primaries:1 has_luminance:1 r(0.7080,0.2920) "
        "g(0.1700,0.7970) b(0.1310 0.0460) wp(0.3127, 0.3290) min_luminance=0.005000, max_luminance=4000.000000\n"
        "side data - Content light level metadata: MaxCLL=4000, MaxFALL=1200\n"
        "color_range:tv color_space:bt2020nc color_primaries:bt2020 color_trc:smpte2084"
    )
    c = frame_colour(log, stated)
    assert (c.video_range, c.max_cll, c.mastering[4:6], c.mastering[8:]) == ("PQ", 4000, (0.131, 0.046), (4000, 0.005))


def _colour(out, rid, tmp_path):
    return stream_colour(rendition_file(out / "video" / rid, [1], tmp_path / f"{rid}.mp4"))


def test_hdr_renditions_carry_pq_and_hdr10_metadata_sdr_ones_are_tone_mapped(hdr_title, tmp_path):
    out = hdr_title.out
    for rid in ("hevc-180p", "av1-180p"):
        c = _colour(out, rid, tmp_path)
        assert (c.video_range, c.bit_depth, c.primaries, c.matrix) == ("PQ", 10, "bt2020", "bt2020nc"), rid
        assert c.mastering == pytest.approx(HDR10, rel=0.25) and (c.max_cll, c.max_fall) == (1000, 400), rid
    for rid in ("h264-180p", "h264-108p"):
        c = _colour(out, rid, tmp_path)
        assert (c.video_range, c.bit_depth, c.transfer) == ("SDR", 8, "bt709"), rid
    strings = {r["id"]: r["codec_string"] for r in hdr_title.report["renditions"]}
    assert strings["hevc-180p"].startswith("hvc1.2.") and strings["av1-180p"].endswith(".10")  # Main10, 10-bit
    res = ffmpeg.run(["-v", "error", "-i", rendition_file(out / "video" / "hevc-180p", [1, 2], tmp_path / "h.mp4"),
                      "-f", "null", "-"], what="decode")  # fmt: skip
    assert not res.stderr.strip()


def test_manifests_signal_the_dynamic_range(hdr_title):
    master = m3u8.load(str(hdr_title.out / "master.m3u8"))
    ranges = {p.uri.split("/")[1]: p.stream_info.video_range for p in master.playlists}
    assert ranges == {"av1-180p": "PQ", "h264-108p": "SDR", "h264-180p": "SDR", "hevc-180p": "PQ"}
    mpd = ET.parse(hdr_title.out / "manifest.mpd").getroot()
    for aset in mpd.iter(f"{{{NS['d']}}}AdaptationSet"):
        if aset.get("contentType") != "video":
            continue
        props = {(p.tag.split("}")[1], p.get("schemeIdUri").rsplit(":", 1)[1], p.get("value")) for p in aset
                 if p.tag.endswith("Property")}  # fmt: skip
        codecs = aset.find("d:Representation", NS).get("codecs")
        expected = {("EssentialProperty", "TransferCharacteristics", "16"),
                    ("SupplementalProperty", "ColourPrimaries", "9"),
                    ("SupplementalProperty", "MatrixCoefficients", "9")}  # fmt: skip
        assert props == (set() if codecs.startswith("avc1") else expected), codecs


def test_vmaf_of_hdr_renditions_is_measured_on_the_tone_mapped_picture(hdr_title):
    vmaf = {r["id"]: r["vmaf"] for r in hdr_title.report["renditions"]}
    # compared in the same (SDR) picture as the reference, a 180p HDR rendition scores like its SDR sibling
    assert vmaf["hevc-180p"] > 75 and vmaf["av1-180p"] > 75 and vmaf["h264-180p"] > 75, vmaf
    assert vmaf["h264-108p"] < vmaf["h264-180p"]


def test_a_ten_bit_sdr_source_stays_sdr_eight_bit_unless_asked(tmp_path):
    src = corpus.ten_bit_sdr(tmp_path / "master10.mkv")
    ladder = tmp_path / "ten.toml"
    ladder.write_text(
        '[[rung]]\ncodec = "hevc"\nheight = 180\nbitrate_kbps = 200\npreset = "ultrafast"\n\n'
        '[[rung]]\ncodec = "vp9"\nheight = 180\nbitrate_kbps = 200\npreset = "8"\nbit_depth = 10\n',
        encoding="utf-8",
    )
    assert [r.bit_depth for r in load_ladder(str(ladder)).rungs] == [8, 10]
    out = tmp_path / "out"
    result = encode_title(src, out, EncodeOptions(ladder=str(ladder), jobs=2, thumbnails=ThumbnailOptions(False)))
    hevc, vp9 = _colour(out, "hevc-180p", tmp_path), _colour(out, "vp9-180p", tmp_path)
    assert (hevc.video_range, hevc.bit_depth) == ("SDR", 8)
    assert (vp9.video_range, vp9.bit_depth) == ("SDR", 10)
    assert {r["id"]: r["codec_string"][:8] for r in result.report["renditions"]}["vp9-180p"] == "vp09.02."
    assert "VIDEO-RANGE" not in (out / "master.m3u8").read_text()
