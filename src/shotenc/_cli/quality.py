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
    default="hull",
    show_default=True,
    help="Per-shot optimizer to compare with the traditional ladder.",
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
    help="Score every n-th frame of the compared renditions.",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Parallel encodes (default: cores).")
@click.option("--keep-work", is_flag=True, help="Keep the per-shot chunks and probe results.")
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
    jobs: int | None,
    keep_work: bool,
    as_json: bool,
) -> None:
    """Encode SOURCE's ladder the traditional way and per shot; report rates, VMAF and BD-rate."""

    @user_errors
    def run() -> None:
        from ..quality.compare import CompareOptions, worst_shot_summary
        from ..quality.compare import compare as run_compare

        try:
            scale_list = tuple(float(s) for s in scales.split(",") if s.strip())
        except ValueError:
            raise ShotencError(f"--scales: not a list of numbers: {scales!r}") from None
        if not scale_list or any(s <= 0 for s in scale_list):
            raise ShotencError("--scales needs positive numbers")
        auto = ladder == "auto"
        opts = CompareOptions(
            ladder="default" if auto else ladder,
            codecs=parse_codecs(codecs),
            scales=scale_list,
            mode=mode,
            target_vmaf=target_vmaf,
            auto_ladder=auto,
            jobs=jobs,
            n_subsample=n_subsample,
            keep_work=keep_work,
        )
        out = output or Path("out") / f"{source.stem}-compare"
        log = (lambda m: None) if as_json else (lambda m: click.echo(m, err=True))
        report = run_compare(source, out, opts, log=log)
        if as_json:
            click.echo(json.dumps(report, indent=1))
            return
        for codec, res in report["bd_rate"].items():
            cells = []
            for anchor, row in res.items():
                for metric, e in row.items():
                    v = e["value"]
                    text = "n/a" if v is None else f"{v:+.1f}%"
                    if e.get("note"):
                        text += f" ({e['note']})"
                    cells.append(f"{metric} {anchor.replace('vs_', 'vs ')}: {text}")
            click.echo(f"{codec} BD-rate  " + "  ".join(cells))
        for codec, w in worst_shot_summary(report).items():
            click.echo(f"{codec} worst-shot VMAF at x1: " + ", ".join(f"{m} {v:.1f}" for m, v in w.items()))
        c = report["cost"]
        if c.get("probe_to_final_ratio") is not None:
            click.echo(f"probe cost {c['probe_cpu_s']:.1f} s = {c['probe_to_final_ratio']:.2f}x the final encodes")
        click.echo(f"report: {out / 'compare.html'}  data: {out / 'compare.json'}")

    run()


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
