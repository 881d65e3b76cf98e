"""shotenc: per-shot video encoding (shots, complexity, per-shot rate points, ladder, DASH + HLS).

The public API::

    from shotenc import EncodeOptions, encode_title
    result = encode_title("movie.mp4", "out/movie", EncodeOptions(codecs=["h264", "av1"]))

Names are imported on first use, so ``import shotenc`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "encode_title": "shotenc.pipeline",
    "analyze_title": "shotenc.pipeline",
    "EncodeOptions": "shotenc.pipeline",
    "TitleResult": "shotenc.pipeline",
    "run_batch": "shotenc.jobs.batch",
    "BatchResult": "shotenc.jobs.batch",
    "Runner": "shotenc.jobs.executors",
    "compare": "shotenc.quality.compare",
    "CompareOptions": "shotenc.quality.compare",
    "ShotOptions": "shotenc.analysis.shots",
    "ThumbnailOptions": "shotenc.package.thumbnails",
    "AllocatorOptions": "shotenc.allocators.base",
    "Reporter": "shotenc.progress",
    "ShotencError": "shotenc.errors",
    "InputError": "shotenc.errors",
    "FFmpegError": "shotenc.errors",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'shotenc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
