#!/usr/bin/env bash
# Benchmark load_balancer against nginx, HAProxy and the thread- and
# goroutine-based proxies (Apache httpd, Varnish, Caddy) on loopback.
#
#   scripts/bench.sh [--quick] [--pin] [--duration SEC] [--runs N] [--conns "64 256 1000"]
#                    [--idle-conns N] [--big-mb N] [--no-extras]
#
# Installs wrk, ab, nginx-light, haproxy, apache2, varnish and caddy with
# apt-get when missing, builds the project in Release into build-bench/ (unless
# LB_BIN names a load_balancer binary), starts one nginx process with three
# identical fast backends, and puts every target in front of them with
# keep-alive to the backends: the first backend directly (the ceiling), our
# load_balancer, nginx (2 workers), HAProxy (2 threads), Apache httpd (event
# MPM + mod_proxy_balancer), Varnish (return (pass), round-robin director) and
# Caddy (reverse_proxy, round_robin). Each row below runs every target,
# interleaved (target order rotated each round), 3 rounds of 10 s (--quick:
# 1 round of 4 s), and reports medians, the worst round, ratios to nginx and to
# Apache:
#   1. keep-alive: wrk -t2 -cN --latency, N in --conns (64, 256 and 1000);
#   2. a new connection per request: ab -c 32 (connections/s, proxy CPU per
#      connection);
#   3. TLS (ECDSA P-256) on load_balancer, nginx and HAProxy: wrk keep-alive at
#      64 connections, ab -c 32 with a full handshake per request (proxy CPU per
#      handshake), and a burst of 4,000 new TLS connections at once, one request
#      each (h2load --h1 -c 4000 -n 4000: proxy CPU per handshake);
#   4. extras for direct, load_balancer, nginx and HAProxy: a 100 MB download
#      and upload (time, peak RSS growth), 10,000 idle keep-alive connections
#      held while new requests are timed (latency, RSS).
# CPU is utime+stime of the proxy's whole process tree (nginx's and Apache's
# workers, Varnish's child) over the run. Prints markdown tables, the
# performance goals (the README's Performance section) as met or not, and writes
# them to build-bench/bench-results.md (raw numbers in bench-raw.tsv, the
# load_balancer's log in bench-load_balancer.log). Everything it starts is
# stopped on exit, by PID and process group.
#
# Environment: LB_BIN (benchmark this load_balancer binary instead of building),
# LB_FLAGS (more load_balancer flags, e.g. "--upstream-keepalive 128"),
# BENCH_OUT_DIR (default build-bench), BENCH_TARGETS (a subset of "direct
# load_balancer nginx haproxy apache varnish caddy") and BENCH_ROWS (a subset of
# "ka:64 ka:256 ka:1000 new:32 tls-ka:64 tls-new:32 tls-burst:4000 h2:64"), for
# debugging this script.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPERS=$ROOT/scripts/bench
# shellcheck source=lib/all.sh
source "$ROOT/scripts/lib/all.sh"
# shellcheck source=bench/measure.sh
source "$HELPERS/measure.sh"
# shellcheck source=bench/peers.sh
source "$HELPERS/peers.sh"
# shellcheck source=bench/extras.sh
source "$HELPERS/extras.sh"
# shellcheck source=bench/report.sh
source "$HELPERS/report.sh"
START_SECONDS=$SECONDS

QUICK=0
PIN=0
DURATION=
RUNS=
CONNS="64 256 1000"
IDLE_CONNS=10000
BIG_MB=100
EXTRAS=1
TRANSFER_REPS=3

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
die() { echo "bench.sh: $*" >&2; exit 1; }
log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --pin) PIN=1 ;;
    --duration) DURATION=${2:?--duration needs a value}; shift ;;
    --runs) RUNS=${2:?--runs needs a value}; shift ;;
    --conns) CONNS=${2:?--conns needs a value}; shift ;;
    --idle-conns) IDLE_CONNS=${2:?--idle-conns needs a value}; shift ;;
    --big-mb) BIG_MB=${2:?--big-mb needs a value}; shift ;;
    --no-extras) EXTRAS=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ((QUICK)); then
  DURATION=${DURATION:-4}
  RUNS=${RUNS:-1}
else
  DURATION=${DURATION:-10}
  RUNS=${RUNS:-3}
fi
[[ $DURATION =~ ^[0-9]+$ && $RUNS =~ ^[0-9]+$ && $IDLE_CONNS =~ ^[0-9]+$ && $BIG_MB =~ ^[0-9]+$ ]] ||
  die "--duration, --runs, --idle-conns and --big-mb take whole numbers"

OUT_DIR=${BENCH_OUT_DIR:-$ROOT/build-bench}
mkdir -p "$OUT_DIR"
RESULTS=$OUT_DIR/bench-results.md

# ---------------------------------------------------------------- clean-up ---
clean_up_on_exit 15 lb-bench  # TMP, and every process stopped on exit (scripts/lib/cleanup.sh)
chmod 755 "$TMP"  # Apache's and Varnish's workers drop root and read their config here

# ------------------------------------------------------------ dependencies ---
mapfile -t NEED < <(packages_for_missing_commands wrk=wrk ab=apache2-utils h2load=nghttp2-client nginx=NGINX \
  haproxy=haproxy apache2=apache2 varnishd=varnish caddy=caddy openssl=openssl curl=curl python3=python3 \
  taskset=util-linux getconf=libc-bin)
if [[ -z ${LB_BIN:-} ]]; then
  mapfile -t -O "${#NEED[@]}" NEED < <(missing_packages cmake g++ make pkg-config libcpp-httplib-dev \
    nlohmann-json3-dev libcli11-dev libssl-dev libhttp-parser-dev)
fi
apt_install_quietly "${NEED[@]}"

# nginx, haproxy, apache2 and varnishd live in /usr/sbin, which a non-login root shell may lack.
PATH=$PATH:/usr/sbin:/sbin
require_commands wrk ab nginx haproxy apache2 varnishd caddy openssl curl python3 taskset getconf || exit 1

# ------------------------------------------------------------------ build ---
if [[ -n ${LB_BIN:-} ]]; then
  [[ -x $LB_BIN ]] || die "LB_BIN=$LB_BIN is not an executable file"
  LB_BIN=$(cd "$(dirname "$LB_BIN")" && pwd)/$(basename "$LB_BIN")
  LB_SOURCE="LB_BIN=$LB_BIN"
else
  log "building Release into build-bench/"
  (cd "$ROOT" && cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF &&
    cmake --build build-bench -j2) >"$TMP/build.log" 2>&1 ||
    { tail -40 "$TMP/build.log" >&2; die "build failed (a tree mid-edit? LB_BIN=path/to/load_balancer benchmarks a given binary)"; }
  LB_BIN=$ROOT/build-bench/bin/load_balancer
  LB_SOURCE="built from $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
  if [[ -n $(git -C "$ROOT" status --porcelain -- lb common backend CMakeLists.txt 2>/dev/null) ]]; then
    LB_SOURCE+=" + uncommitted changes"
  fi
fi
# ------------------------------------------------------------ environment ---
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
if [[ $NOFILE == unlimited ]]; then NOFILE=1048576; fi
if ((EXTRAS && IDLE_CONNS + 500 > NOFILE)); then
  log "open-file limit is $NOFILE: idle-connection test lowered from $IDLE_CONNS to $((NOFILE - 500))"
  IDLE_CONNS=$((NOFILE - 500))
fi
CLK_TCK=$(getconf CLK_TCK)
NPROC=$(nproc)
PIN_CLIENT=()
PIN_SERVER=()
if ((PIN)); then
  if ((NPROC >= 2)); then
    PIN_CLIENT=(taskset -c 0)
    PIN_SERVER=(taskset -c 1)
    PIN_TEXT="pinned: wrk, ab, curl and the idle-connection client on CPU 0; proxies and backend nginx on CPU 1"
  else
    PIN_TEXT="not pinned (--pin asked, but only $NPROC CPU)"
  fi
else
  PIN_TEXT="not pinned: load generators, proxies and backends share all $NPROC CPUs"
fi

read -r B1 B2 B3 P_LB P_LB_TLS P_NGINX P_NGINX_TLS P_HAPROXY P_HAPROXY_TLS P_APACHE P_VARNISH P_CADDY < <(free_ports 12)

# How busy the machine is before anything of ours runs: other people's work
# on a shared machine skews every number below.
measure_background_load
log "background load: $BACKGROUND_TEXT"

# ---------------------------------------------------------------- targets ---
make_certificate
start_backends
if ((EXTRAS)); then
  BIG_BYTES=$((BIG_MB * 1024 * 1024))
  truncate -s "$BIG_BYTES" "$TMP/www/big.bin"
fi
log "backends: nginx pid ${PID[direct]} on ports $B1 $B2 $B3"

ALL_TARGETS=(direct load_balancer nginx haproxy apache varnish caddy)
TARGETS=("${ALL_TARGETS[@]}")
if [[ -n ${BENCH_TARGETS:-} ]]; then read -r -a TARGETS <<<"$BENCH_TARGETS"; fi  # a subset, for debugging
for t in "${TARGETS[@]}"; do
  [[ $t == direct ]] || "start_$t"
done
for t in "${TARGETS[@]}"; do
  pid=${PID[$t]}
  wait_for_http_200 "$pid" "http://127.0.0.1:${PORT[$t]}/" 10 || exit 1
  if [[ -n ${TLS_PORT[$t]:-} ]]; then
    pid=${TLS_PID[$t]:-$pid}
    wait_for_http_200 "$pid" "https://127.0.0.1:${TLS_PORT[$t]}/" 10 || exit 1
  fi
  log "target $t: port ${PORT[$t]}${TLS_PORT[$t]:+, TLS ${TLS_PORT[$t]}}, pid ${PID[$t]}"
done
TLS_TARGETS=()
for t in "${TARGETS[@]}"; do [[ -n ${TLS_PORT[$t]:-} ]] && TLS_TARGETS+=("$t"); done
EXTRA_TARGETS=()
for t in "${TARGETS[@]}"; do [[ " direct load_balancer nginx haproxy " == *" $t "* ]] && EXTRA_TARGETS+=("$t"); done

declare -A DEAD=()
NOTES=()

check_alive() {  # TARGET WHAT: records a crash once
  local t=$1 pid=${PID[$1]} code logfile
  [[ -n ${DEAD[$t]:-} ]] && return 1
  process_alive "$pid" && return 0
  logfile=${PROCESS_LOG[$pid]:-/dev/null}
  stop_process "$pid" 1  # its workers too, if any are left; reaps it
  code=$PROCESS_STATUS
  DEAD[$t]=1
  NOTES+=("**$t (pid $pid) died** (exit status $code) during: $2. Last log lines: \`$(tail -5 "$logfile" | tr '\n' ' ' | cut -c1-600)\`")
  log "$t (pid $pid) DIED (exit status $code) during $2"
  return 1
}

# ------------------------------------------------------------------- rows ---
# A row is KIND:CONNS. ka: wrk keep-alive; new: ab, a new connection per
# request; tls-ka and tls-new: the same over TLS; tls-burst: CONNS new TLS
# connections at once, one request each; h2: HTTP/2 over TLS (h2load, 8
# connections, CONNS/8 streams each).
ROWS=()
for c in $CONNS; do ROWS+=("ka:$c"); done
ROWS+=(new:32)
((${#TLS_TARGETS[@]})) && ROWS+=(tls-ka:64 tls-new:32 tls-burst:4000 h2:64)
if [[ -n ${BENCH_ROWS:-} ]]; then read -r -a ROWS <<<"$BENCH_ROWS"; fi  # a subset, for debugging

RAW=$TMP/raw.tsv
printf 'row\ttarget\tround\trequests\trps\tp50_ms\tp99_ms\terrors\tcpu_us_per_req\tother_cpu_pct\tall_cpu_us_per_req\twaiting_proxy\twaiting_backends\twaiting_client\n' >"$RAW"

servers_ticks() {  # CPU ticks of every server process we started
  local sum=0 p
  for p in "${PID[@]}" "${TLS_PID[@]}"; do sum=$((sum + $(cpu_ticks "$p"))); done
  echo "$sum"
}

# Threads of the proxy, the backends and wrk that were runnable but waiting for
# a CPU, on average, from 1.5 s into a keep-alive run until 1 s before its end:
# "proxy backends client", tab-separated (nan for other rows and short runs).
run_queue_window() {  # KIND SECONDS PROXY_PID BACKENDS_PID CLIENT_PID
  local kind=$1 d=$2 a b w0 w1
  shift 2
  if [[ $kind != ka ]] || ((d < 4)); then printf 'nan\tnan\tnan'; return; fi
  sleep 1.5
  w0=$(date +%s%N)
  read -r -a a < <(run_queue_sums "$@")
  sleep $((d - 3))
  read -r -a b < <(run_queue_sums "$@")
  w1=$(date +%s%N)
  awk -v w=$((w1 - w0)) -v p=$((b[0] - a[0])) -v s=$((b[1] - a[1])) -v c=$((b[2] - a[2])) \
    'BEGIN { printf "%.1f\t%.2f\t%.2f", p / w, s / w, c / w }'
}

run_load() {  # ROW TARGET SECONDS ROUND(0 = warm-up, not recorded)
  local row=$1 t=$2 d=$3 r=$4 kind=${1%%:*} c=${1#*:} out=$TMP/load.out pid port url
  local t0 t1 req rps p50 p99 err cpu all busy0 total0 busy1 total1 ours0 ours1 kids0 kids1 other client waiting
  check_alive "$t" "$row" || return 0
  pid=${PID[$t]}
  port=${PORT[$t]}
  url=http://127.0.0.1
  if [[ $kind == tls-* || $kind == h2 ]]; then
    pid=${TLS_PID[$t]:-$pid}
    port=${TLS_PORT[$t]}
    url=https://127.0.0.1
  fi
  url+=":$port/"
  children_seconds
  kids0=$CHILD_SECONDS
  ours0=$(servers_ticks)
  read -r busy0 total0 < <(machine_ticks)
  t0=$(cpu_ticks "$pid")
  case $kind in
    ka | tls-ka)
      "${PIN_CLIENT[@]}" wrk -t2 -c"$c" -d"${d}s" --latency "$url" >"$out" 2>&1 &
      client=$!
      waiting=$(run_queue_window "$kind" "$d" "$pid" "${PID[direct]}" "$client")
      wait "$client" || true ;;
    new | tls-new) "${PIN_CLIENT[@]}" ab -q -c "$c" -t "$d" -n 100000000 "$url" >"$out" 2>&1 || true ;;
    h2) rm -f "$TMP/h2.log"
      "${PIN_CLIENT[@]}" h2load -D "$d" -c 8 -m $((c / 8)) --log-file "$TMP/h2.log" "$url" >"$out" 2>&1 || true ;;
    tls-burst) rm -f "$TMP/h2.log"  # every connection at once, one request each: CPU per handshake
      "${PIN_CLIENT[@]}" h2load --h1 -t 2 -c "$c" -n "$c" --log-file "$TMP/h2.log" "$url" >"$out" 2>&1 || true ;;
  esac
  t1=$(cpu_ticks "$pid")
  read -r busy1 total1 < <(machine_ticks)
  ours1=$(servers_ticks)
  children_seconds
  kids1=$CHILD_SECONDS
  # Share of the machine's CPU used by processes that are not part of this benchmark.
  other=$(awk -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) -v o=$((ours1 - ours0)) -v k0="$kids0" -v k1="$kids1" \
    -v hz="$CLK_TCK" 'BEGIN { x = t ? 100 * (b - o - (k1 - k0) * hz) / t : 0; printf "%.1f", x < 0 ? 0 : x }')
  case $kind in
    ka | tls-ka) read -r req rps p50 p99 err _ < <(parse_wrk "$out") ;;
    h2 | tls-burst) read -r req rps p50 p99 err < <(parse_h2load "$out" "$TMP/h2.log") ;;
    *) read -r req rps p50 p99 err < <(parse_ab "$out") ;;
  esac
  cpu=nan
  all=nan
  if ((req > 0)); then
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" -v n="$req" 'BEGIN { printf "%.2f", (b - a) * 1e6 / hz / n }')
    # Everything the request cost: every server process we started (proxies, backends) and the client.
    all=$(awk -v o=$((ours1 - ours0)) -v k0="$kids0" -v k1="$kids1" -v hz="$CLK_TCK" -v n="$req" \
      'BEGIN { printf "%.2f", (o / hz + k1 - k0) * 1e6 / n }')
  fi
  ((r > 0)) || return 0
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$row" "$t" "$r" "$req" "$rps" "$p50" "$p99" "$err" "$cpu" \
    "$other" "$all" "${waiting:-nan	nan	nan}" >>"$RAW"
  log "$(printf '%-13s %-10s round %s: %9.0f req/s  p50 %7.3f ms  p99 %8.3f ms  errors %s  cpu %s us/req  (other load %s%%)' \
    "$t" "$row" "$r" "$rps" "$p50" "$p99" "$err" "$cpu" "$other")"
  if ((err > 0)); then cp "$out" "$TMP/errors-$t-${row/:/-c}-r$r.out"; fi
  check_alive "$t" "$row round $r" || true
}

log "warm-up (1 s per target, not recorded)"
for t in "${TARGETS[@]}"; do run_load ka:16 "$t" 1 0; done
for t in "${TLS_TARGETS[@]}"; do run_load tls-ka:16 "$t" 1 0; done

ri=0
for row in "${ROWS[@]}"; do
  row_targets=("${TARGETS[@]}")
  [[ $row == tls-* || $row == h2:* ]] && row_targets=("${TLS_TARGETS[@]}")
  n=${#row_targets[@]}
  for ((r = 1; r <= RUNS; r++)); do
    for ((i = 0; i < n; i++)); do
      run_load "$row" "${row_targets[$(((i + r - 1 + ri) % n))]}" "$DURATION" "$r"
      sleep 0.5
    done
  done
  ri=$((ri + 1))
  if process_alive "${PID[load_balancer]:-0}"; then
    log "load_balancer after $row: threads $(status_kb "${PID[load_balancer]}" Threads), RSS $(status_kb "${PID[load_balancer]}" VmRSS) kB"
  fi
done

# ----------------------------------------------------------------- extras ---
EXTRA_ROWS=()
if ((EXTRAS)); then
  cat "$TMP/www/big.bin" >/dev/null
  curl -sS -m 120 -o /dev/null "http://127.0.0.1:$B1/big.bin" || true
  for t in "${EXTRA_TARGETS[@]}"; do
    log "extras: $t: ${BIG_MB} MB download, ${BIG_MB} MB upload, $IDLE_CONNS idle connections"
    transfer "$t" download
    dl=$CELL
    transfer "$t" upload
    ul=$CELL
    idle_test "$t"
    idle=$CELL
    EXTRA_ROWS+=("| $t | $dl | $ul | $idle |")
    log "  $t: download $dl; upload $ul"
    log "  $t: idle $idle"
  done
fi

# ----------------------------------------------------------------- report ---
ELAPSED=$((SECONDS - START_SECONDS))
write_report >"$TMP/results.md"
cp "$TMP/results.md" "$RESULTS"
cp "$RAW" "$OUT_DIR/bench-raw.tsv"
cp "$TMP/load_balancer.log" "$OUT_DIR/bench-load_balancer.log" 2>/dev/null || true
cat "$RESULTS"
log "results in ${RESULTS#"$ROOT"/} (took ${ELAPSED} s)"
