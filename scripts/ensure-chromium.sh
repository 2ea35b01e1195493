#!/bin/sh
# Makes sure the system packages the end-to-end tests need are installed:
#   chromium            Debian's Chromium at /usr/bin/chromium, which playwright.config.ts
#                       launches (we never download Playwright's own browser builds)
#   python3-websockets  the Python peer for the interop tests
#   openssl             certificates for the wss:// tests, made at test time
#   redis-server        the Redis the @wsflow/redis and scale-out tests start (one each,
#                       on a free port: tools/redis_server.ts); never run as a service here
# Idempotent: when all are present it changes nothing and needs no network.
# Non-interactive; uses sudo only when not already root. Debian/Ubuntu (apt) only.
set -eu

# "install ok installed" is dpkg's status for a fully installed package.
installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

need=""
if [ ! -x /usr/bin/chromium ]; then need="$need chromium"; fi
if ! installed python3-websockets; then need="$need python3-websockets"; fi
# openssl makes the self-signed certificates of the wss:// tests.
if ! command -v openssl >/dev/null 2>&1; then need="$need openssl"; fi
# redis-server: the backplane tests start their own on a free port.
if ! command -v redis-server >/dev/null 2>&1; then need="$need redis-server"; fi

if [ -z "$need" ]; then
  echo "ensure-chromium: chromium, python3-websockets, openssl and redis-server are already installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "ensure-chromium: installing$need"
# `env` so that DEBIAN_FRONTEND survives sudo's environment reset.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update
# shellcheck disable=SC2086 # $need is a word list on purpose
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need

test -x /usr/bin/chromium || { echo "ensure-chromium: /usr/bin/chromium is still missing" >&2; exit 1; }
command -v redis-server >/dev/null 2>&1 || { echo "ensure-chromium: redis-server is still missing" >&2; exit 1; }
echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium installed)"
