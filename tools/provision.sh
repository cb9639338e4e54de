#!/usr/bin/env bash
# Installs what ./run.sh and ./test.sh need on a fresh Debian machine (as root, with apt-get), and nothing twice.
# Usage: tools/provision.sh [run|test|bench]
set -euo pipefail
MODE="${1:-run}"

log() { echo "[provision] $*" >&2; }

APT_UPDATED=""
apt_install() {
  # $@: Debian packages; only those missing are installed.
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then log "missing packages: ${missing[*]} (run as root or install them)"; exit 1; fi
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if ! command -v dotnet >/dev/null 2>&1; then
  log "the .NET 10 SDK is required (dotnet not found on PATH)"; exit 1
fi

apt_install postgresql-15 tzdata

if [ "$MODE" = "bench" ]; then
  # ./bench.sh: wrk drives the app over HTTP; pgbench comes with postgresql-15 (same binaries as the cluster).
  apt_install wrk
  # ./bench.sh digest and mail: postfix's smtp-sink receives, smtp-source is the reference sender (MTA not started).
  apt_install postfix
fi

if [ "$MODE" = "test" ]; then
  # docker-compose 1.29 validates docker-compose.yml without an engine (--no-install-recommends: no engine pulled in).
  apt_install docker-compose
  # Browser tests: Debian's Chromium driven by Playwright (never a downloaded browser), fonts for stable rendering.
  apt_install chromium fonts-dejavu-core
  # Smoke test of the benchmark's wrk script (tests/Opportunites.Tests/Bench).
  apt_install wrk
  # axe-core, pinned by tools/axe/package-lock.json, installed into var/axe (the tests read axe.min.js from there).
  command -v npm >/dev/null 2>&1 || apt_install npm
  ROOT="$(cd "$(dirname "$0")/.." && pwd)"
  AXE_DIR="$ROOT/var/axe"
  if [ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ] \
    || ! cmp -s "$ROOT/tools/axe/package-lock.json" "$AXE_DIR/package-lock.json"; then
    log "installing axe-core into var/axe"
    mkdir -p "$AXE_DIR"
    cp "$ROOT/tools/axe/package.json" "$ROOT/tools/axe/package-lock.json" "$ROOT/tools/axe/.npmrc" "$AXE_DIR/"
    (cd "$AXE_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  # Real SMTP servers for the mail tests and the mail benchmark: aiosmtpd (run with /usr/bin/python3) and postfix's
  # smtp-sink/smtp-source (the postfix MTA itself is not started); openssl makes the STARTTLS test certificate.
  apt_install python3-aiosmtpd postfix openssl
  # An independent DKIM verifier for the signed-mail test (Debian's dkimpy, run with /usr/bin/python3).
  apt_install python3-dkim
  # Load on the board while the fault tests restart PostgreSQL (tests/Opportunites.Tests/Faults).
  apt_install wrk
fi
