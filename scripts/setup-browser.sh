#!/usr/bin/env bash
# Installs what the browser playback tests need: Debian's Chromium and ChromeDriver (when root and
# missing), the Python Selenium client, and dash.js + hls.js from npm into a git-ignored folder.
# Safe to run again: it skips what is already there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$here/src/shotenc/delivery/web"

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "setup-browser: chromium/chromedriver missing and not root; install packages chromium chromium-driver" >&2
  fi
fi

if [ ! -f "$web/node_modules/dashjs/dist/dash.all.min.js" ] || [ ! -f "$web/node_modules/hls.js/dist/hls.min.js" ]; then
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup-browser: chromium $(chromium --version 2>/dev/null | awk '{print $2}'), dash.js and hls.js in $web/node_modules"
