#!/usr/bin/env bash
# Install shotenc with its test extras into .venv (first run only) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
.venv/bin/ruff check src tests benchmarks samples scripts
bash scripts/setup-browser.sh   # Chromium + ChromeDriver (Debian) and dash.js/hls.js (npm) for the browser tests
exec .venv/bin/python -m pytest -q "$@"
