#!/usr/bin/env bash
# Install shotenc into .venv (first run only) and encode the bundled sample to out/sample.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/shotenc encode samples/sample.mp4 -o out/sample "$@"
