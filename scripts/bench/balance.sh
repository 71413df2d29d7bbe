#!/usr/bin/env bash
# Balancing quality: load_balancer against nginx and HAProxy when backends are
# not all alike (README "Balancing quality").
#
#   scripts/bench/balance.sh [--quick] [--rounds N] [--duration SEC]
#                            [--scenarios "sanity equal gray-low gray-high pause uneven fail-fast overload"]
#
# Three backends (test/tools/pool_backend), each a pool of 8 workers with a
# 20 ms mean service time (exponential; simulated sleeps, no CPU); a request
# waits in its backend's FIFO while every worker is busy. Total capacity
# 3 x 8 / 0.020 s = 1200 req/s. Load is open-loop (test/tools/open_loop_load):
# Poisson arrivals at a fixed rate, each latency from the request's scheduled
# time, 10 s timeout. Scenarios (load in % of the capacity):
#   sanity     the bench checks itself: one backend directly at 40 req/s (p50
#              of an exponential 20 ms: 13.9 ms, mean 20 ms), and the generator
#              at 1500 req/s against a backend that answers at once (send lag)
#   equal      equal backends, 50% (600 req/s): p99
#   gray-low   b1 5x slower (100 ms) while its /health passes, 25% (300 req/s): p99
#   gray-high  the same at 75% of what is left (the two good ones: 600 req/s): p99
#   pause      b1 stops every worker for 400 ms every 3 s (a GC pause), 50%: p99.9
#   uneven     2/8/16 workers, no weights given, 70% of 1300 (910 req/s): p99
#   fail-fast  b1 answers 503 at once (health passing), 50% of the two good
#              ones (400 req/s): client errors (non-2xx and failures) and p99
#   overload   125% (1500 req/s): p50 and p99 of 2xx, 2xx served as % of the
#              capacity, p99 of the refusals (non-2xx)
# Each scenario runs every target, interleaved (order rotated each round),
# after an unrecorded warm-up, waiting for the backends' queues to empty
# between runs: 3 rounds of 20 s (--quick: 1 round of 5 s). Cells are medians
# over the rounds with the worst round beside them; the goals (each against
# the better of nginx and HAProxy in the same run) are printed met or not.
#
# Targets and their settings ("best settings": what an operator who knows the
# peer would turn on for backends like these, each peer's own mechanisms):
#   ours     build/bin/load_balancer with OURS_FLAGS (below; env LB_FLAGS
#            replaces them), health checks every 1 s.
#   nginx    nginx-light, 2 workers: least_conn with a shared zone (without
#            one each worker counts only its own connections), keepalive to
#            the backends, proxy_next_upstream error timeout http_502/503/504
#            with 2 tries (one retry, like ours and HAProxy) and max_fails=1
#            fail_timeout=10s, so a backend that fails is skipped for 10 s.
#            Open-source nginx has no active health checks and no queue
#            (max_conns without a queue would refuse every burst over the
#            limit), so it gets neither.
#   HAProxy  2 threads: balance leastconn, each server's maxconn = its workers
#            so excess requests wait in HAProxy's queue (timeout queue 2s)
#            rather than the backend's, retries 1 with retry-on 503
#            conn-failure empty-response and option redispatch (a retry goes to
#            another server), observe layer7 with on-error mark-down (a server
#            answering errors is taken out at once), httpchk GET /health every 1 s.
#
# Environment: LB_BIN (this load_balancer binary instead of building one),
# LB_FLAGS (ours' flags for every scenario), TOOLS_BIN (a folder holding built
# open_loop_load and pool_backend), BENCH_OUT_DIR (default build-bench;
# balance-results.md, balance-raw.tsv and the logs land there),
# BALANCE_TARGETS (a subset of "ours nginx haproxy", for debugging).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib/all.sh
source "$ROOT/scripts/lib/all.sh"
# shellcheck source=measure.sh
source "$ROOT/scripts/bench/measure.sh"
# shellcheck source=peers.sh
source "$ROOT/scripts/bench/peers.sh"  # nginx_common, start_server
START_SECONDS=$SECONDS

# Ours' flags, one place to change them. --max-requests auto learns each
# backend's concurrency and queues the rest in the proxy (so a request goes to
# whichever backend frees first; under overload the queue refuses at once what
# would wait long, so what is served stays fast); --hedge-after auto sends a
# request that is late past the pool's p95 to a second backend (pauses, gray
# failures); --retry-on-status 503 with --retries 1 takes a 503 elsewhere.
OURS_FLAGS=${LB_FLAGS:---algorithm least-latency --max-requests auto --hedge-after auto --retry-on-status 503 --retries 1}
declare -A OURS_SCENARIO_FLAGS=()  # extra flags for one scenario, e.g. [overload]="--queue-size 200"

QUICK=0
ROUNDS=
DURATION=
SCENARIOS="sanity equal gray-low gray-high pause uneven fail-fast overload"
TIMEOUT=10

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
die() { echo "balance.sh: $*" >&2; exit 1; }
log() { printf '[balance %s] %s\n' "$(date +%T)" "$*" >&2; }

while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS=${2:?--rounds needs a value}; shift ;;
    --duration) DURATION=${2:?--duration needs a value}; shift ;;
    --scenarios) SCENARIOS=${2:?--scenarios needs a value}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "balance.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ((QUICK)); then ROUNDS=${ROUNDS:-1}; DURATION=${DURATION:-5}; fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-20}
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $DURATION =~ ^[1-9][0-9]*$ ]] || die "--rounds and --duration take whole numbers > 0"
for s in $SCENARIOS; do
  [[ " sanity equal gray-low gray-high pause uneven fail-fast overload " == *" $s "* ]] || die "unknown scenario '$s'"
done
WARMUP=$((DURATION >= 10 ? 3 : 1))

OUT_DIR=${BENCH_OUT_DIR:-$ROOT/build-bench}
mkdir -p "$OUT_DIR"

# ---------------------------------------------------------------- clean-up ---
clean_up_on_exit 5 lb-balance  # TMP, and every process stopped on exit (scripts/lib/cleanup.sh)

# ------------------------------------------------------- tools and build ---
mapfile -t NEED < <(packages_for_missing_commands nginx=NGINX haproxy=haproxy curl=curl python3=python3)
if [[ -z ${LB_BIN:-} || -z ${TOOLS_BIN:-} ]]; then
  mapfile -t -O "${#NEED[@]}" NEED < <(missing_packages cmake g++ make pkg-config libcpp-httplib-dev \
    nlohmann-json3-dev libcli11-dev libssl-dev libhttp-parser-dev)
fi
apt_install_quietly "${NEED[@]}"
PATH=$PATH:/usr/sbin:/sbin
require_commands nginx haproxy curl python3 || exit 1

build_targets=()
[[ -n ${LB_BIN:-} ]] || build_targets+=(load_balancer)
[[ -n ${TOOLS_BIN:-} ]] || build_targets+=(open_loop_load pool_backend)
if ((${#build_targets[@]})); then
  log "building ${build_targets[*]} (Release) into build-bench/"
  (cd "$ROOT" && cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF &&
    cmake --build build-bench -j2 --target "${build_targets[@]}") >"$TMP/build.log" 2>&1 ||
    { tail -40 "$TMP/build.log" >&2; die "build failed (LB_BIN and TOOLS_BIN name built binaries)"; }
fi
LB_BIN=${LB_BIN:-$ROOT/build-bench/bin/load_balancer}
TOOLS_BIN=${TOOLS_BIN:-$ROOT/build-bench/bin}
for b in "$LB_BIN" "$TOOLS_BIN/open_loop_load" "$TOOLS_BIN/pool_backend"; do
  [[ -x $b ]] || die "$b is not an executable file"
done

# Flags this binary does not know would fail the first scenario minutes in: ask it now.
# shellcheck disable=SC2086  # OURS_FLAGS is a list of flags
if ! "$LB_BIN" --check -b http://127.0.0.1:1 $OURS_FLAGS >"$TMP/check.log" 2>&1; then
  tail -5 "$TMP/check.log" >&2
  die "$LB_BIN refuses ours' flags ($OURS_FLAGS); LB_FLAGS=\"...\" sets others"
fi

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[[ $NOFILE == unlimited ]] && NOFILE=1048576
PIN_SERVER=()  # start_server (peers.sh) runs everything unpinned here
# The generator a little ahead of everyone else on a shared machine, so its
# sends leave on time (its own error is reported: send lag).
GEN_NICE=()
if nice -n -5 true 2>/dev/null; then GEN_NICE=(nice -n -5); fi

read -r B1 B2 B3 B_INSTANT P_OURS P_NGINX P_HAPROXY < <(free_ports 7)
BACKEND_PORTS=("$B1" "$B2" "$B3")
measure_background_load
log "background load: $BACKGROUND_TEXT"
log "ours: $LB_BIN $OURS_FLAGS"

# -------------------------------------------------------------- scenarios ---
# scenario_setup NAME: WORKERS, SERVICE_MS and B1_FAULT (extra pool_backend
# flags of b1) for the three backends, RATE (req/s) and CAPACITY (req/s).
scenario_setup() {
  WORKERS=(8 8 8)
  SERVICE_MS=(20 20 20)
  B1_FAULT=()
  case $1 in
    sanity) RATE=40 ;;
    equal) RATE=600 ;;
    gray-low) SERVICE_MS=(100 20 20); RATE=300 ;;
    gray-high) SERVICE_MS=(100 20 20); RATE=600 ;;
    pause) B1_FAULT=(--pause-ms 400 --pause-every-ms 3000); RATE=600 ;;
    uneven) WORKERS=(2 8 16); RATE=910 ;;
    fail-fast) B1_FAULT=(--fail-status 503); RATE=400 ;;
    overload) RATE=1500 ;;
  esac
  CAPACITY=$(awk -v a="${WORKERS[0]}" -v b="${WORKERS[1]}" -v c="${WORKERS[2]}" 'BEGIN { print (a + b + c) / 0.020 }')
}

start_pool_backends() {
  local i
  for i in 0 1 2; do
    local extra=()
    ((i == 0)) && extra=("${B1_FAULT[@]}")
    start_server "b$((i + 1))" "$TOOLS_BIN/pool_backend" --port "${BACKEND_PORTS[$i]}" --name "b$((i + 1))" \
      --workers "${WORKERS[$i]}" --service-ms "${SERVICE_MS[$i]}" --seed $((i + 1)) "${extra[@]}"
    BACKEND_PID[i]=$LAST_PID
  done
  for i in 0 1 2; do
    wait_for_http_200 "${BACKEND_PID[$i]}" "http://127.0.0.1:${BACKEND_PORTS[$i]}/health" 10 || exit 1
  done
}

# True when no backend has a request queued or in service (the last run's
# leftovers must not slow the next target down).
backends_idle() {
  local port
  for port in "${BACKEND_PORTS[@]}"; do
    [[ $(curl -s -m 1 "http://127.0.0.1:$port/health" || true) == *'"queued":0,"busy":0'* ]] || return 1
  done
}

start_ours() {
  # shellcheck disable=SC2086  # OURS_FLAGS is a list of flags
  start_server ours "$LB_BIN" --bind 127.0.0.1 --port "$P_OURS" --max-connections $((NOFILE - 1000)) \
    --health-interval 1 -b "http://127.0.0.1:$B1" -b "http://127.0.0.1:$B2" -b "http://127.0.0.1:$B3" \
    $OURS_FLAGS ${OURS_SCENARIO_FLAGS[$SCENARIO]:-}
  PID[ours]=$LAST_PID
  PORT[ours]=$P_OURS
  wait_for_log_line "$LAST_PID" "listening on 127.0.0.1:$P_OURS" 30 || exit 1
}

start_nginx() {
  local dir=$TMP/nginx-$SCENARIO
  mkdir -p "$dir"
  {
    nginx_common "$dir" 2
    cat <<EOF
  upstream backends {
    zone backends 64k;
    least_conn;
    server 127.0.0.1:$B1 max_fails=1 fail_timeout=10s;
    server 127.0.0.1:$B2 max_fails=1 fail_timeout=10s;
    server 127.0.0.1:$B3 max_fails=1 fail_timeout=10s;
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$P_NGINX backlog=4096;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_next_upstream_tries 2;
    }
  }
}
EOF
  } >"$dir/nginx.conf"
  start_server nginx nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
  PID[nginx]=$LAST_PID
  PORT[nginx]=$P_NGINX
  wait_for_port "$LAST_PID" "$P_NGINX" 10 || exit 1
}

start_haproxy() {
  local i cfg=$TMP/haproxy-$SCENARIO.cfg
  {
    cat <<EOF
global
  nbthread 2
  maxconn $((NOFILE - 1000))
  no strict-limits

defaults
  mode http
  maxconn $((NOFILE - 1000))
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout queue 2s
  timeout http-request 10s
  timeout http-keep-alive 60s
  retries 1
  retry-on 503 conn-failure empty-response
  option redispatch 1

frontend fe
  bind 127.0.0.1:$P_HAPROXY
  default_backend be

backend be
  balance leastconn
  option httpchk GET /health
  default-server inter 1s fall 2 rise 1 observe layer7 error-limit 10 on-error mark-down
EOF
    for i in 0 1 2; do
      echo "  server b$((i + 1)) 127.0.0.1:${BACKEND_PORTS[$i]} maxconn ${WORKERS[$i]} check"
    done
  } >"$cfg"
  start_server haproxy haproxy -db -f "$cfg"
  PID[haproxy]=$LAST_PID
  PORT[haproxy]=$P_HAPROXY
  wait_for_port "$LAST_PID" "$P_HAPROXY" 10 || exit 1
}

# ------------------------------------------------------------------- runs ---
RAW=$TMP/raw.tsv
printf 'scenario\ttarget\tround\trate\tcapacity\tduration\tsent\tok\tnon2xx\terrors\ttimeouts\tp50\tp90\tp99\tp99.9\tmax\tmean\tnon2xx_p50\tnon2xx_p99\tachieved\tsend_lag_p99\tbackends\tok_in_window\n' >"$RAW"
NOTES=()

# run_load TARGET RATE SECONDS ROUND (0: warm-up, not recorded)
run_load() {
  local t=$1 rate=$2 d=$3 r=$4 out=$TMP/load.json port i
  port=${PORT[$t]}
  for ((i = 0; i < 300; i++)); do backends_idle && break; sleep 0.1; done
  ((i < 300)) || NOTES+=("$SCENARIO/$t round $r: backends still busy after 30 s; ran anyway")
  "${GEN_NICE[@]}" "$TOOLS_BIN/open_loop_load" --url "http://127.0.0.1:$port/" --rate "$rate" --duration "$d" \
    --timeout "$TIMEOUT" --seed $((r + 1)) >"$out" 2>"$TMP/load.err" || true
  if ! process_alive "${PID[$t]}"; then
    NOTES+=("**$t died** during $SCENARIO round $r: \`$(tail -3 "${PROCESS_LOG[${PID[$t]}]:-/dev/null}" | tr '\n' ' ' | cut -c1-300)\`")
    die "$t (pid ${PID[$t]}) died during $SCENARIO round $r"
  fi
  ((r > 0)) || return 0
  local f
  read -r -a f < <(parse_open_loop "$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SCENARIO" "$t" "$r" "$rate" "$CAPACITY" "$d" "$(IFS=$'\t'; echo "${f[*]}")" >>"$RAW"
  log "$(printf '%-9s %-8s round %s: sent %6s  2xx %6s  non-2xx %5s  errors %4s  p50 %7s  p99 %7s  p99.9 %7s ms  lag p99 %s ms  %s' \
    "$SCENARIO" "$t" "$r" "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}" "${f[5]}" "${f[7]}" "${f[8]}" "${f[14]}" "${f[15]}")"
  cp "$out" "$TMP/$SCENARIO-$t-r$r.json"
}

run_sanity() {
  PORT[direct]=$B1
  PID[direct]=${BACKEND_PID[0]}
  start_server instant "$TOOLS_BIN/pool_backend" --port "$B_INSTANT" --name instant --workers 100000 \
    --service-ms 0 --service-dist const
  PID[instant]=$LAST_PID
  PORT[instant]=$B_INSTANT
  wait_for_http_200 "$LAST_PID" "http://127.0.0.1:$B_INSTANT/health" 10 || exit 1
  local r
  for ((r = 1; r <= ROUNDS; r++)); do
    run_load direct 40 "$DURATION" "$r"
    run_load instant 1500 "$(((DURATION + 3) / 4))" "$r"
  done
  stop_process "${PID[instant]}" 5
}

TARGETS=(ours nginx haproxy)
if [[ -n ${BALANCE_TARGETS:-} ]]; then read -r -a TARGETS <<<"$BALANCE_TARGETS"; fi
declare -a BACKEND_PID=()

for SCENARIO in $SCENARIOS; do
  scenario_setup "$SCENARIO"
  log "scenario $SCENARIO: workers ${WORKERS[*]}, service ${SERVICE_MS[*]} ms, b1 ${B1_FAULT[*]:-as the others}, $RATE req/s"
  start_pool_backends
  if [[ $SCENARIO == sanity ]]; then
    run_sanity
  else
    for t in "${TARGETS[@]}"; do "start_$t"; done
    for t in "${TARGETS[@]}"; do run_load "$t" "$RATE" "$WARMUP" 0; done
    n=${#TARGETS[@]}
    for ((r = 1; r <= ROUNDS; r++)); do
      for ((i = 0; i < n; i++)); do run_load "${TARGETS[$(((i + r - 1) % n))]}" "$RATE" "$DURATION" "$r"; done
    done
    for t in "${TARGETS[@]}"; do
      cp "${PROCESS_LOG[${PID[$t]}]}" "$OUT_DIR/balance-$SCENARIO-$t.log" 2>/dev/null || true
      stop_process "${PID[$t]}" 5
    done
  fi
  for i in 0 1 2; do stop_process "${BACKEND_PID[$i]}" 5; done
done

# ----------------------------------------------------------------- report ---
ELAPSED=$((SECONDS - START_SECONDS))
cp "$RAW" "$OUT_DIR/balance-raw.tsv"
printf '%s\n' "${NOTES[@]}" >"$TMP/notes.txt"
python3 "$ROOT/scripts/bench/balance_report.py" "$RAW" "$TMP/notes.txt" \
  "ours: \`load_balancer $OURS_FLAGS\` ($LB_BIN)" \
  "$ROUNDS round(s) of $DURATION s, $(nproc) CPUs, nginx $(nginx -v 2>&1 | sed 's|.*/||'), HAProxy $(haproxy -v | awk 'NR == 1 { print $3 }'); before start: $BACKGROUND_TEXT; took $ELAPSED s" \
  >"$OUT_DIR/balance-results.md"
cat "$OUT_DIR/balance-results.md"
log "results in $OUT_DIR/balance-results.md, raw numbers in balance-raw.tsv (took $ELAPSED s)"
