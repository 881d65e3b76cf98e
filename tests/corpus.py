"""Generated test media (FFmpeg lavfi): exact frame rates, timestamp gaps, audio tracks with languages.

Every file is made on the fly, small and fast, so the tests need nothing but the bundled FFmpeg.
"""

from __future__ import annotations

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
