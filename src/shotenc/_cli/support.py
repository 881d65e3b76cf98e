"""What every ``shotenc`` command shares: failures reach the user as one line, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import click

from .. import codecs
from ..errors import ShotencError


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


CODECS_HELP = f"Comma-separated subset: {','.join(codecs.names())}."
