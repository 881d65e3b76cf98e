"""The ``shotenc`` command line: thin commands over the Python API."""

from .main import main

__all__ = ["main"]
