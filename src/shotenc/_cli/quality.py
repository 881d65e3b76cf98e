"""``shotenc compare`` and ``shotenc train``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .. import allocators
from .. import codecs as codec_registry
from ..errors import ShotencError
from ..jobs.batch import VIDEO_SUFFIXES
from .support import CODECS_HELP, parse_codecs, user_errors


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: out/<source name>-compare).",
)
@click.option(
    "--ladder",
    default="default",
    show_default=True,
    help="Ladder name or .toml path; 'auto' picks each rung's size from the hulls.",
)
@click.option("--codecs", default=None, help=CODECS_HELP)
@click.option(
    "--mode",
    type=click.Choice(allocators.names()),
    default=allocators.DEFAULT,
    show_default=True,
    help="Per-shot optimizer to compare with the traditional ladder (default: what encode uses).",
)
@click.option(
    "--target-vmaf",
    type=click.FloatRange(1, 100),
    default=None,
    help="Quality target instead of each rung's bitrate (hull, model, target-quality).",
)
@click.option(
    "--scales",
    default="0.5,0.75,1,1.5",
    show_default=True,
    help="Multiples of every rung's bitrate (>= 4 give BD-rate enough points).",
)
@click.option(
    "--n-subsample",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Score every n-th frame of the compared renditions (over 1 is faster but unfair: it samples "
    "different frame types in per-shot and whole-title encodes).",
)
@click.option("--fixed-size", is_flag=True, help="Per shot: every shot of a rung at the rung's size.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Parallel encodes (default: cores).")
@click.option("--keep-work", is_flag=True, help="Keep the per-shot chunks and probe results.")
@click.option("--force", is_flag=True, help="Publish into an output folder holding other files (they are kept).")
@click.option("--json", "as_json", is_flag=True, help="Print the report JSON instead of a summary.")
def compare(
    source: Path,
    output: Path | None,
    ladder: str,
    codecs: str | None,
    mode: str,
    target_vmaf: float | None,
    scales: str,
    n_subsample: int,
    fixed_size: bool,
    jobs: int | None,
    keep_work: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Encode SOURCE's ladder the traditional way and per shot; report rates, VMAF and BD-rate."""

    @user_errors
    def run() -> None:
        from ..quality.compare import CompareOptions
        from ..quality.compare import compare as run_compare

        opts = CompareOptions(
            ladder=ladder,
            codecs=parse_codecs(codecs),
            scales=parse_scales(scales),
            mode=mode,
            target_vmaf=target_vmaf,
            jobs=jobs,
            n_subsample=n_subsample,
            per_shot_sizes=not fixed_size,
            keep_work=keep_work,
            force=force,
        )
        out = output or Path("out") / f"{source.stem}-compare"
        log = (lambda m: None) if as_json else (lambda m: click.echo(m, err=True))
        report = run_compare(source, out, opts, log=log)
        click.echo(json.dumps(report, indent=1) if as_json else summary(report, out))

    run()


def parse_scales(text: str) -> tuple[float, ...]:
    try:
        scales = tuple(float(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise ShotencError(f"--scales: not a list of numbers: {text!r}") from None
    if not scales or any(s <= 0 for s in scales):
        raise ShotencError("--scales needs positive numbers")
    return scales


def summary(report: dict, out: Path) -> str:
    """BD-rates, worst shots and probe cost, a few lines for a person."""
    from ..quality.compare import worst_shot_summary

    lines = []
    for codec, res in report["bd_rate"].items():
        cells = []
        for anchor, row in res.items():
            for metric, e in row.items():
                text = "n/a" if e["value"] is None else f"{e['value']:+.1f}%"
                cells.append(
                    f"{metric} {anchor.replace('vs_', 'vs ')}: {text}" + (f" ({e['note']})" if e.get("note") else "")
                )
        lines.append(f"{codec} BD-rate  " + "  ".join(cells))
    for codec, w in worst_shot_summary(report).items():
        lines.append(f"{codec} worst-shot VMAF at x1: " + ", ".join(f"{m} {v:.1f}" for m, v in w.items()))
    c = report["cost"]
    if c.get("probe_to_final_ratio") is not None:
        lines.append(f"probe cost {c['probe_cpu_s']:.1f} s = {c['probe_to_final_ratio']:.2f}x the final encodes")
    lines.append(f"report: {out / 'compare.html'}  data: {out / 'compare.json'}")
    return "\n".join(lines)


@click.command()
@click.argument("clips", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("model.json"),
    show_default=True,
    help="Where to write the fitted model (plain JSON).",
)
@click.option("--codecs", default=",".join(codec_registry.names()), show_default=True, help="Codecs to fit.")
@click.option("--cache", type=click.Path(path_type=Path), default=None, help="Probe cache folder.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Parallel probes (default: cores).")
def train(clips: Path, output: Path, codecs: str, cache: Path | None, jobs: int | None) -> None:
    """Fit the complexity -> rate/quality model on the videos in CLIPS (a folder or one file)."""

    @user_errors
    def run() -> None:
        from ..allocators.planner import default_cache_dir
        from ..allocators.rate_quality import fit, training_rows

        if not clips.exists():
            raise ShotencError(f"{clips}: no such file or folder")
        files = sorted(p for p in clips.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES) if clips.is_dir() else [clips]
        if not files:
            raise ShotencError(f"{clips}: no video files ({', '.join(sorted(VIDEO_SUFFIXES))})")
        wanted = parse_codecs(codecs) or list(codec_registry.names())
        bad = sorted(set(wanted) - set(codec_registry.names()))
        if bad:
            raise ShotencError(f"unknown codec(s) {', '.join(bad)}")
        rows = training_rows(
            files,
            wanted,
            cache or default_cache_dir(),
            jobs=jobs or 0,
            on_clip=lambda c: click.echo(f"probing {c}", err=True),
        )
        model = fit(rows, source=f"shotenc train {clips}: " + ", ".join(f.name for f in files))
        model.save(output)
        for codec, f in model.fits.items():
            click.echo(f"{codec}: {f['points']} points, held-out-shot R2 {f['cv_r2']}")
        click.echo(f"wrote {output}")

    run()
