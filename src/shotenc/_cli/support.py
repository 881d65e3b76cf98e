"""What every ``shotenc`` command shares: option groups whose choices come from the registries, and
failures reaching the user as one line, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

import click

from .. import allocators, codecs
from ..allocators import AllocatorOptions
from ..analysis.shots import DETECTORS, ShotOptions
from ..errors import ShotencError
from ..package.audio import AUDIO_FORMATS
from ..package.thumbnails import ThumbnailOptions

CODECS_HELP = f"Comma-separated subset: {','.join(codecs.names())}."
AUDIO_HELP = "Comma-separated audio formats: " + "; ".join(f"{k}: {f.summary}" for k, f in AUDIO_FORMATS.items())


def user_errors(fn: Callable) -> Callable:
    """Turn known failures (and Ctrl-C) into one line on stderr and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ShotencError as exc:
            click.echo(f"shotenc: error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("shotenc: interrupted", err=True)
            sys.exit(130)
        except OSError as exc:
            click.echo(f"shotenc: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
            sys.exit(2)

    return wrapper


def options(*decorators: Callable) -> Callable:
    """Apply click option decorators in the order they are listed (top to bottom in --help)."""

    def apply(fn: Callable) -> Callable:
        for d in reversed(decorators):
            fn = d(fn)
        return fn

    return apply


shot_options = options(
    click.option(
        "--detector", type=click.Choice(DETECTORS), default="content", show_default=True, help="PySceneDetect detector."
    ),
    click.option("--threshold", type=float, default=None, help="Detector threshold (its default if unset)."),
    click.option("--min-shot", type=float, default=1.0, show_default=True, help="Shorter shots (s) are merged."),
    click.option(
        "--max-segment", type=float, default=6.0, show_default=True, help="Longer shots (s) are split (HLS target)."
    ),
)

ladder_options = options(
    click.option(
        "--ladder",
        default="default",
        show_default=True,
        help="Ladder name in ladders/, a .toml path, or 'auto' (each rung's size chosen from the hulls).",
    ),
    click.option("--codecs", default=None, help=CODECS_HELP),
)


def _mode_help() -> str:
    return "Per-shot optimizer: " + "; ".join(f"{n}: {allocators.get(n).summary}" for n in allocators.names())


optimizer_options = options(
    click.option(
        "--mode",
        type=click.Choice(allocators.names()),
        default=allocators.DEFAULT,
        show_default=True,
        help=_mode_help(),
    ),
    click.option(
        "--target-vmaf",
        type=click.FloatRange(1, 100),
        default=None,
        help="Quality target of each codec's top rung (lower rungs aim lower by their rate).",
    ),
    click.option(
        "--model-file",
        type=click.Path(path_type=Path),
        default=None,
        help="Rate-quality model for --mode model (default: the shipped one).",
    ),
    click.option(
        "--fixed-size",
        is_flag=True,
        help="Every shot of a rung at the rung's size (modes that choose a size per shot: "
        + ", ".join(n for n in allocators.names() if allocators.get(n).chooses_sizes)
        + "), for players that cannot follow a size change inside a rendition.",
    ),
    click.option(
        "--measure-vmaf", is_flag=True, help="Score every rendition (VMAF per shot, segment) into report.json."
    ),
)


track_options = options(
    click.option("--audio-formats", default="aac", show_default=True, help=AUDIO_HELP),
    click.option(
        "--thumbnails/--no-thumbnails", default=True, show_default=True, help="Seek thumbnails: one per shot."
    ),
    click.option(
        "--thumbnail-interval",
        type=click.FloatRange(min=0.1),
        default=ThumbnailOptions.interval_s,
        show_default=True,
        help="Seconds between thumbnails inside a long shot.",
    ),
)

subtitle_option = click.option(
    "--subtitles",
    "subtitles",
    multiple=True,
    metavar="LANG=PATH",
    help="A sidecar .srt or .vtt file and its BCP 47 language (repeatable): --subtitles fr=movie.fr.srt",
)


def make_shot_options(detector: str, threshold: float | None, min_shot: float, max_segment: float) -> ShotOptions:
    shots = ShotOptions(detector, threshold, min_shot, max_segment)
    shots.check()
    return shots


def make_allocator_options(
    target_vmaf: float | None, model_file: Path | None, fixed_size: bool = False
) -> AllocatorOptions:
    return AllocatorOptions(
        target_vmaf=target_vmaf, model_file=str(model_file) if model_file else None, per_shot_sizes=not fixed_size
    )


def encode_options(params: dict):
    """``EncodeOptions`` from a command's parameters (encode and batch take the same ones)."""
    from ..pipeline import EncodeOptions

    return EncodeOptions(
        ladder=params["ladder"],
        codecs=parse_codecs(params["codecs"]),
        jobs=params["jobs"],
        shot_options=make_shot_options(
            params["detector"], params["threshold"], params["min_shot"], params["max_segment"]
        ),
        mode=params["mode"],
        allocator_options=make_allocator_options(params["target_vmaf"], params["model_file"], params["fixed_size"]),
        measure_vmaf=params["measure_vmaf"],
        work_dir=params.get("work_dir"),
        keep_work=params["keep_work"],
        force=params["force"],
        subtitles=list(params.get("subtitles") or ()),
        audio_formats=[f.strip().lower() for f in params["audio_formats"].split(",") if f.strip()],
        thumbnails=ThumbnailOptions(enabled=params["thumbnails"], interval_s=params["thumbnail_interval"]),
    )


def parse_codecs(value: str | None) -> list[str] | None:
    return [c.strip().lower() for c in value.split(",") if c.strip()] if value else None
