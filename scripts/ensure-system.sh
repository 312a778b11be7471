#!/usr/bin/env bash
# System packages facegate needs beyond Python: a CJK font for PDF reports (Chinese text)
# and HarfBuzz's subsetter (makes PDF rendering ~6x faster); Chromium for the web pages' tests. Installs only what is missing.
set -euo pipefail
need=()
# chromium: the browser tests; golang-go + golang-golang-x-mod-dev: the ledger's Go interop test;
# softhsm2: the PKCS#11 master-key tests (tests/integration/test_hsm.py)
for pkg in fonts-noto-cjk libharfbuzz-subset0 chromium golang-go golang-golang-x-mod-dev softhsm2; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "missing system packages: ${need[*]} (install them as root); PDF reports need them" >&2
  exit 0
fi
SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
echo "installing system packages: ${need[*]}" >&2
$SUDO apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
