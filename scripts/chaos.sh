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
# exit, by PID and process group (SIGCONT first, for frozen ones).
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
CHAOS_DIR=$ROOT/scripts/chaos  # count.lua (the wrk script), lb_counters.py
# shellcheck source=lib/all.sh
source "$ROOT/scripts/lib/all.sh"
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
clean_up_on_exit 10 lb-chaos  # TMP, and every process stopped on exit (scripts/lib/cleanup.sh)

# ------------------------------------------------------------ dependencies ---
PATH=$PATH:/usr/sbin:/sbin  # nginx and haproxy live in /usr/sbin
mapfile -t NEED < <(packages_for_missing_commands wrk=wrk nginx=NGINX haproxy=haproxy curl=curl python3=python3)
apt_install_quietly "${NEED[@]}"
require_commands wrk nginx haproxy curl python3 timeout || exit 1

# --------------------------------------------------------------- helpers ---
measure_background_load
log "background load: $BACKGROUND_TEXT"

run_wrk() {  # SECONDS OUTFILE: wrk in the background against $PROXY_URL; sets WRK_PID
  # Bounded even if wrk hangs: timeout sends TERM 20 s late, KILL 5 s after that.
  start_process wrk "$2" timeout -k 5 $(($1 + 20)) wrk -t2 -c"$CONNS" -d"$1s" --timeout "${WRK_TIMEOUT}s" --latency \
    -s "$CHAOS_DIR/count.lua" "$PROXY_URL"
  WRK_PID=$LAST_PID
}

finish_wrk() {  # wait for $WRK_PID, then forget it
  wait "$WRK_PID" 2>/dev/null || log "wrk exited with status $? (see its output)"
  forget_process "$WRK_PID"
}

# ---------------------------------------------------------------- backends ---
declare -A BPID=() BPORT=()

start_backend() {  # N: backend N on BPORT[N]; fails (no exit) when it exits during start-up
  local n=$1 status=0
  start_process "backend$n" "$TMP/backend$n.log" "$BACKEND_BIN" "${BPORT[$n]}" --host 127.0.0.1 --id "backend$n"
  BPID[$n]=$LAST_PID
  # Either way wait_for_http_200 has said why (with the backend's log).
  wait_for_http_200 "${BPID[$n]}" "http://127.0.0.1:${BPORT[$n]}/health" 10 || status=$?
  ((status != 2)) || exit 1  # alive but not answering
  if ((status)); then        # exited (its port taken?)
    stop_process "${BPID[$n]}"
    BPID[$n]=
    return 1
  fi
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
    if [[ -n ${BPID[$n]:-} ]]; then stop_process "${BPID[$n]}" 5; fi
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
      start_process load_balancer "$TMP/load_balancer.log" "$LB_BIN" "${LB_ARGS[@]}"
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
      start_process nginx "$TMP/nginx.log" nginx -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf"
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
      start_process haproxy "$TMP/haproxy.log" haproxy -db -f "$TMP/haproxy.cfg"
      ;;
  esac
  PROXY_PID=$LAST_PID
  wait_for_http_200 "$PROXY_PID" "$PROXY_URL" 10 || exit 1
  sleep 1.5  # health checks (every 0.5 s) see all three backends up
}

# ---------------------------------------------------- load_balancer counters ---
# Prints: answered relayed relayed_5xx failures sent active healthy (see lb_counters.py)
lb_counters() { python3 "$CHAOS_DIR/lb_counters.py" "$ADMIN_PORT"; }

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
  if ! process_alive "$PROXY_PID"; then
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
      if [[ -n ${BPID[$n]} ]]; then kill_process_now "${BPID[$n]}"; BPID[$n]=; fi
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
  read -r req _ _ p99 _ mx n3 c r w t < <(parse_wrk "$out")
  read -r sent ans n2 st < <(parse_wrk_lua_counts "$out")
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
  start_backends
  start_proxy "$p"
  log "$p: pid $PROXY_PID on $PROXY_URL, backends ${BPORT[1]} ${BPORT[2]} ${BPORT[3]} (pids ${BPID[1]} ${BPID[2]} ${BPID[3]}); wrk for ${DURATION}s"
  EVENTS=()
  T0=$EPOCHREALTIME
  run_wrk "$DURATION" "$out"
  sleep_until "$(at 5)"
  kill_process_now "${BPID[1]}"
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
    kill_process_now "${BPID[1]}"
    event "SIGKILL backend1 again (pid ${BPID[1]}), stays dead"
    BPID[1]=
  fi
  finish_wrk
  check_proxy "$p" "the chaos run" || true

  read -r req _ _ p99 _ mx n3 c r w t < <(parse_wrk "$out")
  read -r sent ans n2 st < <(parse_wrk_lua_counts "$out")
  lost=$((n2 + c + r + w + t))
  ROW[$p]=$(awk -v p="$p" -v req="$req" -v lost="$lost" -v n2="$n2" -v c="$c" -v r="$r" -v w="$w" -v t="$t" \
    -v st="$st" -v p99="$p99" -v mx="$mx" -v sent="$sent" -v ans="$ans" 'BEGIN {
      printf "| %s | %d | %d | %d | %d | %s | %s | %d/%d/%d/%d | %d | %.0f / %.0f ms |\n", p, req, lost, n2, c + r + w + t,
        req ? sprintf("%.0f", lost * 100000 / req) : "n/a", st, c, r, w, t, sent - ans, p99, mx }')
  log "$p: $req requests, lost $lost (non-2xx $n2: $st; socket errors connect/read/write/timeout $c/$r/$w/$t)"
  if ((n3 != n2)); then NOTES+=("$p: wrk counted $n3 'Non-2xx or 3xx' (status > 399) vs $n2 non-2xx counted by the Lua script"); fi
  NOTE[$p]="${EVENTS[*]}"

  if [[ $p == load_balancer ]] && process_alive "$PROXY_PID"; then
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
  stop_process "$PROXY_PID" 10
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
