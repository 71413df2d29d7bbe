#!/usr/bin/env bash
# Builds and runs every test (ctest): a Release pass in build/, then
# AddressSanitizer+UBSan in build-asan/ and ThreadSanitizer in build-tsan/,
# then a minute of fuzzing when clang is present: scripts/fuzz.sh runs the
# request and the response fuzzer 30 s each. LB_SKIP_SANITIZERS=1 runs only
# the Release pass; LB_FUZZ_SECONDS=N fuzzes each target for N seconds (0:
# not at all). Exits non-zero if any build, test, sanitizer
# report or fuzz finding fails. A test that fails and then passes when run again
# alone is named as FLAKY in the summary and does not fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --test

failed=()
flaky=()

header() {
  echo
  echo "=================================================================="
  echo "== $1"
  echo "=================================================================="
}

# Sanitizer reports go to files under $1 rather than to stderr, so a report
# from a child process (backend_server, load_balancer) that a test killed or
# never checked still fails the pass.
sanitizer_logs_clean() {
  local dir=$1
  if compgen -G "$dir/*" >/dev/null; then
    echo "Sanitizer reports:" >&2
    for f in "$dir"/*; do
      echo "---- $f" >&2
      cat "$f" >&2
    done
    return 1
  fi
}

# run_pass NAME BUILD_DIR [cmake args...]
run_pass() {
  local name=$1 dir=$2
  shift 2
  header "$name: build in $dir"
  if ! scripts/build.sh "$dir" "$@"; then
    failed+=("$name (build)")
    return
  fi
  header "$name: ctest in $dir"
  if (cd "$dir" && ctest --output-on-failure -j2); then
    return
  fi
  # A test that fails, then passes alone, is named as flaky in the summary
  # (CI shows only the end of the log); one that fails again fails the pass.
  local first_failures
  first_failures=$(failed_test_names "$dir")
  header "$name: ctest again, the failed tests alone"
  if (cd "$dir" && ctest --output-on-failure --rerun-failed); then
    flaky+=("$name: $first_failures")
  else
    failed+=("$name (tests): $(failed_test_names "$dir")")
  fi
}

# The names ctest recorded as failed in its last run in $1, comma-separated.
failed_test_names() {
  cut -d: -f2- "$1/Testing/Temporary/LastTestsFailed.log" 2>/dev/null | paste -sd, - | sed 's/,/, /g'
}

run_pass "Release" build

if [[ "${LB_SKIP_SANITIZERS:-0}" == 1 ]]; then
  echo
  echo "LB_SKIP_SANITIZERS=1: skipping the sanitizer passes"
else
  # -O1 with line tables only: what the sanitizers recommend, and it compiles in
  # less than half the time of -O2 -g (CI's budget is three builds in 25 minutes).
  sanitizer_build=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")
  logs="$PWD/build-asan/sanitizer-logs"
  rm -rf "$logs" && mkdir -p "$logs"
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:print_stacktrace=1:log_path=$logs/asan"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
  run_pass "AddressSanitizer+UBSan" build-asan -DLB_SANITIZE=address "${sanitizer_build[@]}"
  sanitizer_logs_clean "$logs" || failed+=("AddressSanitizer+UBSan (reports)")
  unset ASAN_OPTIONS UBSAN_OPTIONS

  logs="$PWD/build-tsan/sanitizer-logs"
  rm -rf "$logs" && mkdir -p "$logs"
  # test/tsan.supp explains its one suppression (inside the uninstrumented libcpp-httplib).
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/test/tsan.supp:log_path=$logs/tsan"
  run_pass "ThreadSanitizer" build-tsan -DLB_SANITIZE=thread "${sanitizer_build[@]}"
  sanitizer_logs_clean "$logs" || failed+=("ThreadSanitizer (reports)")
  unset TSAN_OPTIONS
fi

fuzz_seconds=${LB_FUZZ_SECONDS:-30}  # per target: two targets, a minute in all
if [[ "$fuzz_seconds" == 0 ]]; then
  echo
  echo "LB_FUZZ_SECONDS=0: skipping the fuzz pass"
elif command -v clang++ >/dev/null 2>&1; then
  header "Fuzz: requests and responses: parser, message rules, heads ($fuzz_seconds s each)"
  scripts/fuzz.sh "$fuzz_seconds" || failed+=("Fuzz")
else
  echo
  echo "clang++ not found: skipping the fuzz pass (scripts/deps.sh --test installs it)"
fi

header "Summary"
if [[ ${#flaky[@]} -gt 0 ]]; then
  printf 'FLAKY (failed, then passed when run again alone): %s\n' "${flaky[@]}"
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "All passes succeeded."
