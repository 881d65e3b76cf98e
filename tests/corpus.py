"""Generated test media (FFmpeg lavfi): exact frame rates, timestamp gaps, audio tracks with languages.

Every file is made on the fly, small and fast, so the tests need nothing but the bundled FFmpeg.
"""

from __future__ import annotations

import codecs
import struct
from fractions import Fraction
from pathlib import Path

from shotenc.media import ffmpeg

# the rates a source may have: broadcast, film, NTSC, and a few odd ones
RATES = ["24000/1001", "24", "25", "30000/1001", "30", "50", "60000/1001", "60", "12.5", "15", "48", "120"]


def rate(text: str) -> Fraction:
    return Fraction(text)


def constant_rate(dest: Path, fps: str, seconds: float, size: str = "64x36") -> Path:
    """``seconds`` of moving test pattern at exactly ``fps`` (no audio)."""
    ffmpeg.run(
        [
            "-y", "-v", "error",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
            "-t", f"{seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "48",
            dest,
        ],
        what="test clip",
    )  # fmt: skip
    return dest


def with_gaps(dest: Path, seconds: float = 6.0, gaps_at: tuple[int, ...] = (50, 100)) -> Path:
    """25 fps in a millisecond time base, one frame missing before each of ``gaps_at`` (an MKV)."""
    shift = "+".join(f"if(gte(N\\,{n})\\,40\\,0)" for n in gaps_at)
    ffmpeg.run(
        [
            "-y", "-v", "error",
            "-f", "lavfi", "-i", f"testsrc2=size=64x36:rate=25:d={seconds}",
            "-vf", f"settb=1/1000,setpts='N*40+{shift}'",
            "-c:v", "libx264", "-preset", "ultrafast",
            "-fps_mode", "passthrough", "-enc_time_base", "1/1000",
            dest,
        ],
        what="test clip",
    )  # fmt: skip
    return dest


def animated_gif(dest: Path, cut_s: float = 1.0, seconds: float = 2.0) -> Path:
    """A 24 fps animated GIF with a cut: its centisecond delays step 4, 4, 4, 5 (FFmpeg states 25 fps, 24 tbr)."""
    ffmpeg.run(
        [
            "-y", "-v", "error",
            "-f", "lavfi", "-i", f"testsrc2=size=64x36:rate=24:d={cut_s}",
            "-f", "lavfi", "-i", f"mandelbrot=size=64x36:rate=24,trim=duration={seconds - cut_s}",
            "-filter_complex", "[0][1]concat=n=2,split[a][b];[a]palettegen[p];[b][p]paletteuse",
            dest,
        ],
        what="test clip",
    )  # fmt: skip
    return dest


def two_languages(dest: Path, seconds: float = 3.0, default: str = "fra") -> Path:
    """Video with a 5.1 English track and a stereo French one (titled), ``default`` marked default."""
    first_default, second_default = ("default", "0") if default == "eng" else ("0", "default")
    ffmpeg.run(
        [
            "-y", "-v", "error",
            "-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=25:d={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=660:duration={seconds}",
            "-filter_complex",
            "[1:a]pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0[surround];[2:a]pan=stereo|c0=c0|c1=c0[st]",
            "-map", "0:v", "-map", "[surround]", "-map", "[st]",
            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
            "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra",
            "-metadata:s:a:1", "title=Français",
            "-disposition:a:0", first_default, "-disposition:a:1", second_default,
            dest,
        ],
        what="test clip",
    )  # fmt: skip
    return dest


def foreign_folder(folder: Path) -> Path:
    """A folder holding a user's own file, where an output might be asked to go."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("my notes\n", encoding="utf-8")
    return folder


SRT_EN = """1
00:00:00,200 --> 00:00:01,400
Hello <i>there</i>

2
00:00:01,600 --> 00:00:02,800
Second line
"""

ASS_FR = r"""[Script Info]
ScriptType: v4.00+
PlayResX: 320
PlayResY: 180

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.50,0:00:02.00,Default,,0,0,0,,{\an8}Bonjour {\i1}tout{\i0} le monde\N[musique]
"""  # noqa: E501


def pgs_subtitle(dest: Path, width: int = 320, height: int = 180) -> Path:
    """A HDMV PGS (Blu-ray bitmap) subtitle stream: one 64x16 box shown from 0.5 s to 2 s (a .sup file)."""

    def seg(pts: int, kind: int, data: bytes) -> bytes:
        return b"PG" + struct.pack(">IIBH", pts, 0, kind, len(data)) + data

    def display_set(pts: int, show: bool) -> bytes:
        pcs = struct.pack(">HHBHBBBB", width, height, 0x10, 0, 0x80, 0, 0, int(show))
        pcs += struct.pack(">HBBHH", 0, 0, 0, 10, 10) if show else b""
        out = seg(pts, 0x16, pcs) + seg(pts, 0x17, struct.pack(">BBHHHH", 1, 0, 10, 10, 64, 16))
        if show:
            rle = bytes([0x00, 0xC0, 0x40, 0x01, 0x00, 0x00]) * 16  # 64 pixels of colour 1, end of line
            ods = struct.pack(">HBB", 0, 0, 0xC0) + (len(rle) + 4).to_bytes(3, "big") + struct.pack(">HH", 64, 16)
            out += seg(pts, 0x14, bytes([0, 0, 1, 235, 128, 128, 255])) + seg(pts, 0x15, ods + rle)
        return out + seg(pts, 0x80, b"")

    dest.write_bytes(display_set(45000, True) + display_set(180000, False))
    return dest


def subtitled(dest: Path, seconds: float = 3.0, cut_s: float = 1.6) -> Path:
    """An MKV as a streaming title arrives: two shots (a cut at ``cut_s``), 5.1 English and stereo French
    audio, an English SRT stream (forced), a French ASS stream (hearing impaired, default) and a German
    PGS bitmap stream."""
    side = dest.parent
    (side / "en.srt").write_text(SRT_EN, encoding="utf-8")
    (side / "fr.ass").write_text(ASS_FR, encoding="utf-8")
    pgs_subtitle(side / "de.sup")
    ffmpeg.run(
        [
            "-y", "-v", "error",
            "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:d={cut_s}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=660:duration={seconds}",
            "-i", side / "en.srt", "-i", side / "fr.ass", "-i", side / "de.sup",
            "-f", "lavfi", "-i", f"smptehdbars=size=320x180:rate=25:d={seconds - cut_s}",
            "-filter_complex",
            "[0:v][6:v]concat=n=2:v=1[v];"
            "[1:a]pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0[surround];[2:a]pan=stereo|c0=c0|c1=c0[st]",
            "-map", "[v]", "-map", "[surround]", "-map", "[st]", "-map", "3", "-map", "4", "-map", "5",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac",
            "-c:s:0", "srt", "-c:s:1", "ass", "-c:s:2", "copy",
            "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra",
            "-metadata:s:s:0", "language=eng", "-metadata:s:s:1", "language=fra", "-metadata:s:s:2", "language=deu",
            "-metadata:s:s:1", "title=Français SDH",
            "-disposition:a:0", "default", "-disposition:a:1", "0",
            "-disposition:s:0", "forced", "-disposition:s:1", "default+hearing_impaired", "-disposition:s:2", "0",
            dest,
        ],
        what="test clip",
    )  # fmt: skip
    return dest


def latin1_srt(dest: Path) -> Path:
    """A French SubRip file in Latin-1 (no BOM), as old rips come."""
    text = (
        "1\r\n00:00:00,300 --> 00:00:01,500\r\nÇa a été un café très réussi, à bientôt\r\n\r\n"
        "2\r\n00:00:01,700 --> 00:00:02,900\r\nOù est la forêt ? Noël approche déjà.\r\n"
    )
    dest.write_bytes(text.encode("latin-1"))
    return dest


def bom_vtt(dest: Path) -> Path:
    """A German WebVTT file in UTF-8 with a byte-order mark, a cue setting and a cue past the title's end."""
    text = (
        "WEBVTT\n\n00:00:00.100 --> 00:00:01.000 line:10%\nGrüße aus Köln\n\n"
        "00:00:02.500 --> 00:00:09.000\nÜber das Ende hinaus\n"
    )
    dest.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    return dest


MASTER_DISPLAY = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"


def hdr10(dest: Path, seconds: float = 2.0, transfer: str = "smpte2084") -> Path:
    """A 10-bit HEVC clip in BT.2020 with PQ (HDR10: mastering display and content light level in its SEI),
    or HLG with ``transfer="arib-std-b67"``; two shots (a cut at 1 s)."""
    hdr = f":master-display={MASTER_DISPLAY}:max-cll=1000,400" if transfer == "smpte2084" else ""
    half = seconds / 2
    ffmpeg.run(
        [
            "-y", "-v", "error",
            "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:d={half}",
            "-f", "lavfi", "-i", f"smptehdbars=size=320x180:rate=25:d={half}",
            "-filter_complex",
            f"[0:v][1:v]concat=n=2:v=1,setparams=color_primaries=bt2020:color_trc={transfer}:colorspace=bt2020nc"
            ":range=tv,format=yuv420p10le",
            "-c:v", "libx265", "-preset", "ultrafast",
            "-x265-params", f"log-level=error:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc{hdr}",
            dest,
        ],
        what="test clip",
    )  # fmt: skip
    return dest


def ten_bit_sdr(dest: Path, seconds: float = 1.0) -> Path:
    """A 10-bit BT.709 (SDR) HEVC clip, as a 10-bit master of an SDR title comes."""
    ffmpeg.run(
        [
            "-y", "-v", "error",
            "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:d={seconds}",
            "-vf", "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv,format=yuv420p10le",
            "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
            dest,
        ],
        what="test clip",
    )  # fmt: skip
    return dest
