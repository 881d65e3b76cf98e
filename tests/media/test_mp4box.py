"""Reading a chunk's sample table: what the encoder made, apart from the file's boxes."""

from __future__ import annotations

import pytest

from shotenc.media import ffmpeg
from shotenc.media.mp4box import sample_summary
from shotenc.media.probe import packet_info


@pytest.mark.parametrize("encoder", ["libx264", "libx265"])
def test_the_payload_is_the_sum_of_the_packets_ffmpeg_reads(tmp_path, encoder):
    out = tmp_path / "c.mp4"
    ffmpeg.run(
        ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=24:d=1", "-c:v", encoder]
        + ["-preset", "ultrafast", "-crf", "30", "-g", "24", out]
    )
    packets = packet_info(out)
    summary = sample_summary(out)
    assert summary == (24, True, sum(p["size"] for p in packets))
    # the file's own boxes are a large share of a small chunk: its size is not its rate
    assert out.stat().st_size - summary.payload_bytes > 500


def test_a_truncated_sample_table_is_a_value_error_not_a_crash(tmp_path):
    out = tmp_path / "c.mp4"
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=24:d=1", "-c:v", "libx264"]
               + ["-preset", "ultrafast", "-movflags", "+faststart", out])  # fmt: skip
    data = bytearray(out.read_bytes())
    stsz = data.index(b"stsz")
    data[stsz + 12 : stsz + 16] = (10**6).to_bytes(4, "big")  # a million sizes in a table of 24
    out.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sample table"):
        sample_summary(out)
