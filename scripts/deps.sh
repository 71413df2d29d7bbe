#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs, only those missing.
# Runs as root (CI) or through sudo; does nothing when all are present.
# Usage: scripts/deps.sh [--test]
set -euo pipefail
# shellcheck source=lib/packages.sh
source "$(dirname "$0")/lib/packages.sh"

PACKAGES=(
  build-essential cmake pkg-config
  libcpp-httplib-dev nlohmann-json3-dev libcli11-dev catch2
  libssl-dev libhttp-parser-dev libhiredis-dev libnghttp2-dev libcrypt-dev
  libzstd-dev libbrotli-dev zlib1g-dev
  libc-ares-dev
  curl openssl
)
# `deps.sh --test` adds what only the tests need: Chromium for the dashboard
# test, clang and its libFuzzer runtime for scripts/fuzz.sh, redis-server for
# the shared rate limit, nghttp2-client (nghttp, h2load) for HTTP/2, nginx-light
# as an HTTPS backend that requires a client certificate, apache2-utils
# (htpasswd -B) for the basic auth tests' bcrypt users, zstd and brotli to
# decode what curl --compressed cannot check alone, systemd for
# systemd-socket-activate (socket activation, without running systemd).
if [[ "${1:-}" == --test ]]; then
  PACKAGES+=(chromium clang libclang-rt-14-dev redis-server nghttp2-client pebble nginx-light apache2-utils zstd brotli
             systemd)
  PACKAGES+=(dnsmasq-base)  # a DNS server with SRV records for the discovery tests
  PACKAGES+=(etcd-server)  # a real etcd for the --config-etcd tests (etcd_config_test.cpp)
fi

mapfile -t missing < <(missing_packages "${PACKAGES[@]}")

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "deps: all packages present"
  exit 0
fi

if ! choose_sudo; then
  echo "deps: missing packages (${missing[*]}) and not root, no sudo: install them first" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
