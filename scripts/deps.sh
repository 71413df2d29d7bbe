#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs, only those missing.
# Runs as root (CI) or through sudo; does nothing when all are present.
# Usage: scripts/deps.sh [--test]
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libcpp-httplib-dev nlohmann-json3-dev libcli11-dev catch2
  libssl-dev libhttp-parser-dev libhiredis-dev libnghttp2-dev
  curl openssl
)
# `deps.sh --test` adds what only the tests need: Chromium for the dashboard
# test, clang and its libFuzzer runtime for scripts/fuzz.sh, redis-server for
# the shared rate limit, nghttp2-client (nghttp, h2load) for HTTP/2.
if [[ "${1:-}" == --test ]]; then
  PACKAGES+=(chromium clang libclang-rt-14-dev redis-server nghttp2-client)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "deps: all packages present"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "deps: missing packages (${missing[*]}) and not root, no sudo: install them first" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
