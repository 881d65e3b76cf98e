"""Colour: what a source's pictures mean (BT.709 SDR, PQ or HLG HDR), and what a rendition carries.

A source is HDR when its transfer is SMPTE ST 2084 (PQ) or ARIB STD-B67 (HLG), read from the stream
header and, for sources deeper than 8 bits, from the first decoded frame (which also carries the
HDR10 static metadata: mastering display and content light level). HDR renditions keep the
source's transfer at 10 bits with its signalling; SDR renditions of an HDR source are tone-mapped
with ``zscale`` + ``tonemap`` (both in the bundled FFmpeg).
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, replace

from ..errors import FFmpegError
from . import ffmpeg

PQ, HLG, SDR = "PQ", "HLG", "SDR"  # HLS VIDEO-RANGE values
_TRANSFERS = {"smpte2084": PQ, "arib-std-b67": HLG}
# ITU-T H.273 code points of FFmpeg's colour names (2: unspecified)
CICP_PRIMARIES = {"bt709": 1, "bt470bg": 5, "smpte170m": 6, "bt2020": 9}
CICP_TRANSFER_NAMES = {"bt709": 1, "smpte170m": 6, "smpte2084": 16, "arib-std-b67": 18}
CICP_TRANSFER = {PQ: 16, HLG: 18}
CICP_MATRIX = {"gbr": 0, "bt709": 1, "bt470bg": 5, "smpte170m": 6, "bt2020nc": 9, "bt2020c": 10}
RGB = "gbr"  # the matrix of an RGB picture (H.273's "identity")
_RGB_PIX = re.compile(r"(?:[0ax]?(?:rgb|bgr)|gbr|x2(?:rgb|bgr)|pal8)")
_NUM = r"([\d.]+)"
_POINT = rf"\(\s*{_NUM}\s*,?\s*{_NUM}\s*\)"  # FFmpeg prints "b(0.1500 0.0600)" without the comma
_MASTERING = re.compile(
    rf"r{_POINT}\s*g{_POINT}\s*b{_POINT}\s*wp{_POINT}\s*min_luminance={_NUM},\s*max_luminance={_NUM}"
)
_LIGHT = re.compile(r"MaxCLL=(\d+),\s*MaxFALL=(\d+)")
_FRAME_COLOUR = re.compile(r"color_range:(\w+) color_space:([\w-]+) color_primaries:([\w-]+) color_trc:([\w-]+)")


@dataclass(frozen=True)
class Colour:
    """A picture's colour as FFmpeg names it, plus HDR10 static metadata when the source has it."""

    primaries: str = ""  # bt709, bt2020 ... ("" when the source does not say)
    transfer: str = ""  # bt709, smpte2084, arib-std-b67 ...
    matrix: str = ""  # bt709, bt2020nc ...
    range: str = "tv"
    bit_depth: int = 8
    # mastering display: R, G, B and white point (x, y) then max and min luminance (cd/m²); () if none
    mastering: tuple[float, ...] = ()
    max_cll: int = 0  # content light level (cd/m²), 0 if unknown
    max_fall: int = 0

    @property
    def video_range(self) -> str:
        """``PQ``, ``HLG`` or ``SDR``: what HLS calls VIDEO-RANGE."""
        return _TRANSFERS.get(self.transfer, SDR)

    @property
    def hdr(self) -> bool:
        return self.video_range != SDR

    @property
    def cicp(self) -> tuple[int, int, int]:
        """(ColourPrimaries, TransferCharacteristics, MatrixCoefficients) as ITU-T H.273 numbers them."""
        return (CICP_PRIMARIES.get(self.primaries, 2), CICP_TRANSFER_NAMES.get(self.transfer, 2),
                CICP_MATRIX.get(self.matrix, 2))  # fmt: skip

    def rendition_info(self) -> dict:
        """What report.json and the manifests say of a rendition with this colour."""
        return {"video_range": self.video_range, "bit_depth": self.bit_depth, "cicp": list(self.cicp)}

    @property
    def delivered(self) -> Colour:
        """What a rendition's pictures are: Y'CbCr in video range, with the matrix they were converted with.

        A full-range source is brought to video range (what the manifests' short codec strings and
        most players assume); an RGB source is converted with the BT.709 matrix (BT.2020's under BT.2020
        primaries) and says so, with BT.709 primaries and transfer (sRGB's) where it stated none: an
        unlabelled stream is read as BT.601 by some players and BT.709 by others.
        """
        if self.matrix != RGB:
            return replace(self, range="tv")
        primaries = self.primaries or "bt709"
        matrix = "bt2020nc" if primaries == "bt2020" else "bt709"
        return replace(self, primaries=primaries, transfer=self.transfer or "bt709", matrix=matrix, range="tv")

    def converted(self, scale: str) -> str:
        """The filter ``scale`` (a ``scale=W:H...``) turning this picture into :attr:`delivered`, with the
        frames' tags saying so (FFmpeg's encoders take them from the frames); ``scale`` as is if nothing changes."""
        opts = ["out_range=tv"] if self.range == "pc" else []
        out = self.delivered
        if self.matrix == RGB:
            opts.append(f"out_color_matrix={out.matrix}")
        if not opts:
            return scale
        names = (("color_primaries", out.primaries), ("color_trc", out.transfer), ("colorspace", out.matrix))
        return f"{scale}:{':'.join(opts)},setparams=range=tv" + "".join(f":{k}={v}" for k, v in names if v)

    @property
    def pix_fmt(self) -> str:
        """The 4:2:0 pixel format of a rendition with this colour."""
        return "yuv420p10le" if self.bit_depth > 8 else "yuv420p"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mastering"] = list(self.mastering)
        d["video_range"] = self.video_range
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Colour:
        """Inverse of :meth:`to_dict` for plain data read back from disk (TypeError/ValueError if malformed)."""
        texts = {k: d[k] for k in ("primaries", "transfer", "matrix", "range")}
        if not all(isinstance(v, str) for v in texts.values()):
            raise TypeError("Colour: names must be strings")
        return cls(
            **texts,
            bit_depth=int(d["bit_depth"]),
            mastering=tuple(float(v) for v in d["mastering"]),
            max_cll=int(d["max_cll"]),
            max_fall=int(d["max_fall"]),
        )


def bit_depth(pix_fmt: str) -> int:
    """Bits per component of an FFmpeg pixel format (``yuv420p10le`` → 10, ``p010le`` → 10)."""
    m = re.search(r"(\d{2})(?:le|be)?$", pix_fmt) or re.match(r"p0(\d{2})", pix_fmt)
    return int(m.group(1)) if m and 9 <= int(m.group(1)) <= 16 else 8


def header_colour(pix_fmt: str, extra: str | None) -> Colour:
    """The colour the stream header states, as in ``yuv420p10le(tv, bt2020nc/bt2020/smpte2084, progressive)``.

    One name stands for all three when space, primaries and transfer agree (``bt709``).
    """
    parts = [p.strip() for p in (extra or "").split(",")]
    rng = next((p for p in parts if p in ("tv", "pc")), "pc" if pix_fmt.startswith("yuvj") else "tv")
    names = next((p for p in parts if "/" in p), "")
    if names:
        matrix, primaries, transfer = (names.split("/") + ["", "", ""])[:3]
    else:
        single = next((p for p in parts if p in ("bt709", "bt2020nc", "smpte170m", "bt470bg")), "")
        matrix = primaries = transfer = single
    clean = [("" if n in ("unknown", "reserved") else n) for n in (primaries, transfer, matrix)]
    if _RGB_PIX.match(pix_fmt):
        clean[2], rng = RGB, "pc"
    return Colour(*clean, range=rng, bit_depth=bit_depth(pix_fmt))


def probe_colour(path: str, video_stream: int, pix_fmt: str, extra: str | None) -> Colour:
    """The source's colour: the header's, completed from the first frame where it may be HDR.

    An 8-bit source that does not say PQ or HLG is taken at its header's word (no decode); deeper
    or HDR-marked sources decode one frame, whose properties and side data are authoritative.
    """
    stated = header_colour(pix_fmt, extra)
    if stated.bit_depth <= 8 and not stated.hdr:
        return stated
    try:
        res = ffmpeg.run(
            ["-v", "info", "-i", path, "-map", f"0:v:{video_stream}", "-frames:v", "1", "-vf", "showinfo",
             "-f", "null", "-"],
            what="colour probe",
        )  # fmt: skip
    except FFmpegError:
        return stated
    return frame_colour(res.stderr, stated)


_VIDEO_PIX = re.compile(r"Video: \w+[^,]*, (?P<pix>\w+)(?:\((?P<extra>[^)]*)\))?")


def stream_colour(path: str | os.PathLike) -> Colour:
    """The colour of the first video stream of ``path`` (a rendition's init + segment, for checks)."""
    res = ffmpeg.run(["-i", path, "-t", "0", "-f", "null", "-"], what="colour probe")
    m = _VIDEO_PIX.search(res.stderr)
    if m is None:
        raise FFmpegError(f"colour probe: {path} has no video stream")
    return probe_colour(str(path), 0, m["pix"], m["extra"])


def frame_colour(showinfo: str, stated: Colour) -> Colour:
    """``stated`` completed by a ``showinfo`` log: frame colour properties, mastering display, light level."""
    primaries, transfer, matrix, rng = stated.primaries, stated.transfer, stated.matrix, stated.range
    if m := _FRAME_COLOUR.search(showinfo):
        known = [("" if v in ("unknown", "reserved", "unspecified") else v) for v in m.groups()]
        rng = known[0] or rng
        matrix, primaries, transfer = known[1] or matrix, known[2] or primaries, known[3] or transfer
    mastering: tuple[float, ...] = ()
    if md := _MASTERING.search(showinfo):
        v = [float(x) for x in md.groups()]
        mastering = (*v[:8], v[9], v[8])  # FFmpeg prints min before max
    cll, fall = (int(x) for x in light.groups()) if (light := _LIGHT.search(showinfo)) else (0, 0)
    return Colour(primaries, transfer, matrix, rng, stated.bit_depth, mastering, cll, fall)


def tonemap_filter(colour: Colour) -> str:
    """HDR to BT.709 SDR: linearize (100 cd/m² reference white), Hable curve, back to BT.709 8-bit 4:2:0.

    The input's transfer, primaries and matrix are given explicitly, so a stream whose frames do not
    carry them still converts.
    """
    tin = colour.transfer or "smpte2084"
    pin = colour.primaries or "bt2020"
    min_ = colour.matrix or "bt2020nc"
    return (
        f"zscale=tin={tin}:pin={pin}:min={min_}:rin={'full' if colour.range == 'pc' else 'limited'}"
        ":t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,"
        "zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
    )


def signalling_args(colour: Colour) -> list[str]:
    """FFmpeg output options that mark the encoded stream's colour (bitstream VUI and the MP4 colr box)."""
    args = ["-color_range", colour.range]
    for opt, value in (("-color_primaries", colour.primaries), ("-color_trc", colour.transfer),
                       ("-colorspace", colour.matrix)):  # fmt: skip
        if value:
            args += [opt, value]
    return args


BT709 = Colour("bt709", "bt709", "bt709", "tv", 8)


def output_colour(source: Colour, keep_hdr: bool, bits: int) -> Colour | None:
    """What a rendition carries: the source's HDR colour at 10 bits, or SDR (tone-mapped if the source is HDR),
    as :attr:`Colour.delivered` says.

    None for the plain case, an 8-bit rendition of a video-range Y'CbCr SDR source, whose colour
    FFmpeg passes on as it always has.
    """
    out = source.delivered
    if source.hdr and keep_hdr:
        return replace(out, bit_depth=10)
    if source.hdr:
        return BT709
    return replace(out, bit_depth=bits) if bits > 8 or out != source else None
