#!/usr/bin/env bash
# Sets up a Debian machine for Mitobench and runs every test: type checks, lint, unit and
# integration tests, the production build and the Playwright end-to-end tests in browser mode.
# Needs Node.js 20.19+ and npm; installs the system packages it needs through apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# chromium: the browser the end-to-end tests drive (Playwright downloads none);
# libopenslide0: the OpenSlide reader; fonts-noto-cjk: Japanese text in screenshots.
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  chromium libopenslide0 fonts-noto-cjk >/dev/null

# Electron's binary is fetched on first `npm start`, never by the tests.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
npm ci --no-audit --no-fund
npm test
