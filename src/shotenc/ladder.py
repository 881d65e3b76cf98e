"""Encoding ladders: human-edited TOML files of rungs (size, codec, bitrate, encoder options)."""

from __future__ import annotations

import functools
import math
import re
import sys
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path

from . import codecs as codec_registry
from .codecs.base import OWN_OPTIONS, RatePoint
from .errors import FFmpegError, ShotencError
from .media import ffmpeg
from .media.probe import MIN_SIDE

# what a [[rung]] may say (see ladders/default.toml)
RUNG_KEYS = frozenset(
    {"id", "codec", "height", "width", "bitrate_kbps", "maxrate_kbps", "bufsize_kbps", "preset", "options", "bit_depth"}
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class Rung:
    """One rendition of the ladder. ``width`` is filled in from the source's aspect ratio."""

    id: str
    codec: str
    height: int
    bitrate_kbps: float
    maxrate_kbps: float
    bufsize_kbps: float
    preset: str
    width: int = 0
    options: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    bit_depth: int = 8  # 10 asks for 10-bit 4:2:0 where the codec can (HDR renditions are 10-bit anyway)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Ladder:
    name: str
    description: str
    rungs: list[Rung]


def ladders_dir() -> Path | resources.abc.Traversable:
    """``ladders/`` of a source checkout, else the copy installed as package data."""
    checkout = Path(__file__).resolve().parents[2] / "ladders"
    if checkout.is_dir():
        return checkout
    return resources.files("shotenc.ladders")


def available_ladders() -> list[str]:
    return sorted(p.name[:-5] for p in ladders_dir().iterdir() if p.name.endswith(".toml"))


def _ladder_file(name_or_path: str) -> Path | resources.abc.Traversable:
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ShotencError(f"ladder file {name_or_path} not found")
        return path
    candidate = ladders_dir() / f"{name_or_path}.toml"
    if not candidate.is_file():
        known = ", ".join(available_ladders())
        raise ShotencError(f"unknown ladder {name_or_path!r} (known: {known}; or give a .toml path)")
    return candidate


def load_ladder(name_or_path: str = "default") -> Ladder:
    """Load a ladder by name (``ladders/NAME.toml``) or path, validating every rung."""
    src = _ladder_file(name_or_path)
    try:
        data = tomllib.loads(src.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ShotencError(f"ladder {name_or_path}: not valid TOML ({exc})") from None
    raw_rungs = data.get("rung") or []
    if not raw_rungs:
        raise ShotencError(f"ladder {name_or_path}: no [[rung]] entries")
    rungs: list[Rung] = []
    seen: set[str] = set()
    for i, r in enumerate(raw_rungs, 1):
        unknown = sorted(set(r) - RUNG_KEYS) if isinstance(r, dict) else []
        if unknown:  # a misspelt key would otherwise be ignored and its rung encoded otherwise than asked
            known = ", ".join(sorted(RUNG_KEYS))
            raise ShotencError(f"ladder {name_or_path}: rung {i}: unknown key {unknown[0]!r} (known: {known})")
        try:
            codec = str(r["codec"]).lower()
            height = _number(r["height"], "height", whole=True)
            width = _number(r.get("width", 0), "width", whole=True)
            bitrate = _number(r["bitrate_kbps"], "bitrate_kbps")
        except (KeyError, ValueError, TypeError) as exc:
            raise ShotencError(f"ladder {name_or_path}: rung {i} needs codec, height, bitrate_kbps ({exc})") from None
        if codec not in codec_registry.names():
            known = ", ".join(codec_registry.names())
            raise ShotencError(f"ladder {name_or_path}: rung {i}: codec {codec!r} is not one of {known}")
        if height < MIN_SIDE or height % 2 or bitrate <= 0:
            raise ShotencError(f"ladder {name_or_path}: rung {i}: height must be even and >= {MIN_SIDE}, bitrate > 0")
        spec = codec_registry.get(codec)
        bits = r.get("bit_depth", 8)
        if bits not in (8, 10) or (bits == 10 and not spec.ten_bit):
            raise ShotencError(f"ladder {name_or_path}: rung {i}: bit_depth must be 8, or 10 for a codec that has it")
        try:
            maxrate = _number(r.get("maxrate_kbps", bitrate * 1.5), "maxrate_kbps")
            bufsize = _number(r.get("bufsize_kbps", maxrate * 2), "bufsize_kbps")
        except (ValueError, TypeError) as exc:
            raise ShotencError(f"ladder {name_or_path}: rung {i}: maxrate_kbps, bufsize_kbps: {exc}") from None
        if maxrate < bitrate or bufsize <= 0:
            raise ShotencError(
                f"ladder {name_or_path}: rung {i}: maxrate_kbps must be at least bitrate_kbps and bufsize_kbps above 0"
            )
        preset = str(r.get("preset", spec.default_preset))
        if preset not in spec.presets:
            known = ", ".join(spec.presets)
            raise ShotencError(f"ladder {name_or_path}: rung {i}: {codec} has no preset {preset!r} (it has {known})")
        options = r.get("options") or {}
        if not isinstance(options, dict):
            raise ShotencError(
                f'ladder {name_or_path}: rung {i}: options must be a table (options = {{ tune = "film" }})'
            )
        if own := sorted(str(k).lstrip("-") for k in options if str(k).lstrip("-") in OWN_OPTIONS):
            raise ShotencError(
                f"ladder {name_or_path}: rung {i}: option {own[0]!r} is shotenc's own (GOPs follow the segments, "
                "rates come from bitrate_kbps, maxrate_kbps and bufsize_kbps, the preset from preset)"
            )
        rid = str(r.get("id") or f"{codec}-{height}p")
        if rid in seen:
            raise ShotencError(f"ladder {name_or_path}: duplicate rung id {rid!r} (set id = ...)")
        seen.add(rid)
        rungs.append(
            Rung(
                id=rid,
                codec=codec,
                height=height,
                width=int(width),
                bitrate_kbps=bitrate,
                maxrate_kbps=maxrate,
                bufsize_kbps=bufsize,
                preset=preset,
                options={str(k).lstrip("-"): str(v) for k, v in options.items()},
                bit_depth=bits,
            )
        )
    return Ladder(str(data.get("name", name_or_path)), str(data.get("description", "")), rungs)


def even(x: float) -> int:
    """``x`` rounded to an even number of pixels (at least 2): what 4:2:0 encoders take."""
    return max(2, int(round(x / 2)) * 2)


def _source_size_rung(bigger: Rung, top: Rung | None, tier: int, width: int, height: int) -> Rung:
    scale = ((width * height) / (bigger.width * bigger.height)) ** 0.75
    floor = top.bitrate_kbps / bigger.bitrate_kbps if top else 0.0
    scale = min(1.0, max(scale, floor))
    return replace(
        bigger,
        id=f"{bigger.codec}-{tier}p",
        height=height,
        width=width,
        bitrate_kbps=round(bigger.bitrate_kbps * scale, 1),
        maxrate_kbps=round(bigger.maxrate_kbps * scale, 1),
        bufsize_kbps=round(bigger.bufsize_kbps * scale, 1),
    )


def tier(rung: Rung) -> int:
    """The ``p`` a rung is named by: its short side (a portrait 360p is 360x640)."""
    return min(rung.width, rung.height) if rung.width else rung.height


def _oriented(side: int, length: int, portrait: bool) -> tuple[int, int]:
    """(width, height) of a picture whose short side is ``side`` and long side ``length``."""
    return (side, length) if portrait else (length, side)


def picture(side: int, display_width: int, display_height: int) -> tuple[int, int]:
    """(width, height) of the picture whose short side is ``side`` at the display's aspect, within it."""
    short, long = sorted((display_width, display_height))
    length = min(even(side * long / short), long - long % 2)
    return _oriented(side, length, display_height > display_width)


def _number(value: object, key: str, whole: bool = False) -> float:
    """A rung's number as TOML wrote it: a string ("500"), a boolean, NaN or infinity, or a fraction where a
    whole number is meant (a height of 360.5), is refused rather than read as something else."""
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        raise ValueError(f"{key} must be a {'whole ' if whole else ''}number, not {value!r}")
    return value


def check_codecs(ladder: Ladder, codecs: list[str] | None) -> None:
    """ShotencError when ``codecs`` names an unknown codec or the ladder has no rung for any of them."""
    if codecs:
        unknown = sorted(set(codecs) - set(codec_registry.names()))
        if unknown:
            known = ", ".join(codec_registry.names())
            raise ShotencError(f"unknown codec(s) {', '.join(unknown)}; choose from {known}")
    if not any(codecs is None or not codecs or r.codec in codecs for r in ladder.rungs):
        raise ShotencError("the ladder has no rung for the chosen codecs")


# what encoders log, and go on, when they do not understand an option they were given
_REFUSED = re.compile(
    r"error parsing option|unknown option|unrecognized option|error applying encoder options|error setting option|"
    r"option not found",
    re.IGNORECASE,
)


def check_options(ladder: Ladder, codecs: list[str] | None) -> None:
    """ShotencError when FFmpeg refuses a rung's free-form ``options``, tried on a tiny picture before any decoding:
    x264, x265 and SVT-AV1 log an unknown parameter and go on without it, FFmpeg stops at an unknown option."""
    for r in ladder.rungs:
        if r.options and not (codecs and r.codec not in codecs):
            options = tuple(sorted(r.options.items()))
            if why := _refusal(r.codec, r.preset, r.bit_depth, r.maxrate_kbps, r.bufsize_kbps, options):
                raise ShotencError(f"ladder {ladder.name}: rung {r.id}: FFmpeg does not take its options ({why})")


@functools.cache  # (a batch checks its ladder once per title)
def _refusal(
    codec: str, preset: str, bit_depth: int, maxrate: float, bufsize: float, options: tuple[tuple[str, str], ...]
) -> str:
    """What FFmpeg says against these encoder options on one tiny picture ("" if it takes them)."""
    spec = codec_registry.get(codec)
    rate = RatePoint("crf", sum(spec.crf_range) / 2, maxrate, bufsize)
    depth = "yuv420p10le" if bit_depth > 8 else "yuv420p"
    picture = f"color=s={MIN_SIDE * 4}x{MIN_SIDE * 4}:r=25:d=0.08,format={depth}"
    args = ["-v", "warning", "-f", "lavfi", "-i", picture, *spec.encoder_args(preset, rate, 2, 1, dict(options))]
    try:
        said = ffmpeg.run([*args, "-f", "null", "-"], what=f"{codec} options").stderr
        failed = []
    except FFmpegError as exc:
        said, failed = exc.stderr, exc.stderr_tail[-1:] or [str(exc)]
    refused = [ln for ln in said.splitlines() if _REFUSED.search(ln)] or failed
    return ffmpeg.plain_line(refused[0]) if refused else ""


def fit_to_source(
    ladder: Ladder, display_width: int, display_height: int, codecs: list[str] | None = None
) -> list[Rung]:
    """Rungs for this source: chosen codecs, widths from its aspect ratio, none above its size.

    A rung's ``height`` names its short side, so a portrait source (taller than wide, after rotation)
    gets the same rungs turned upright, as phones shoot and the HLS authoring spec names them: 360p
    is 360x640, at the landscape rung's rates. When rungs were dropped for being larger than the
    source and the codec's top kept rung is well below the source (or none is left), a rung at the
    source size takes their place: the smallest dropped rung, its rates scaled by (pixel ratio)^0.75,
    never under the top kept rung's.
    """
    check_codecs(ladder, codecs)
    portrait = display_height > display_width
    short, long = sorted((display_width, display_height))
    ratio, cap = long / short, long - long % 2

    def upright(r: Rung, side: int, length: int) -> Rung:
        width, height = _oriented(side, length, portrait)
        return replace(r, width=width, height=height)

    out: list[Rung] = []
    for codec in codec_registry.names():
        if codecs and codec not in codecs:
            continue
        mine = [r for r in ladder.rungs if r.codec == codec]
        if not mine:
            continue
        fitted, dropped = [], []
        for r in mine:
            length = r.width or even(r.height * ratio)
            if r.height <= short and length <= cap + 2:
                fitted.append(upright(r, r.height, min(length, cap)))
            else:
                dropped.append(upright(r, r.height, length))
        top = max(fitted, key=lambda r: (tier(r), r.bitrate_kbps), default=None)
        if dropped and (top is None or tier(top) < 0.9 * short):
            side = short - short % 2
            length = min(cap, even(short * ratio))
            smallest = min(dropped, key=lambda r: (tier(r), r.bitrate_kbps))
            fitted.append(_source_size_rung(smallest, top, side, *_oriented(side, length, portrait)))
        out.extend(fitted)
    if not out:
        raise ShotencError("the ladder has no rung for the chosen codecs")
    return out
