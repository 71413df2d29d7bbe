#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [SECONDS]   (default 60)
# Builds the libFuzzer targets in test/fuzz/ in build-fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined) and runs each for SECONDS, one after
# the other (so the whole run takes twice SECONDS):
#   request_fuzzer   client bytes: request parser, message rules, upstream head builder
#   response_fuzzer  backend bytes: response parser, response rules, 1xx, client head builder
# Each starts from its seed corpus in test/fuzz/corpus/<request|response>/.
# New inputs it finds stay in build-fuzz/corpus/<name>/; a crash or broken
# invariant leaves its input in build-fuzz/crashes/<name>-... and makes the
# script fail. Needs Debian's clang and libclang-rt-14-dev.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi

cmake -S . -B build-fuzz -DLB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target request_fuzzer response_fuzzer

mkdir -p build-fuzz/crashes
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
for side in request response; do
  echo "fuzz: ${side}_fuzzer for ${seconds} s"
  mkdir -p "build-fuzz/corpus/$side"
  # The first corpus folder receives new inputs; the seeds stay as committed.
  "build-fuzz/bin/${side}_fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
    -dict=test/fuzz/http.dict -artifact_prefix="build-fuzz/crashes/${side}-" \
    "build-fuzz/corpus/$side" "test/fuzz/corpus/$side"
done
