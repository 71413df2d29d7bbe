#!/usr/bin/env bash
# Failover chaos run: load_balancer, nginx and HAProxy side by side, lost requests per proxy.
#
#   scripts/chaos.sh [--duration SEC] [--only "load_balancer nginx haproxy"]
#
# Needs build/bin/load_balancer and build/bin/backend_server (first:
# LB_SKIP_SANITIZERS=1 scripts/build.sh build); installs wrk, nginx-light and
# haproxy with apt-get when missing. For each proxy in turn, on 127.0.0.1 only:
# three fresh backend_server processes, the proxy in front of them, and
# `wrk -t2 -c32 -dSEC --timeout 5s` (keep-alive GET /, a Lua script counts
# requests sent and non-2xx answers by status) while the backends misbehave,
# timed from wrk's start (the times below are for --duration 30 and scale with it):
#   t=5s SIGKILL backend 1; t=8s backend 1 restarted on its port;
#   t=12s SIGSTOP backend 2; t=17s SIGCONT backend 2; t=22s SIGKILL backend 1 (stays dead).
# Lost = non-2xx answers + wrk socket errors (connect, read, write, timeout).
# Then, for load_balancer only, two total outages of SEC/3 s each (10 s for 30)
# under the same wrk load: every remaining backend frozen (SIGSTOP), then every
# backend killed (connection refused); the deltas of its admin /status and
# /metrics counters give requests sent to backends per request answered.
# Prints markdown tables and writes them to build-chaos/chaos-results.md, with
# every wrk output and proxy log next to it. Everything it starts is stopped on
# exit, by PID (SIGCONT first, for frozen ones).
#
# Options: --duration SEC (default 30, at least 10), --only "LIST" (a subset of
# "load_balancer nginx haproxy"), -h/--help.
# Environment: LB_CHAOS_FLAGS (extra load_balancer flags; default: the
# DEFAULT_LB_CHAOS_FLAGS line below), CHAOS_BIN_DIR (default build/bin),
# CHAOS_OUT_DIR (default build-chaos).
set -euo pipefail

# ------------------------------------------------------------------------------
# Extra load_balancer flags for this scenario, appended after the fixed ones.
# LB_CHAOS_FLAGS overrides it (LB_CHAOS_FLAGS= runs with none). The default
# --try-timeout (each try waits the whole 2 s --backend-timeout, as nginx's
# proxy_read_timeout 2s below), and the defaults spelled out: eject after 5
# failures in a row, retries at most 20% of the requests of the last 10 s.
# (The README's first runs added --try-timeout 0.5.)
DEFAULT_LB_CHAOS_FLAGS="--eject-after 5 --eject-seconds 10 --retry-budget 20"
# ------------------------------------------------------------------------------

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/apt_install.sh
source "$ROOT/scripts/bench/apt_install.sh"
START_SECONDS=$SECONDS

DURATION=30
ONLY="load_balancer nginx haproxy"
CONNS=32
WRK_TIMEOUT=5  # above every proxy's worst case (2 s backend timeout, one retry)

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
die() { echo "chaos.sh: $*" >&2; exit 1; }
log() { printf '[chaos %s] %s\n' "$(date +%T)" "$*" >&2; }

while (($#)); do
  case $1 in
    --duration) DURATION=${2:?--duration needs a value}; shift ;;
    --only) ONLY=${2:?--only needs a value}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "chaos.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ! [[ $DURATION =~ ^[0-9]+$ ]] || ((DURATION < 10)); then die "--duration takes whole seconds, at least 10"; fi
read -r -a PROXIES <<<"$ONLY"
((${#PROXIES[@]})) || die "--only needs at least one of: load_balancer nginx haproxy"
for p in "${PROXIES[@]}"; do
  [[ $p == load_balancer || $p == nginx || $p == haproxy ]] || die "--only: unknown proxy '$p' (load_balancer nginx haproxy)"
done
OUTAGE=$(((DURATION + 1) / 3))
LB_CHAOS_FLAGS=${LB_CHAOS_FLAGS-$DEFAULT_LB_CHAOS_FLAGS}
read -r -a LB_EXTRA <<<"$LB_CHAOS_FLAGS"

BIN_DIR=${CHAOS_BIN_DIR:-$ROOT/build/bin}
LB_BIN=$BIN_DIR/load_balancer
BACKEND_BIN=$BIN_DIR/backend_server
for b in "$LB_BIN" "$BACKEND_BIN"; do
  [[ -x $b ]] || die "$b not found: build first (LB_SKIP_SANITIZERS=1 scripts/build.sh build) or set CHAOS_BIN_DIR"
done
OUT_DIR=${CHAOS_OUT_DIR:-$ROOT/build-chaos}
mkdir -p "$OUT_DIR"
RESULTS=$OUT_DIR/chaos-results.md

# ---------------------------------------------------------------- clean-up ---
TMP=
PIDS=()  # every process we started and have not reaped yet
declare -A PID_NAME=()

# Alive and not a zombie (kill -0 succeeds on an unreaped zombie). Not
# $(<file): under set -e, bash 5.2 exits when that file is missing.
alive() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

forget_pid() {  # PID: reaped, so no longer ours to signal (the number may be reused)
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
  unset "PID_NAME[$1]"
}

stop_pid() {  # PID [grace seconds]: CONT (it may be frozen), TERM, wait, then KILL
  local pid=$1 grace=${2:-10} i
  if alive "$pid"; then
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "${PID_NAME[$pid]:-pid $pid} did not stop within ${grace}s of SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

kill_now() {  # PID: SIGKILL and reap (a chaos event, not a shutdown)
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget_pid "$1"
}

cleanup() {
  local status=$? i
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill -CONT "${PIDS[$i]}" 2>/dev/null || true; done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}" 10; done
  if ((POLICY_RC_CREATED)); then rm -f /usr/sbin/policy-rc.d; fi
  if [[ -n $TMP && -d $TMP ]]; then rm -rf "$TMP"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d /tmp/lb-chaos.XXXXXX)

# ------------------------------------------------------------ dependencies ---
SUDO=()
if ((EUID != 0)); then SUDO=(sudo); fi
PATH=$PATH:/usr/sbin:/sbin  # nginx and haproxy live in /usr/sbin

install_missing() {
  local need=()
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || need+=(NGINX)
  command -v haproxy >/dev/null || need+=(haproxy)
  command -v curl >/dev/null || need+=(curl)
  command -v python3 >/dev/null || need+=(python3)
  apt_install_quietly "${need[@]}"
}
install_missing
for tool in wrk nginx haproxy curl python3 timeout; do
  command -v "$tool" >/dev/null || die "$tool not found after installation"
done

# --------------------------------------------------------------- helpers ---
# N distinct free loopback ports outside the kernel's ephemeral range: a port
# from that range, once free, can be taken as the local port of anyone's
# outgoing connection (wrk's, a proxy's, another job's) before a backend
# binds or re-binds it.
free_ports() {
  python3 - "$1" <<'EOF'
import random, socket, sys
lo, hi = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
pool = list(range(20000, lo)) if lo > 21000 else list(range(hi + 1, 65536))
random.shuffle(pool)
picked = []
for port in pool:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    picked.append(port)
    if len(picked) == int(sys.argv[1]):
        break
print(" ".join(map(str, picked)))
EOF
}

start_bg() {  # NAME CMD...: start in the background, output to $TMP/NAME.log; sets LAST_PID
  local name=$1
  shift
  "$@" >>"$TMP/$name.log" 2>&1 </dev/null &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  PID_NAME[$LAST_PID]=$name
}

wait_http() {  # NAME PID URL: until it answers 200 (10 s at most)
  local i
  for ((i = 0; i < 100; i++)); do
    alive "$2" || { tail -20 "$TMP/$1.log" >&2; die "$1 exited during start-up"; }
    [[ $(curl -s -o /dev/null -m 1 -w '%{http_code}' "$3" || true) == 200 ]] && return 0
    sleep 0.1
  done
  tail -20 "$TMP/$1.log" >&2
  die "$1 did not answer 200 on $3 within 10 s"
}

machine_ticks() { awk '/^cpu / { b = $2 + $3 + $4 + $9; print b, b + $5 + $6 + $7 + $8 }' /proc/stat; }
read -r BUSY0 TOTAL0 < <(machine_ticks)
sleep 2
read -r BUSY1 TOTAL1 < <(machine_ticks)
BACKGROUND_TEXT="$(awk -v b=$((BUSY1 - BUSY0)) -v t=$((TOTAL1 - TOTAL0)) 'BEGIN { printf "%.0f%%", t ? 100 * b / t : 0 }') of all CPUs busy in the 2 s before start, load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "background load: $BACKGROUND_TEXT"

# wrk script: requests sent, answers, non-2xx by status, printed by done().
cat >"$TMP/count.lua" <<'EOF'
-- Per thread: sent, answers, non2xx, seen ("502,504") and s<STATUS> = its count.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) sent = 0; answers = 0; non2xx = 0; seen = "" end
function request() sent = sent + 1; return wrk.request() end
function response(status, headers, body)
  answers = answers + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    local key = "s" .. status
    local n = _G[key]
    if n == nil then
      seen = seen == "" and tostring(status) or (seen .. "," .. status)
      n = 0
    end
    _G[key] = n + 1
  end
end
function done(summary, latency, requests)
  local s, a, n, by = 0, 0, 0, {}
  for _, t in ipairs(threads) do
    s = s + t:get("sent"); a = a + t:get("answers"); n = n + t:get("non2xx")
    for st in string.gmatch(t:get("seen") or "", "%d+") do
      by[st] = (by[st] or 0) + (t:get("s" .. st) or 0)
    end
  end
  local parts = {}
  for st, c in pairs(by) do table.insert(parts, st .. "x" .. c) end
  table.sort(parts)
  io.write(string.format("CHAOS sent=%d answers=%d non2xx=%d statuses=%s\n", s, a, n,
    #parts > 0 and table.concat(parts, " ") or "-"))
end
EOF

# Prints: requests sent answers non2xx wrk_non2xx3xx connect read write timeout p99_ms max_ms statuses...
parse_wrk() {
  awk '
    function ms(v,   n, u) {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") return n / 1000; if (u == "ms") return n; if (u == "s") return n * 1000
      if (u == "m") return n * 60000; return n
    }
    BEGIN { st = "-" }
    /^ +Latency +[0-9]/ { mx = ms($4) }
    /^ +99% / { p99 = ms($2) }
    / requests in / { req = $1 }
    /^ +Socket errors:/ { gsub(/,/, ""); c = $4; r = $6; w = $8; t = $10 }
    /^ +Non-2xx or 3xx responses:/ { n3 = $NF }
    /^CHAOS / {
      for (i = 2; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "sent") sent = kv[2]; else if (kv[1] == "answers") ans = kv[2]; else if (kv[1] == "non2xx") n2 = kv[2]
      }
      st = $0; sub(/.*statuses=/, "", st)
    }
    END { printf "%d %d %d %d %d %d %d %d %d %.1f %.1f %s\n", req, sent, ans, n2, n3, c, r, w, t, p99, mx, st }' "$1"
}

run_wrk() {  # SECONDS OUTFILE: wrk in the background against $PROXY_URL; sets WRK_PID
  # Bounded even if wrk hangs: timeout sends TERM 20 s late, KILL 5 s after that.
  timeout -k 5 $(($1 + 20)) wrk -t2 -c"$CONNS" -d"$1s" --timeout "${WRK_TIMEOUT}s" --latency \
    -s "$TMP/count.lua" "$PROXY_URL" >"$2" 2>&1 </dev/null &
  WRK_PID=$!
  PIDS+=("$WRK_PID")
  PID_NAME[$WRK_PID]=wrk
}

finish_wrk() {  # wait for $WRK_PID, then forget it
  wait "$WRK_PID" 2>/dev/null || log "wrk exited with status $? (see its output)"
  forget_pid "$WRK_PID"
}

# ---------------------------------------------------------------- backends ---
declare -A BPID=() BPORT=()

start_backend() {  # N: backend N on BPORT[N]; fails (no exit) when it cannot start
  local n=$1 i
  : >"$TMP/backend$n.log"
  start_bg "backend$n" "$BACKEND_BIN" "${BPORT[$n]}" --host 127.0.0.1 --id "backend$n"
  BPID[$n]=$LAST_PID
  for ((i = 0; i < 100; i++)); do
    if ! alive "${BPID[$n]}"; then
      log "backend$n on port ${BPORT[$n]} exited during start-up: $(tr '\n' ' ' <"$TMP/backend$n.log")"
      stop_pid "${BPID[$n]}"
      BPID[$n]=
      return 1
    fi
    grep -q 'listening on' "$TMP/backend$n.log" && break
    sleep 0.1
  done
  wait_http "backend$n" "${BPID[$n]}" "http://127.0.0.1:${BPORT[$n]}/health"
}

start_backends() {  # three fresh backends on free ports (a port taken meanwhile: another one)
  local n tries p
  for n in 1 2 3; do
    for ((tries = 0; tries < 5; tries++)); do
      read -r p < <(free_ports 1)
      BPORT[$n]=$p
      start_backend "$n" && break
    done
    [[ -n ${BPID[$n]} ]] || die "backend$n did not start on any of 5 free ports"
  done
}

stop_backends() {
  local n
  for n in 1 2 3; do
    if [[ -n ${BPID[$n]:-} ]]; then stop_pid "${BPID[$n]}" 5; fi
    BPID[$n]=
  done
}

sleep_until() {  # OFFSET: sleep until T0 + OFFSET seconds (T0 = wrk's start, $EPOCHREALTIME)
  local left
  left=$(awk -v t0="$T0" -v off="$1" -v now="$EPOCHREALTIME" 'BEGIN { d = t0 + off - now; printf "%.3f", (d > 0 ? d : 0) }')
  sleep "$left"
}
at() { awk -v d="$DURATION" -v s="$1" 'BEGIN { printf "%.2f", d * s / 30 }'; }  # scale a 30 s timeline

EVENTS=()
event() {  # TEXT: log it, with the time since wrk's start
  local rel
  rel=$(awk -v t0="$T0" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - t0 }')
  log "  t=${rel}s $1"
  EVENTS+=("t=${rel}s $1")
}

# ----------------------------------------------------------------- proxies ---
start_proxy() {  # PROXY: starts it in front of BPORT[1..3]; sets PROXY_PID, PROXY_URL (and ADMIN_PORT)
  local p=$1 port
  read -r port ADMIN_PORT < <(free_ports 2)
  PROXY_URL=http://127.0.0.1:$port/
  case $p in
    load_balancer)
      LB_ARGS=(--bind 127.0.0.1 --port "$port" --backend "http://127.0.0.1:${BPORT[1]}"
        --backend "http://127.0.0.1:${BPORT[2]}" --backend "http://127.0.0.1:${BPORT[3]}"
        --health-interval 0.5 --retries 1 --backend-timeout 2 --admin-port "$ADMIN_PORT" "${LB_EXTRA[@]}")
      "$LB_BIN" --check "${LB_ARGS[@]}" >"$TMP/lb-check.log" 2>&1 ||
        { cat "$TMP/lb-check.log" >&2; die "load_balancer refused its flags (LB_CHAOS_FLAGS='$LB_CHAOS_FLAGS')"; }
      start_bg load_balancer "$LB_BIN" "${LB_ARGS[@]}"
      ;;
    nginx)
      mkdir -p "$TMP/nginx"
      cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $TMP/nginx/error.log warn;
pid $TMP/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/client_body_temp;
  proxy_temp_path $TMP/nginx/proxy_temp;
  fastcgi_temp_path $TMP/nginx/fastcgi_temp;
  uwsgi_temp_path $TMP/nginx/uwsgi_temp;
  scgi_temp_path $TMP/nginx/scgi_temp;
  keepalive_requests 1000000;
  upstream backends {
    server 127.0.0.1:${BPORT[1]} max_fails=1 fail_timeout=5s;
    server 127.0.0.1:${BPORT[2]} max_fails=1 fail_timeout=5s;
    server 127.0.0.1:${BPORT[3]} max_fails=1 fail_timeout=5s;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_connect_timeout 1s;
      proxy_read_timeout 2s;
    }
  }
}
EOF
      start_bg nginx nginx -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf"
      ;;
    haproxy)
      cat >"$TMP/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  timeout connect 1s
  timeout server 2s
  timeout client 60s
  timeout http-request 10s
  timeout http-keep-alive 60s
  retries 1
  retry-on all-retryable-errors
  option redispatch
  http-reuse safe

frontend fe
  bind 127.0.0.1:$port
  default_backend be

backend be
  balance roundrobin
  option httpchk GET /health
  server s1 127.0.0.1:${BPORT[1]} check inter 500 fall 1 rise 1
  server s2 127.0.0.1:${BPORT[2]} check inter 500 fall 1 rise 1
  server s3 127.0.0.1:${BPORT[3]} check inter 500 fall 1 rise 1
EOF
      haproxy -c -q -f "$TMP/haproxy.cfg" >"$TMP/haproxy-check.log" 2>&1 ||
        { cat "$TMP/haproxy-check.log" >&2; die "haproxy rejected its configuration"; }
      start_bg haproxy haproxy -db -f "$TMP/haproxy.cfg"
      ;;
  esac
  PROXY_PID=$LAST_PID
  wait_http "$p" "$PROXY_PID" "$PROXY_URL"
  sleep 1.5  # health checks (every 0.5 s) see all three backends up
}

# ---------------------------------------------------- load_balancer counters ---
# Prints: answered relayed relayed_5xx failures sent active healthy
#   answered = Σ lb_responses_total (every response the LB sent a client, its own errors included)
#   relayed  = Σ lb_backend_requests_total (backend answers relayed, all classes); relayed_5xx = class="5xx"
#   failures = Σ lb_backend_failures_total; active = Σ lb_backend_active_requests;
#   healthy  = Σ lb_backend_healthy; sent = Σ backends[].requests of /status (requests sent to backends)
lb_counters() {
  python3 - "$ADMIN_PORT" <<'EOF'
import json, re, sys, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]
text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
status = json.loads(urllib.request.urlopen(base + "/status", timeout=5).read())
sums = {}
for line in text.splitlines():
    m = re.match(r'^([a-zA-Z_:]+)(\{[^}]*\})?\s+(\S+)$', line)
    if not m:
        continue
    name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
    sums[name] = sums.get(name, 0) + value
    if name == "lb_backend_requests_total" and 'class="5xx"' in labels:
        sums["relayed_5xx"] = sums.get("relayed_5xx", 0) + value
sent = sum(b.get("requests", 0) for b in status["backends"])
print("%d %d %d %d %d %d %d" % (sums.get("lb_responses_total", 0), sums.get("lb_backend_requests_total", 0),
      sums.get("relayed_5xx", 0), sums.get("lb_backend_failures_total", 0), sent,
      sums.get("lb_backend_active_requests", 0), sums.get("lb_backend_healthy", 0)))
EOF
}

lb_wait() {  # FIELD(6 = active, 7 = healthy) VALUE SECONDS: poll the counters until FIELD == VALUE
  local i c
  for ((i = 0; i < $3 * 5; i++)); do
    c=$(lb_counters 2>/dev/null || true)
    [[ -n $c && $(cut -d' ' -f"$1" <<<"$c") == "$2" ]] && return 0
    sleep 0.2
  done
  return 1
}

# --------------------------------------------------------------- scenario ---
declare -A ROW=() NOTE=()
OUTAGE_ROWS=()
NOTES=()

check_proxy() {  # PROXY WHEN
  if ! alive "$PROXY_PID"; then
    NOTES+=("**$1 (pid $PROXY_PID) died** during $2; last log lines: \`$(tail -5 "$TMP/$1.log" | tr '\n' ' ' | cut -c1-400)\`")
    log "$1 DIED during $2"
    return 1
  fi
}

outage() {  # KIND(frozen|refused): one total-outage phase for load_balancer
  local kind=$1 out=$OUT_DIR/chaos-load_balancer-outage-$1-wrk.txt n
  local req sent ans n2 n3 c r w t p99 mx st a0 l0 f0 s0 a1 l1 f1 s1
  if [[ $kind == frozen ]]; then
    for n in 2 3; do if [[ -n ${BPID[$n]} ]]; then kill -STOP "${BPID[$n]}"; fi; done
    log "outage (frozen): backend1 dead, backend2 and backend3 SIGSTOPped; wrk for ${OUTAGE}s"
  else
    for n in 1 2 3; do
      if [[ -n ${BPID[$n]} ]]; then kill_now "${BPID[$n]}"; BPID[$n]=; fi
    done
    log "outage (refused): every backend killed; wrk for ${OUTAGE}s"
  fi
  read -r a0 l0 _ f0 s0 _ _ < <(lb_counters || echo "0 0 0 0 0 0 0")
  T0=$EPOCHREALTIME
  run_wrk "$OUTAGE" "$out"
  finish_wrk
  # Requests still in flight to frozen backends end at the backend timeout: count them too.
  lb_wait 6 0 10 || NOTES+=("outage ($kind): requests were still in flight to backends 10 s after wrk ended")
  read -r a1 l1 _ f1 s1 _ _ < <(lb_counters || echo "0 0 0 0 0 0 0")
  if [[ $kind == frozen ]]; then
    for n in 2 3; do if [[ -n ${BPID[$n]} ]]; then kill -CONT "${BPID[$n]}"; fi; done
  fi
  read -r req sent ans n2 n3 c r w t p99 mx st < <(parse_wrk "$out")
  OUTAGE_ROWS+=("$(awk -v k="$kind" -v sent="$sent" -v ans="$ans" -v a=$((a1 - a0)) -v s=$((s1 - s0)) \
    -v l=$((l1 - l0)) -v f=$((f1 - f0)) -v c="$c" -v r="$r" -v w="$w" -v t="$t" -v st="$st" -v p99="$p99" 'BEGIN {
      printf "| %s | %d | %d | %d | %s | %d | %d | %s | %d/%d/%d/%d | %.0f ms |\n", k, sent, a, s,
        a ? sprintf("%.6f", s / a) : "n/a", l, f, st, c, r, w, t, p99 }')")
  log "  outage ($kind): wrk sent $sent, LB answered $((a1 - a0)), sent to backends $((s1 - s0)), backend failures $((f1 - f0)), statuses $st"
}

run_proxy() {  # PROXY: the whole scenario against one proxy, fresh backends
  local p=$1 n
  local out=$OUT_DIR/chaos-$p-wrk.txt
  local req sent ans n2 n3 c r w t p99 mx st lost
  : >"$TMP/$p.log"
  start_backends
  start_proxy "$p"
  log "$p: pid $PROXY_PID on $PROXY_URL, backends ${BPORT[1]} ${BPORT[2]} ${BPORT[3]} (pids ${BPID[1]} ${BPID[2]} ${BPID[3]}); wrk for ${DURATION}s"
  EVENTS=()
  T0=$EPOCHREALTIME
  run_wrk "$DURATION" "$out"
  sleep_until "$(at 5)"
  kill_now "${BPID[1]}"
  event "SIGKILL backend1 (pid ${BPID[1]})"
  sleep_until "$(at 8)"
  if start_backend 1; then
    event "backend1 restarted on port ${BPORT[1]} (pid ${BPID[1]})"
  else
    event "backend1 could NOT be restarted on port ${BPORT[1]} (stays dead)"
    NOTES+=("$p: backend1 could not be restarted on port ${BPORT[1]}: $(tr '\n' ' ' <"$TMP/backend1.log" | cut -c1-200)")
  fi
  sleep_until "$(at 12)"
  kill -STOP "${BPID[2]}"
  event "SIGSTOP backend2 (pid ${BPID[2]})"
  sleep_until "$(at 17)"
  kill -CONT "${BPID[2]}"
  event "SIGCONT backend2"
  sleep_until "$(at 22)"
  if [[ -n ${BPID[1]} ]]; then
    kill_now "${BPID[1]}"
    event "SIGKILL backend1 again (pid ${BPID[1]}), stays dead"
    BPID[1]=
  fi
  finish_wrk
  check_proxy "$p" "the chaos run" || true

  read -r req sent ans n2 n3 c r w t p99 mx st < <(parse_wrk "$out")
  lost=$((n2 + c + r + w + t))
  ROW[$p]=$(awk -v p="$p" -v req="$req" -v lost="$lost" -v n2="$n2" -v c="$c" -v r="$r" -v w="$w" -v t="$t" \
    -v st="$st" -v p99="$p99" -v mx="$mx" -v sent="$sent" -v ans="$ans" 'BEGIN {
      printf "| %s | %d | %d | %d | %d | %s | %s | %d/%d/%d/%d | %d | %.0f / %.0f ms |\n", p, req, lost, n2, c + r + w + t,
        req ? sprintf("%.0f", lost * 100000 / req) : "n/a", st, c, r, w, t, sent - ans, p99, mx }')
  log "$p: $req requests, lost $lost (non-2xx $n2: $st; socket errors connect/read/write/timeout $c/$r/$w/$t)"
  if ((n3 != n2)); then NOTES+=("$p: wrk counted $n3 'Non-2xx or 3xx' (status > 399) vs $n2 non-2xx counted by the Lua script"); fi
  NOTE[$p]="${EVENTS[*]}"

  if [[ $p == load_balancer ]] && alive "$PROXY_PID"; then
    lb_wait 7 2 10 || NOTES+=("load_balancer did not report backend2 and backend3 healthy again within 10 s before the outage phase")
    outage frozen
    if lb_wait 7 2 15; then
      log "  backend2 and backend3 healthy again after SIGCONT"
    else
      NOTES+=("load_balancer did not report backend2 and backend3 healthy within 15 s of SIGCONT; 'refused' starts anyway")
    fi
    outage refused
    check_proxy "$p" "the outage phases" || true
    cp "$TMP/load_balancer.log" "$OUT_DIR/chaos-load_balancer.log"
  fi

  case $p in
    load_balancer) cp "$TMP/load_balancer.log" "$OUT_DIR/chaos-load_balancer.log" ;;
    nginx) cp "$TMP/nginx/error.log" "$OUT_DIR/chaos-nginx-error.log" ;;
    haproxy) cp "$TMP/haproxy.log" "$OUT_DIR/chaos-haproxy.log" ;;
  esac
  stop_pid "$PROXY_PID" 10
  stop_backends
}

for p in "${PROXIES[@]}"; do run_proxy "$p"; done

# ----------------------------------------------------------------- report ---
ELAPSED=$((SECONDS - START_SECONDS))
{
  echo "# Failover chaos run"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took ${ELAPSED} s"
  echo "- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo); $BACKGROUND_TEXT"
  echo "- versions: load_balancer $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') ($LB_BIN), $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(haproxy -v 2>&1 | head -1 | sed 's/ - https.*//'), $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')"
  echo "- load: \`wrk -t2 -c$CONNS -d${DURATION}s --timeout ${WRK_TIMEOUT}s\`, keep-alive GET / through each proxy to three fresh backend_server processes"
  echo "- chaos (from wrk's start): t=$(at 5)s SIGKILL backend1; t=$(at 8)s restart it on its port; t=$(at 12)s SIGSTOP backend2; t=$(at 17)s SIGCONT backend2; t=$(at 22)s SIGKILL backend1 (stays dead)"
  echo "- load_balancer: \`--health-interval 0.5 --retries 1 --backend-timeout 2\`; extra flags (LB_CHAOS_FLAGS): \`${LB_CHAOS_FLAGS:-none}\`"
  echo "- nginx: 1 worker, keepalive 32, max_fails=1 fail_timeout=5s, proxy_next_upstream error timeout http_502 http_503 http_504 (tries every server), connect 1s, read 2s"
  echo "- haproxy: nbthread 1, httpchk GET /health inter 500 fall 1 rise 1, retries 1, retry-on all-retryable-errors, redispatch, timeout server 2s, connect 1s, http-reuse safe"
  echo "- lost = non-2xx answers + socket errors; lost per 100k = lost / requests × 100,000, requests = responses wrk completed;"
  echo "  sent − answered = requests the Lua script saw sent without an answer (broken connections, and those in flight when wrk stopped)"
  echo
  echo "| proxy | requests | lost (total) | non-2xx | socket errors | lost per 100k | non-2xx by status | connect/read/write/timeout | sent − answered | p99 / max latency |"
  echo "|---|---:|---:|---:|---:|---:|---|---|---:|---:|"
  for p in "${PROXIES[@]}"; do echo "${ROW[$p]:-| $p | n/a | | | | | | | | |}"; done
  if [[ " ${PROXIES[*]} " == *" load_balancer "* ]]; then
    echo
    echo "## Total outage, load_balancer only (wrk -c$CONNS for ${OUTAGE}s each)"
    echo
    echo "- frozen: backend1 dead, backend2 and backend3 SIGSTOPped (connections accepted by the kernel, never answered); refused: all three killed"
    echo "- answered = Δ Σ \`lb_responses_total\` (every response the LB sent, its own 502/503/504 included: the requests it received and answered);"
    echo "  sent to backends = Δ Σ \`requests\` of the admin /status backends (Backend::requests_total, one per backend attempt);"
    echo "  ratio = sent to backends / answered; backend answers = Δ Σ \`lb_backend_requests_total\`, backend failures = Δ Σ \`lb_backend_failures_total\`"
    echo "  (counters read after in-flight requests, \`lb_backend_active_requests\`, dropped to 0)"
    echo
    echo "| outage | wrk sent | answered | sent to backends | ratio | backend answers | backend failures | client statuses | connect/read/write/timeout | p99 |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|---|---:|"
    if ((${#OUTAGE_ROWS[@]})); then printf '%s\n' "${OUTAGE_ROWS[@]}"; else echo "| n/a (load_balancer died) | | | | | | | | | |"; fi
  fi
  echo
  echo "## Notes"
  echo
  for p in "${PROXIES[@]}"; do echo "- $p timeline: ${NOTE[$p]:-n/a}"; done
  for n in "${NOTES[@]}"; do echo "- $n"; done
  echo "- raw wrk outputs and proxy logs: ${OUT_DIR#"$ROOT"/}/chaos-*"
} >"$TMP/results.md"

cp "$TMP/results.md" "$RESULTS"
cat "$RESULTS"
log "results in ${RESULTS#"$ROOT"/} (took ${ELAPSED} s)"
