"""Record Sabre's own per-trace figures for the reference-rule tests (figures.json).

Runs Sabre itself (``shared/sabre/sabre.py``, unmodified, commit 09b03bb) on the trace subset in
``tests/data/traces`` with each rule, 25 s buffer, and keeps what it prints. Re-run after
changing the pinned traces: ``PYTHONPATH=src python tests/data/sabre/record.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from sabre_runner import ALGORITHMS, run_sabre  # noqa: E402

TRACES = HERE.parent / "traces"
PINNED = {  # trace file → movie file (bbb.json for 3G and FCC, bbb4k.json for 4G, as in Sabre's paper)
    "sabre_3g_report.2010-09-13_1003CEST.json": "bbb.json",
    "sabre_3g_report.2011-01-29_1125CET.json": "bbb.json",
    "sabre_hd_fs_trace0000.json": "bbb.json",
    "sabre_4g_report_bicycle_0001.json": "bbb4k.json",
}


def main() -> None:
    figures = {
        "sabre": "shared/sabre/sabre.py (UMass-LIDS/sabre commit 09b03bb, unmodified)",
        "buffer_s": 25,
        "sessions": [],
    }
    for trace, movie in PINNED.items():
        for rule in ALGORITHMS:
            got = run_sabre(TRACES / trace, TRACES / movie, rule, 25.0)
            figures["sessions"].append({"trace": trace, "movie": movie, "rule": rule, **got})
    out = HERE / "figures.json"
    out.write_text(json.dumps(figures, indent=1) + "\n")
    print(f"{len(figures['sessions'])} sessions → {out}")


if __name__ == "__main__":
    main()
