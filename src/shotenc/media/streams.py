"""The stream listing of ``ffmpeg -i``: one block per stream, its language, title and dispositions.

Audio and subtitle streams are read from the same listing; this module holds what they share and
the subtitle streams themselves (which of them are text that can become WebVTT, which are bitmaps).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STREAM_RE = re.compile(r"^\s*Stream #\d+:(?P<idx>\d+)(?:\[[^\]]*\])?(?:\((?P<lang>[^)]*)\))?")
_TITLE_RE = re.compile(r"^\s+title\s*: (?P<title>.*)$", re.IGNORECASE)
_SUBTITLE_RE = re.compile(r"Subtitle: (?P<codec>\w+)")

# FFmpeg's names of the text subtitle codecs that its webvtt encoder converts (ASS/SSA lose their styling)
TEXT_SUBTITLES = frozenset({"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"})
# pictures of text: no text to convert without OCR
BITMAP_SUBTITLES = {
    "hdmv_pgs_subtitle": "PGS",
    "dvb_subtitle": "DVB",
    "dvd_subtitle": "VobSub",
    "xsub": "XSUB",
}


def stream_blocks(header: str) -> list[list[str]]:
    """The input's stream listing: one block per stream, its ``Stream #`` line then its metadata lines."""
    blocks: list[list[str]] = []
    for line in header.splitlines():
        if line.startswith(("Stream mapping", "Output #")):
            break
        if STREAM_RE.match(line):
            blocks.append([line])
        elif blocks and line.startswith("      "):
            blocks[-1].append(line)
    return blocks


def language_tag(code: str) -> str:
    """A container's language code as a BCP 47 tag (``eng`` → ``en``); ``und`` when unknown or invalid."""
    import langcodes

    try:
        tag = langcodes.standardize_tag(code.strip())
    except (ValueError, langcodes.tag_parser.LanguageTagError):
        return "und"
    return tag if langcodes.tag_is_valid(tag) else "und"


def language_name(tag: str) -> str:
    """The language's English name (``fr`` → ``French``); empty for ``und``."""
    if tag == "und":
        return ""
    import langcodes

    try:
        return langcodes.Language.get(tag).display_name()
    except (ImportError, LookupError, ValueError):
        return tag


def block_language(block: list[str]) -> str:
    return language_tag(STREAM_RE.match(block[0])["lang"] or "und")


def block_title(block: list[str]) -> str:
    return next((t["title"].strip() for ln in block[1:] if (t := _TITLE_RE.match(ln))), "")


@dataclass
class SubtitleStream:
    index: int  # index among the file's subtitle streams (for -map 0:s:N)
    codec: str  # FFmpeg's codec name: subrip, ass, mov_text, webvtt, hdmv_pgs_subtitle ...
    language: str = "und"  # BCP 47
    title: str = ""
    default: bool = False
    forced: bool = False
    sdh: bool = False  # for the deaf and hard of hearing ("hearing impaired" or "captions")

    @property
    def is_text(self) -> bool:
        return self.codec in TEXT_SUBTITLES

    @property
    def kind(self) -> str:
        """What a person calls the format (for warnings): PGS, VobSub, DVB ..."""
        return BITMAP_SUBTITLES.get(self.codec, self.codec)


def subtitle_streams(blocks: list[list[str]]) -> list[SubtitleStream]:
    """Every subtitle stream of the listing, text or not, with its language, title and dispositions."""
    found = []
    for block in blocks:
        m = _SUBTITLE_RE.search(block[0])
        if not m:
            continue
        line = block[0]
        found.append(
            SubtitleStream(
                index=len(found),
                codec=m["codec"],
                language=block_language(block),
                title=block_title(block),
                default="(default)" in line,
                forced="(forced)" in line,
                sdh="(hearing impaired)" in line or "(captions)" in line,
            )
        )
    return found
