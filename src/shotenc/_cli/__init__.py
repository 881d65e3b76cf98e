"""The ``shotenc`` command line: thin commands over the Python API (``shotenc``'s ``__all__``).

Each family of commands is a module here; the option choices (codecs, modes, detectors) come from
the registries.
"""

from __future__ import annotations

import sys

import click


class OneLineErrors(click.Group):
    """Usage errors (bad option, missing file) as one ``shotenc: error:`` line, like every other failure."""

    def main(self, *args, **kwargs):  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Abort:
            click.echo("shotenc: interrupted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            message = " ".join(exc.format_message().split())
            click.echo(f"shotenc: error: {message}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="shotenc")
def main() -> None:
    """Per-shot video encoding: shots, complexity, per-shot rate points, ladder, DASH + HLS."""


from .batch import batch  # noqa: E402
from .delivery import play, serve, validate  # noqa: E402
from .encode import analyze, encode  # noqa: E402
from .quality import compare, train  # noqa: E402

for _command in (encode, analyze, batch, compare, train, serve, play, validate):
    main.add_command(_command)

__all__ = ["main"]
