"""What shotenc knows about one video codec: its encoder, rate control, CRF scale, codec string.

Every question the pipeline asks about a codec goes to its :class:`Codec` (as Av1an's ``Encoder``
answers every per-encoder question), so adding a codec is one file in this folder plus ladder lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import ClassVar

from ..media.colour import Colour, output_colour, signalling_args

# options shotenc sets itself: GOPs follow the segments, rates the rung's targets, threads the scheduler
OWN_OPTIONS = frozenset(
    ("g", "keyint_min", "sc_threshold", "force_key_frames", "crf", "qp", "b:v", "maxrate", "minrate", "bufsize",
     "pass", "passlogfile", "threads", "c:v", "preset")
)  # fmt: skip


@dataclass(frozen=True)
class RatePoint:
    """How one chunk is rate-controlled: ``kind`` is ``bitrate`` (kbps) or ``crf`` (quantiser scale)."""

    kind: str
    value: float
    maxrate_kbps: float
    bufsize_kbps: float
    width: int = 0  # 0: the rung's own size (an optimizer may pick another resolution)
    height: int = 0
    predicted_kbps: float = 0.0  # what the plan expects a CRF chunk to cost (0: no prediction)
    # CRF steps that halve this chunk's predicted rate around its CRF (0: the codec's typical): grain's rate
    # can fall six-fold in four CRF steps, so the rate feedback moves such a chunk's CRF by less
    halving: float = 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["value"] = round(self.value, 3)
        d["predicted_kbps"] = round(self.predicted_kbps, 2)
        d["halving"] = round(self.halving, 3)
        return d


# x264's and x265's presets, fastest first
X26X_PRESETS = tuple("ultrafast superfast veryfast faster fast medium slow slower veryslow placebo".split())


class Codec:
    """One video codec and its FFmpeg encoder. Subclasses set the class attributes and two methods."""

    name: ClassVar[str]  # ladder and CLI name: h264, hevc, vp9, av1
    label: ClassVar[str]  # for people: H.264
    order: ClassVar[int]  # where it stands in ladders, manifests and listings
    encoder: ClassVar[str]  # FFmpeg encoder
    sample_entries: ClassVar[tuple[str, ...]]  # MP4 sample entries it is read from (the first is written)
    in_band_entry: ClassVar[str]  # the sample entry of a stream carrying its parameter sets (its size may change)
    default_preset: ClassVar[str]  # what a rung's ``preset`` means when it names none
    presets: ClassVar[tuple[str, ...]]  # every preset its encoder takes (a ladder naming another is refused)
    crf_range: ClassVar[tuple[float, float]]
    crf_step: ClassVar[float] = 0.5  # the encoder's CRF resolution
    best_crf: ClassVar[float] = 10.0  # the lowest CRF worth asking for: below it bits buy no visible quality
    probe_crfs: ClassVar[tuple[float, ...]]  # coarse probe grid of the hull optimizer
    train_crfs: ClassVar[tuple[float, ...]]  # denser grid for fitting the rate-quality model
    cost: ClassVar[float]  # relative encode cost per pixel-frame (to start the slowest chunks first)
    abr_prior: ClassVar[float]  # planned / actual bitrate of a short 1-pass ABR chunk (rate feedback)
    crf_halving: ClassVar[float]  # CRF steps that halve the rate, near the middle of the range (rate feedback)
    browser: ClassVar[bool]  # plays through MSE in Chromium (the browser tests)
    crf_vbv: ClassVar[bool] = True  # caps peaks (maxrate/bufsize) in CRF mode; else the plan keeps chunks under it
    crf_passes: ClassVar[int] = 1  # passes of a CRF chunk (libvpx's constrained quality is best in two)
    # presets that plan no frame over a lookahead: their rate does not follow a shot's length as others' do
    no_lookahead: ClassVar[tuple[str, ...]] = ()
    # its whole-shot rate may be lent by the quality proxy (its window misses of a shot what x264's does)
    borrows_whole_rate: ClassVar[bool] = True
    ten_bit: ClassVar[bool] = False  # 10-bit 4:2:0 in a profile players decode (HEVC Main10, VP9 profile 2, AV1)
    hdr: ClassVar[bool] = False  # HDR renditions of an HDR source (else they are tone-mapped to SDR)

    _registry: ClassVar[dict[str, type[Codec]]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            Codec._registry[cls.name] = cls

    def encoder_args(
        self,
        preset: str,
        rate: RatePoint,
        gop: int,
        threads: int,
        options: dict[str, str] | None = None,
        *,
        cap: bool = True,
        tight_abr: bool = True,
        in_band: bool = False,
        colour: Colour | None = None,
    ) -> list[str]:
        """Output options for one closed GOP of ``gop`` frames (IDR first, no scene-cut keyframes) at ``rate``.

        ``cap`` keeps the VBV peak cap (maxrate/bufsize); ``tight_abr`` lets a short chunk ask for a
        narrower ABR tolerance than a whole-title encode would use; ``in_band`` repeats the parameter
        sets at the keyframe, so chunks of different sizes can follow each other in one stream;
        ``colour`` is what the stream must signal (None: leave it to FFmpeg, as for an 8-bit SDR source).
        """
        args = self.rate_args(preset, rate, gop, threads, cap=cap, tight_abr=tight_abr, in_band=in_band)
        if colour is not None:
            args = self.colour_args(args, colour)
        for k, v in (options or {}).items():
            flag = f"-{k}"
            if k.endswith("-params") and flag in args:  # one list: the rung's items first, shotenc's after them win
                i = args.index(flag) + 1
                args[i] = f"{v}:{args[i]}"
            else:
                args += [flag, v]
        return args

    def rendition_colour(self, source: Colour, bit_depth: int = 8) -> Colour | None:
        """What this codec's renditions of ``source`` carry: HDR where the codec does HDR, else SDR
        (tone-mapped from an HDR source); 10 bits where asked and the codec can. None: 8-bit SDR as is."""
        bits = 10 if bit_depth > 8 and self.ten_bit else 8
        return output_colour(source, self.hdr, bits)

    def colour_args(self, args: list[str], colour: Colour) -> list[str]:
        """``args`` plus the colour signalling (VUI, MP4 colr box); HDR codecs add the static metadata."""
        return args + signalling_args(colour)

    @staticmethod
    def hdr10_params(colour: Colour, display: Callable[[tuple[float, ...]], str], light: str) -> list[str]:
        """An encoder's own ``key=value`` items for HDR10 static metadata: ``display`` writes the mastering
        display in the encoder's syntax, ``light`` names its MaxCLL,MaxFALL option."""
        if not colour.hdr:
            return []
        items = [display(colour.mastering)] if len(colour.mastering) == 10 else []
        return items + ([f"{light}={colour.max_cll},{colour.max_fall}"] if colour.max_cll else [])

    @staticmethod
    def extend_params(args: list[str], flag: str, extra: list[str]) -> list[str]:
        """``args`` with ``extra`` ``key=value`` items joined onto the value of ``flag`` (``-x265-params``)."""
        if not extra:
            return args
        out = list(args)
        if flag in out:
            i = out.index(flag) + 1
            out[i] = ":".join([out[i], *extra])
        else:
            out += [flag, ":".join(extra)]
        return out

    def rate_args(
        self, preset: str, rate: RatePoint, gop: int, threads: int, *, cap: bool, tight_abr: bool, in_band: bool
    ) -> list[str]:
        raise NotImplementedError

    def mux_args(self, in_band: bool = False) -> list[str]:
        """Options for writing (or stream-copying) this codec into MP4 (``in_band``: its in-band sample entry)."""
        return []

    def codec_string(self, entry: str, config: bytes, width: int, height: int, fps: float) -> str:
        """The RFC 6381 CODECS value from the sample entry's configuration record."""
        raise NotImplementedError

    def crf(self, value: float) -> float:
        """``value`` clamped to the encoder's range and rounded to its CRF resolution."""
        lo, hi = self.crf_range
        v = min(hi, max(lo, value))
        return float(round(v / self.crf_step) * self.crf_step)

    def crf_floor(self, value: float) -> float:
        """The largest CRF the encoder takes that is not above ``value`` (never a lower quality)."""
        return self.crf(math.floor(value / self.crf_step) * self.crf_step)

    @staticmethod
    def vbv(rate: RatePoint) -> list[str]:
        return ["-maxrate", f"{rate.maxrate_kbps:.0f}k", "-bufsize", f"{rate.bufsize_kbps:.0f}k"]

    @staticmethod
    def quality_or_bitrate(rate: RatePoint, crf_text: str) -> list[str]:
        return ["-b:v", f"{rate.value:.0f}k"] if rate.kind == "bitrate" else ["-crf", crf_text]
