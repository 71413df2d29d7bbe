#!/usr/bin/env bash
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# Configures (Release unless CMAKE_BUILD_TYPE is given) and builds with all cores.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir="${1:-build}"
shift || true

build_type=(-DCMAKE_BUILD_TYPE=Release)
for arg in "$@"; do
  if [[ "$arg" == -DCMAKE_BUILD_TYPE=* ]]; then
    build_type=()
  fi
done

cmake -S . -B "$build_dir" "${build_type[@]}" "$@"
cmake --build "$build_dir" -j"$(nproc)"
