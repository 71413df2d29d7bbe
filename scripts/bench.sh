#!/usr/bin/env bash
# Benchmark load_balancer against nginx and HAProxy on loopback.
#
#   scripts/bench.sh [--quick] [--pin] [--duration SEC] [--runs N] [--conns "16 64 256"]
#                    [--idle-conns N] [--big-mb N] [--no-extras]
#
# Installs wrk, nginx-light and haproxy with apt-get when missing, builds the
# project in Release into build-bench/ (unless LB_BIN names a load_balancer
# binary), starts one nginx process with three identical fast backends, and puts
# four targets in front of wrk: the first backend directly (the ceiling), our
# load_balancer, nginx as a round-robin proxy and HAProxy, all with keep-alive
# to the same three backends. Then:
#   1. wrk -t2 -cN --latency for N in 16, 64, 256 against every target,
#      interleaved (target order rotated each round), 3 rounds of 10 s
#      (--quick: 1 round of 4 s); medians of req/s, p50, p99 and proxy CPU
#      microseconds per request (utime+stime of the proxy process / requests).
#   2. A 100 MB download and a 100 MB upload through every target (time, peak
#      RSS growth of the proxy), and 10,000 idle keep-alive connections held
#      open to every target while new requests are timed (latency, RSS).
# Prints markdown tables and writes them to build-bench/bench-results.md
# (raw numbers in bench-raw.tsv, the load_balancer's log in
# bench-load_balancer.log). Everything it starts is stopped on exit, by PID.
#
# Environment: LB_BIN (benchmark this load_balancer binary instead of building),
# BENCH_OUT_DIR (default build-bench), BENCH_TARGETS (a subset of
# "direct load_balancer nginx haproxy", for debugging this script).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPERS=$ROOT/scripts/bench
# shellcheck source=bench/apt_install.sh
source "$HELPERS/apt_install.sh"
START_SECONDS=$SECONDS

QUICK=0
PIN=0
DURATION=
RUNS=
CONNS="16 64 256"
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
TMP=
PIDS=()
declare -A PID_NAME=()

stop_pid() {  # PID [grace seconds]: TERM, wait, then KILL; only our own children
  local pid=$1 grace=${2:-15} i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "${PID_NAME[$pid]:-pid $pid} did not stop within ${grace}s of SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$? i
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}" 15; done
  if ((POLICY_RC_CREATED)); then rm -f /usr/sbin/policy-rc.d; fi
  if [[ -n $TMP && -d $TMP ]]; then rm -rf "$TMP"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d /tmp/lb-bench.XXXXXX)

# ------------------------------------------------------------ dependencies ---
SUDO=()
if ((EUID != 0)); then SUDO=(sudo); fi

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_missing() {
  local need=() p
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || need+=(NGINX)
  command -v haproxy >/dev/null || need+=(haproxy)
  command -v curl >/dev/null || need+=(curl)
  command -v python3 >/dev/null || need+=(python3)
  command -v taskset >/dev/null || need+=(util-linux)
  command -v getconf >/dev/null || need+=(libc-bin)
  if [[ -z ${LB_BIN:-} ]]; then
    for p in cmake g++ make pkg-config libcpp-httplib-dev nlohmann-json3-dev libcli11-dev libssl-dev \
      libhttp-parser-dev; do
      pkg_installed "$p" || need+=("$p")
    done
  fi
  apt_install_quietly "${need[@]}"
}
install_missing

# nginx and haproxy live in /usr/sbin, which a non-login root shell may lack.
PATH=$PATH:/usr/sbin:/sbin
for tool in wrk nginx haproxy curl python3 taskset getconf; do
  command -v "$tool" >/dev/null || die "$tool not found after installation"
done

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
    PIN_TEXT="pinned: wrk, curl and the idle-connection client on CPU 0; proxies and backend nginx on CPU 1"
  else
    PIN_TEXT="not pinned (--pin asked, but only $NPROC CPU)"
  fi
else
  PIN_TEXT="not pinned: wrk, proxies and backends share all $NPROC CPUs"
fi

free_ports() {  # N: N distinct free loopback ports
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}
read -r B1 B2 B3 P_LB P_NGINX P_HAPROXY < <(free_ports 6)

cpu_ticks() {  # PID: utime+stime of the whole process (all threads), in clock ticks
  local rest
  rest=$(<"/proc/$1/stat") || { echo 0; return; }
  rest=${rest##*) }
  awk '{ print $12 + $13 }' <<<"$rest"
}
status_kb() {  # PID FIELD (VmRSS, VmHWM, Threads): value from /proc/PID/status
  awk -v f="$2:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}
alive() { kill -0 "$1" 2>/dev/null; }
# Machine-wide CPU ticks from /proc/stat: "busy total".
# Busy = user + nice + system + steal. IRQ and softirq time (here: the loopback
# network stack, ~25% of the machine under wrk) is charged to no process, so
# it is left out of "busy" as it is left out of every process's CPU time.
machine_ticks() { awk '/^cpu / { b = $2 + $3 + $4 + $9; print b, b + $5 + $6 + $7 + $8 }' /proc/stat; }
# CHILD_SECONDS = CPU seconds of this shell's finished children (wrk). `times`
# must run in this shell: in a $(...) subshell it would report the subshell's.
children_seconds() {
  times >"$TMP/times"
  CHILD_SECONDS=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } print s }' "$TMP/times")
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

start_bg() {  # NAME CMD...: start in the background on the server CPU; sets LAST_PID
  local name=$1
  shift
  "${PIN_SERVER[@]}" "$@" >"$TMP/$name.log" 2>&1 </dev/null &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  PID_NAME[$LAST_PID]=$name
}

wait_http() {  # NAME PID PORT: until GET / answers 200
  local i
  for ((i = 0; i < 100; i++)); do
    alive "$2" || { cat "$TMP/$1.log" >&2; die "$1 exited during start-up"; }
    [[ $(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$3/" || true) == 200 ]] && return 0
    sleep 0.1
  done
  cat "$TMP/$1.log" >&2
  die "$1 did not answer on port $3 within 10 s"
}

wait_line() {  # NAME PID PATTERN: until the log has the line
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q -- "$3" "$TMP/$1.log" && return 0
    alive "$2" || { cat "$TMP/$1.log" >&2; die "$1 exited during start-up"; }
    sleep 0.1
  done
  cat "$TMP/$1.log" >&2
  die "$1 did not print '$3' within 30 s"
}

# How busy the machine is before anything of ours runs: other people's work
# on a shared machine skews every number below.
read -r BUSY0 TOTAL0 < <(machine_ticks)
sleep 2
read -r BUSY1 TOTAL1 < <(machine_ticks)
BACKGROUND_TEXT="$(awk -v b=$((BUSY1 - BUSY0)) -v t=$((TOTAL1 - TOTAL0)) 'BEGIN { printf "%.0f%%", t ? 100 * b / t : 0 }') of all CPUs busy in the 2 s before start, load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "background load: $BACKGROUND_TEXT"

# --------------------------------------------------------------- backends ---
mkdir -p "$TMP/www" "$TMP/backends" "$TMP/nginx-proxy"
if ((EXTRAS)); then
  BIG_BYTES=$((BIG_MB * 1024 * 1024))
  truncate -s "$BIG_BYTES" "$TMP/www/big.bin"
fi
WORKER_CONNECTIONS=$((NOFILE - 100))

nginx_common() {  # DIR: the top of an nginx config with everything inside DIR
  cat <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
error_log $1/error.log warn;
pid $1/nginx.pid;
events { worker_connections $WORKER_CONNECTIONS; }
EOF
}
nginx_temp_paths() {
  local d
  for d in client_body proxy fastcgi uwsgi scgi; do
    printf '  %s_temp_path %s/%s_temp;\n' "$d" "$1" "$d"
  done
}

upload_location() {  # PORT of this server block
  # The backend reads the whole body into memory (proxy_request_buffering on, a
  # buffer larger than the body) before it asks its own /received location for
  # the answer, so a 200 means every byte arrived; the reply names the count.
  cat <<EOF
    location = /upload {
      client_max_body_size 0;
      client_body_buffer_size $((BIG_MB + 1))m;
      proxy_request_buffering on;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Received \$request_length;
      proxy_pass http://127.0.0.1:$1/received;
    }
    location = /received { default_type application/json; return 200 '{"received":\$http_x_received}'; }
EOF
}

{
  nginx_common "$TMP/backends"
  echo "http {"
  echo "  access_log off;"
  nginx_temp_paths "$TMP/backends"
  echo "  keepalive_requests 1000000;"
  echo "  keepalive_timeout 120s;"
  for port in "$B1" "$B2" "$B3"; do
    cat <<EOF
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / { default_type application/json; return 200 '{"ok":true}'; }
    location = /big.bin { root $TMP/www; default_type application/octet-stream; }
$(upload_location "$port")
  }
EOF
  done
  echo "}"
} >"$TMP/backends/nginx.conf"

start_bg backends nginx -p "$TMP/backends" -e "$TMP/backends/error.log" -c "$TMP/backends/nginx.conf"
BACKENDS_PID=$LAST_PID
wait_http backends "$BACKENDS_PID" "$B1"
wait_http backends "$BACKENDS_PID" "$B2"
wait_http backends "$BACKENDS_PID" "$B3"
log "backends: nginx pid $BACKENDS_PID on ports $B1 $B2 $B3"

# ---------------------------------------------------------------- proxies ---
LB_ARGS=(--port "$P_LB" --bind 127.0.0.1 --backend "http://127.0.0.1:$B1" --backend "http://127.0.0.1:$B2"
  --backend "http://127.0.0.1:$B3" --health-interval 5 --max-connections 20000)
start_bg load_balancer "$LB_BIN" "${LB_ARGS[@]}"
LB_PID=$LAST_PID
wait_line load_balancer "$LB_PID" "load_balancer listening on 127.0.0.1:$P_LB"

{
  nginx_common "$TMP/nginx-proxy"
  cat <<EOF
http {
  access_log off;
$(nginx_temp_paths "$TMP/nginx-proxy")
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_max_body_size 0;
  upstream backends {
    server 127.0.0.1:$B1;
    server 127.0.0.1:$B2;
    server 127.0.0.1:$B3;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$P_NGINX backlog=4096;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
    }
  }
}
EOF
} >"$TMP/nginx-proxy/nginx.conf"
start_bg nginx nginx -p "$TMP/nginx-proxy" -e "$TMP/nginx-proxy/error.log" -c "$TMP/nginx-proxy/nginx.conf"
NGINX_PID=$LAST_PID

HAPROXY_MAXCONN=$((IDLE_CONNS + 1000))
cat >"$TMP/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn $HAPROXY_MAXCONN
  no strict-limits

defaults
  mode http
  maxconn $HAPROXY_MAXCONN
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 120s
  timeout server 60s
  timeout http-request 10s
  timeout http-keep-alive 120s

frontend fe
  bind 127.0.0.1:$P_HAPROXY
  default_backend be

backend be
  balance roundrobin
  server s1 127.0.0.1:$B1
  server s2 127.0.0.1:$B2
  server s3 127.0.0.1:$B3
EOF
start_bg haproxy haproxy -db -f "$TMP/haproxy.cfg"
HAPROXY_PID=$LAST_PID

wait_http nginx "$NGINX_PID" "$P_NGINX"
wait_http haproxy "$HAPROXY_PID" "$P_HAPROXY"
wait_http load_balancer "$LB_PID" "$P_LB"
log "targets: direct :$B1 (nginx pid $BACKENDS_PID), load_balancer :$P_LB (pid $LB_PID)," \
  "nginx :$P_NGINX (pid $NGINX_PID), haproxy :$P_HAPROXY (pid $HAPROXY_PID)"

TARGETS=(direct load_balancer nginx haproxy)
if [[ -n ${BENCH_TARGETS:-} ]]; then read -r -a TARGETS <<<"$BENCH_TARGETS"; fi  # a subset, for debugging
declare -A PORT=([direct]=$B1 [load_balancer]=$P_LB [nginx]=$P_NGINX [haproxy]=$P_HAPROXY)
declare -A PID=([direct]=$BACKENDS_PID [load_balancer]=$LB_PID [nginx]=$NGINX_PID [haproxy]=$HAPROXY_PID)
declare -A DEAD=()
NOTES=()

check_alive() {  # TARGET: records a crash once
  local t=$1 pid=${PID[$1]}
  [[ -n ${DEAD[$t]:-} ]] && return 1
  if ! alive "$pid"; then
    local code=0
    wait "$pid" 2>/dev/null || code=$?
    DEAD[$t]=1
    NOTES+=("**$t (pid $pid) died** (exit status $code) during: $2. Last log lines: \`$(tail -5 "$TMP/${PID_NAME[$pid]}.log" | tr '\n' ' ' | cut -c1-600)\`")
    log "$t (pid $pid) DIED (exit status $code) during $2"
    return 1
  fi
}

# ------------------------------------------------------------------ wrk -----
# Prints: requests rps p50_ms p99_ms errors (errors = non-2xx/3xx + socket errors)
parse_wrk() {
  awk '
    function ms(v,   n, u) {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") return n / 1000; if (u == "ms") return n; if (u == "s") return n * 1000
      if (u == "m") return n * 60000; return n
    }
    /^ +50% / { p50 = ms($2) }
    /^ +99% / { p99 = ms($2) }
    / requests in / { req = $1 }
    /^ +Socket errors:/ { gsub(/,/, ""); se = $4 + $6 + $8 + $10 }
    /^ +Non-2xx or 3xx responses:/ { n2 = $NF }
    /^Requests\/sec:/ { rps = $2 }
    END { printf "%d %.2f %.3f %.3f %d\n", req, rps, p50, p99, se + n2 }' "$1"
}

RAW=$TMP/raw.tsv
printf 'conns\ttarget\tround\trequests\trps\tp50_ms\tp99_ms\terrors\tcpu_us_per_req\tother_cpu_pct\tall_cpu_us_per_req\n' >"$RAW"

servers_ticks() {  # CPU ticks of every server process we started
  local sum=0 p
  for p in "${PID[@]}"; do sum=$((sum + $(cpu_ticks "$p"))); done
  echo "$sum"
}

run_wrk() {  # TARGET CONNS SECONDS ROUND(0 = warm-up, not recorded)
  local t=$1 c=$2 d=$3 r=$4 out=$TMP/wrk.out pid=${PID[$1]} t0 t1 req rps p50 p99 err cpu all
  local busy0 total0 busy1 total1 ours0 ours1 kids0 kids1 other
  check_alive "$t" "wrk -c$c" || return 0
  children_seconds
  kids0=$CHILD_SECONDS
  ours0=$(servers_ticks)
  read -r busy0 total0 < <(machine_ticks)
  t0=$(cpu_ticks "$pid")
  "${PIN_CLIENT[@]}" wrk -t2 -c"$c" -d"${d}s" --latency "http://127.0.0.1:${PORT[$t]}/" >"$out" 2>&1 || true
  t1=$(cpu_ticks "$pid")
  read -r busy1 total1 < <(machine_ticks)
  ours1=$(servers_ticks)
  children_seconds
  kids1=$CHILD_SECONDS
  # Share of the machine's CPU used by processes that are not part of this benchmark.
  other=$(awk -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) -v o=$((ours1 - ours0)) -v k0="$kids0" -v k1="$kids1" \
    -v hz="$CLK_TCK" 'BEGIN { x = t ? 100 * (b - o - (k1 - k0) * hz) / t : 0; printf "%.1f", x < 0 ? 0 : x }')
  read -r req rps p50 p99 err < <(parse_wrk "$out")
  if ((req > 0)); then
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" -v n="$req" 'BEGIN { printf "%.2f", (b - a) * 1e6 / hz / n }')
    # Everything the request cost: every server process we started (proxy, backends) and wrk.
    all=$(awk -v o=$((ours1 - ours0)) -v k0="$kids0" -v k1="$kids1" -v hz="$CLK_TCK" -v n="$req" \
      'BEGIN { printf "%.2f", (o / hz + k1 - k0) * 1e6 / n }')
  else
    cpu=nan
    all=nan
  fi
  if ((r > 0)); then
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$t" "$r" "$req" "$rps" "$p50" "$p99" "$err" "$cpu" "$other" \
      "$all" >>"$RAW"
    log "$(printf '%-13s c=%-4s round %s: %9.0f req/s  p50 %7.3f ms  p99 %8.3f ms  errors %s  cpu %s us/req  (other load %s%%)' \
      "$t" "$c" "$r" "$rps" "$p50" "$p99" "$err" "$cpu" "$other")"
    if ((err > 0)); then cp "$out" "$TMP/wrk-errors-$t-c$c-r$r.out"; fi
  fi
  check_alive "$t" "wrk -c$c round $r" || true
}

log "warm-up (1 s per target, not recorded)"
for t in "${TARGETS[@]}"; do run_wrk "$t" 16 1 0; done

N_TARGETS=${#TARGETS[@]}
ci=0
for c in $CONNS; do
  for ((r = 1; r <= RUNS; r++)); do
    for ((i = 0; i < N_TARGETS; i++)); do
      run_wrk "${TARGETS[$(((i + r - 1 + ci) % N_TARGETS))]}" "$c" "$DURATION" "$r"
      sleep 0.5
    done
  done
  ci=$((ci + 1))
  if alive "$LB_PID"; then
    log "load_balancer after c=$c: threads $(status_kb "$LB_PID" Threads), RSS $(status_kb "$LB_PID" VmRSS) kB"
  fi
done

# ----------------------------------------------------------------- extras ---
EXTRA_ROWS=()
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

transfer() {  # TARGET KIND(download|upload): sets CELL to "0.31 s (323 MB/s), +0.3 MB"
  local t=$1 kind=$2 pid=${PID[$1]} h0 h1 w code size secs rec body=$TMP/transfer.body i times=()
  CELL="n/a (dead)"
  check_alive "$t" "$kind" || return 0
  h0=$(status_kb "$pid" VmHWM)
  for ((i = 0; i < TRANSFER_REPS; i++)); do
    : >"$body"
    if [[ $kind == download ]]; then
      w=$("${PIN_CLIENT[@]}" curl -sS -m 120 -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
        "http://127.0.0.1:${PORT[$t]}/big.bin" 2>"$TMP/curl.err" || true)
    else
      w=$("${PIN_CLIENT[@]}" curl -sS -m 120 -o "$body" -X POST -H 'Content-Type: application/octet-stream' \
        -T "$TMP/www/big.bin" -w '%{http_code} %{size_upload} %{time_total}' \
        "http://127.0.0.1:${PORT[$t]}/upload" 2>"$TMP/curl.err" || true)
    fi
    read -r code size secs <<<"${w:-000 0 0}"
    rec=$BIG_BYTES
    if [[ $kind == upload ]]; then
      # $request_length counts the request head too: at least the body must have arrived.
      rec=$(sed -n 's/.*"received":\([0-9]*\).*/\1/p' "$body")
      if ((${rec:-0} >= BIG_BYTES)); then rec=$BIG_BYTES; fi
    fi
    if [[ $code != 200 || $size != "$BIG_BYTES" || $rec != "$BIG_BYTES" ]]; then
      CELL=$(printf 'FAILED: HTTP %s, %s of %s bytes, %.1f s %s' "$code" "$size" "$BIG_BYTES" "$secs" \
        "$(head -c 120 "$TMP/curl.err" | tr '\n' ' ')")
      NOTES+=("$t: ${BIG_MB} MB $kind failed: HTTP $code, curl moved $size of $BIG_BYTES bytes in $secs s;\
 backend saw ${rec:-?}; body: $(head -c 200 "$body" | tr '\n' ' ') $(tr '\n' ' ' <"$TMP/curl.err")")
      check_alive "$t" "${BIG_MB} MB $kind" || true
      return 0
    fi
    times+=("$secs")
  done
  h1=$(status_kb "$pid" VmHWM)
  secs=$(printf '%s\n' "${times[@]}" | median)
  CELL=$(awk -v s="$secs" -v b="$BIG_BYTES" -v g="$((h1 - h0))" \
    'BEGIN { printf "%.2f s (%.0f MB/s), %+.1f MB", s, b / 1048576 / s, g / 1024 }')
  check_alive "$t" "${BIG_MB} MB $kind" || true
}

latency_c1() {  # TARGET SECONDS: "p50 / p99 ms, N req/s, errors"
  local t=$1 req rps p50 p99 err
  "${PIN_CLIENT[@]}" wrk -t1 -c1 -d"$2s" --latency "http://127.0.0.1:${PORT[$t]}/" >"$TMP/wrk1.out" 2>&1 || true
  read -r req rps p50 p99 err < <(parse_wrk "$TMP/wrk1.out")
  printf '%.3f / %.3f ms, %.0f req/s%s' "$p50" "$p99" "$rps" "$( ((err)) && echo ", $err errors")"
}

idle_test() {  # TARGET: sets CELL to the idle-connection cells separated by '|'
  local t=$1 pid=${PID[$1]} base rss0 thr0 ipid line est failed secs errs rss1 thr1 loaded done_line rss2 thr2 i
  CELL="n/a (dead) | | | | "
  check_alive "$t" "idle test" || return 0
  base=$(latency_c1 "$t" 3)
  rss0=$(status_kb "$pid" VmRSS)
  thr0=$(status_kb "$pid" Threads)
  # Empty the output here: the background child opens it only some time after the fork.
  : >"$TMP/idle.out"
  "${PIN_CLIENT[@]}" python3 "$HELPERS/idle_conns.py" 127.0.0.1 "${PORT[$t]}" "$IDLE_CONNS" \
    >"$TMP/idle.out" 2>"$TMP/idle.err" </dev/null &
  ipid=$!
  PIDS+=("$ipid")
  PID_NAME[$ipid]=idle_conns
  for ((i = 0; i < 1200; i++)); do
    grep -q '^READY' "$TMP/idle.out" && break
    if ! alive "$ipid"; then
      log "idle-connection client for $t exited early: $(tr '\n' ' ' <"$TMP/idle.err" | cut -c1-300)"
      break
    fi
    sleep 0.1
  done
  line=$(grep '^READY' "$TMP/idle.out" || echo "READY established=0 failed=$IDLE_CONNS seconds=0 errors=client-failed")
  est=$(sed -n 's/.*established=\([0-9]*\).*/\1/p' <<<"$line")
  failed=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$line")
  secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
  errs=$(sed -n 's/.*errors=\(.*\)/\1/p' <<<"$line")
  sleep 1
  rss1=$(status_kb "$pid" VmRSS)
  thr1=$(status_kb "$pid" Threads)
  if check_alive "$t" "$IDLE_CONNS idle connections"; then
    loaded=$(latency_c1 "$t" 3)
  else
    loaded="n/a (dead)"
  fi
  kill -TERM "$ipid" 2>/dev/null || true
  wait "$ipid" 2>/dev/null || true
  done_line=$(grep '^DONE' "$TMP/idle.out" || echo "DONE ?")
  if [[ -s $TMP/idle.err ]]; then NOTES+=("$t idle client stderr: $(tail -3 "$TMP/idle.err" | tr '\n' ' ')"); fi
  if ((failed > 0)); then NOTES+=("$t: $failed of $IDLE_CONNS idle connections failed ($errs)"); fi
  sleep 2
  rss2=$(status_kb "$pid" VmRSS)
  thr2=$(status_kb "$pid" Threads)
  check_alive "$t" "closing $IDLE_CONNS idle connections" || true
  CELL=$(printf '%s of %s in %s s | %s → %s MB (%s → %s threads) | %s | %s | %s (after close: %s MB, %s threads)' \
    "$est" "$IDLE_CONNS" "$secs" "$(mb "$rss0")" "$(mb "$rss1")" "$thr0" "$thr1" "$base" "$loaded" \
    "${done_line#DONE }" "$(mb "$rss2")" "$thr2")
}

if ((EXTRAS)); then
  cat "$TMP/www/big.bin" >/dev/null
  curl -sS -m 120 -o /dev/null "http://127.0.0.1:$B1/big.bin" || true
  for t in "${TARGETS[@]}"; do
    log "extras: $t: 100 MB download, 100 MB upload, $IDLE_CONNS idle connections"
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
column_of() { awk -F'\t' -v c="$1" -v t="$2" -v k="$3" 'NR > 1 && $1 == c && $2 == t && $k != "nan" { print $k }' "$RAW"; }

LB_LOG_LINES=$(wc -l <"$TMP/load_balancer.log")
ELAPSED=$((SECONDS - START_SECONDS))
{
  echo "# Load balancer benchmark"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took ${ELAPSED} s ($(((ELAPSED + 30) / 60)) min)"
  echo "- machine: $NPROC CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "- versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(haproxy -v 2>&1 | head -1 | sed 's/ - https.*//'), $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')"
  echo "- load_balancer: $LB_SOURCE; flags \`${LB_ARGS[*]}\` (ports vary)"
  echo "- pinning: $PIN_TEXT"
  if (($(awk -F'\t' 'NR > 1 { print $10 }' "$RAW" | median | cut -d. -f1) >= 10)); then
    echo "- **warning: other work kept this machine busy during the runs (below); treat the numbers as rough and compare CPU µs/req more than req/s**"
  fi
  echo "- other load: $BACKGROUND_TEXT; during the wrk runs, processes outside the benchmark used $(
    awk -F'\t' 'NR > 1 { print $10 }' "$RAW" | median)% of all CPUs (median; max $(
    awk -F'\t' 'NR > 1 && $10 > m { m = $10 } END { print m + 0 }' "$RAW")%)"
  echo "- method: \`wrk -t2 -cN -d${DURATION}s --latency\`, keep-alive GET / → \`{\"ok\":true}\`; $RUNS round(s) per cell, targets interleaved (order rotated each round); median of rounds; errors = non-2xx + socket errors, summed over rounds"
  echo "- backends: one nginx process (master_process off) with three server blocks; direct = wrk straight to backend 1"
  echo "- proxies: load_balancer (thread per connection: may use every CPU); nginx: 1 process, upstream keepalive 64, default proxy_buffering (a large response spills to a temp file), proxy_request_buffering off; HAProxy: nbthread 1, http-reuse always"
  echo "- CPU µs/req: utime+stime of the proxy process (all threads) over the run / requests completed (for direct: the backend nginx);"
  echo "  softirq time (the loopback network stack) is charged to no process, so it is in no proxy's number"
  echo "- all CPU µs/req: the same for the proxy, the backend nginx and wrk together: what one request costs the machine,"
  echo "  so req/s ≈ CPUs / all CPU per request once the machine is saturated"
  echo
  echo "| target | conns | req/s | ×nginx | p50 | p99 | errors | CPU µs/req | all CPU µs/req |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for c in $CONNS; do
    nginx_rps=$(column_of "$c" nginx 5 | median)
    for t in "${TARGETS[@]}"; do
      rps=$(column_of "$c" "$t" 5 | median)
      p50=$(column_of "$c" "$t" 6 | median)
      p99=$(column_of "$c" "$t" 7 | median)
      cpu=$(column_of "$c" "$t" 9 | median)
      all=$(column_of "$c" "$t" 11 | median)
      errs=$(column_of "$c" "$t" 8 | awk '{ s += $1 } END { print s + 0 }')
      awk -v t="$t" -v c="$c" -v rps="$rps" -v n="$nginx_rps" -v p50="$p50" -v p99="$p99" -v e="$errs" -v cpu="$cpu" -v all="$all" \
        -v dead="${DEAD[$t]:-}" 'BEGIN {
          if (rps == "nan") { printf "| %s | %s | %s | | | | | | |\n", t, c, dead ? "DIED" : "n/a"; exit }
          ratio = (n != "nan" && n > 0) ? sprintf("%.2f", rps / n) : "n/a"
          printf "| %s | %d | %.0f | %s | %.2f ms | %.2f ms | %d | %s | %s |\n", t, c, rps, ratio, p50, p99, e,
            (cpu == "nan" ? "n/a" : sprintf("%.1f", cpu)), (all == "nan" ? "n/a" : sprintf("%.1f", all))
        }'
    done
  done
  if ((EXTRAS)); then
    echo
    echo "## Large bodies and idle connections"
    echo
    echo "- ${BIG_MB} MB: \`curl\` GET of a ${BIG_MB} MB static file from the backend nginx (sendfile, page cache warm), and \`curl\` POST of"
    echo "  ${BIG_MB} MB to /upload, where the backend nginx reads the whole body into memory before it answers with the byte count (checked);"
    echo "  through each target, $TRANSFER_REPS times each: median total time (throughput), then the growth of the proxy's peak RSS (VmHWM)"
    echo "  over those transfers (for direct that is the backend nginx, which holds the uploaded body in memory by design)"
    echo "- idle: $IDLE_CONNS keep-alive connections opened (scripts/bench/idle_conns.py, 200 at a time), one GET each, then held idle;"
    echo "  new-request latency = \`wrk -t1 -c1 -d3s\` p50 / p99 before (baseline) and while the idle connections are held;"
    echo "  RSS (VmRSS) and thread count of the proxy before and with the idle connections; open/closed = idle connections still open / closed by the proxy when released"
    echo
    echo "| target | 100 MB download | 100 MB upload | idle conns established | RSS (threads) idle | new req c=1, baseline | new req c=1, with idle | held conns at end |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${EXTRA_ROWS[@]}"
  fi
  echo
  echo "## Notes"
  echo
  if alive "$LB_PID"; then
    echo "- load_balancer at the end: alive, $(status_kb "$LB_PID" Threads) threads, RSS $(mb "$(status_kb "$LB_PID" VmRSS)") MB, peak RSS $(mb "$(status_kb "$LB_PID" VmHWM)") MB; its log has $LB_LOG_LINES lines (bench-load_balancer.log)"
  fi
  for t in "${TARGETS[@]}"; do
    e=$(awk -F'\t' -v t="$t" 'NR > 1 && $2 == t { s += $8 } END { print s + 0 }' "$RAW")
    ((e == 0)) || echo "- $t: $e errors in wrk runs (non-2xx + socket errors); see bench-raw.tsv"
  done
  for f in "$TMP"/wrk-errors-*.out; do
    [[ -e $f ]] || continue
    echo "- $(basename "$f" .out): $(grep -E 'Socket errors|Non-2xx' "$f" | tr -s ' ' | tr '\n' ';')"
  done
  if grep -qE 'WARNING|ALERT' "$TMP/haproxy.log"; then
    echo "- haproxy said (its maxconn is $HAPROXY_MAXCONN, it sizes for two descriptors per connection; the idle test needs $IDLE_CONNS + a few):" \
      "$(grep -E 'WARNING|ALERT' "$TMP/haproxy.log" | head -3 | sed 's/^\[[A-Z]*\] *([0-9]*) : //' | tr '\n' ' ' | cut -c1-400)"
  fi
  for f in backends nginx-proxy; do
    # nginx's default proxy_buffering spills a large response to a temp file: expected, not news.
    if grep -v 'buffered to a temporary file' "$TMP/$f/error.log" | grep -q .; then
      echo "- nginx ($f) error log: $(grep -v 'buffered to a temporary file' "$TMP/$f/error.log" | head -3 | tr '\n' ' ' | cut -c1-400)"
    fi
  done
  for n in "${NOTES[@]}"; do echo "- $n"; done
  if [[ ${#NOTES[@]} -eq 0 ]]; then echo "- no crashes or failed transfers"; fi
} >"$TMP/results.md"

cp "$TMP/results.md" "$RESULTS"
cp "$RAW" "$OUT_DIR/bench-raw.tsv"
cp "$TMP/load_balancer.log" "$OUT_DIR/bench-load_balancer.log"
cat "$RESULTS"
log "results in ${RESULTS#"$ROOT"/} (took ${ELAPSED} s)"
