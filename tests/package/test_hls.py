"""HLS media playlists on plain data."""

from __future__ import annotations

from shotenc.package.cmaf import Rendition, Segment
from shotenc.package.hls import media_playlist, target_duration


def test_hls_target_duration_covers_rounded_extinf():
    segs = [Segment(i + 1, 0, 0, 1000, 0.0, d) for i, d in enumerate([2.4, 6.0, 5.51, 1.0])]
    r = Rendition("x", "video", "h264", "avc1.64001e", 12800, segs, 700, 320, 180, "25")
    assert target_duration(r) == 6
    text = media_playlist(r)
    assert "#EXT-X-TARGETDURATION:6" in text and text.count("#EXTINF") == 4
