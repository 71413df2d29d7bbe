#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [SECONDS]   (default 60)
# Builds the libFuzzer target test/fuzz/request_fuzzer.cpp in build-fuzz/ with
# clang (-fsanitize=fuzzer,address,undefined) and fuzzes the request parser,
# message rules and upstream head builder for SECONDS, starting from the seed
# corpus in test/fuzz/corpus/. New inputs it finds stay in build-fuzz/corpus/;
# a crash or broken invariant leaves its input in build-fuzz/crashes/ and
# makes the script fail. Needs Debian's clang and libclang-rt-14-dev.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi

cmake -S . -B build-fuzz -DLB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target request_fuzzer

mkdir -p build-fuzz/corpus/request build-fuzz/crashes
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# The first corpus folder receives new inputs; the seeds stay as committed.
build-fuzz/bin/request_fuzzer -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
  -dict=test/fuzz/http.dict -artifact_prefix=build-fuzz/crashes/ \
  build-fuzz/corpus/request test/fuzz/corpus/request
