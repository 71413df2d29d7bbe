#!/usr/bin/env bash
# The tutorial's whole demo in one command: installs what is missing, builds,
# then runs three backends on 8001-8003 and the load balancer on 8000 in front
# of them. Extra arguments go to the load balancer, e.g.
#   scripts/run.sh --algorithm least-connections --admin-port 9000
# Workshop mode adds the admin server and dashboard on 9000, settings that
# make failures visible, and light traffic (scripts/traffic.sh), so a room can
# break backends from the dashboard and watch every request decide:
#   scripts/run.sh --workshop
# Ctrl+C stops everything this script started. `scripts/run.sh --help` prints
# this text; build/bin/load_balancer --help lists the load balancer's flags.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/processes.sh
source scripts/lib/processes.sh
# shellcheck source=lib/wait.sh
source scripts/lib/wait.sh
# shellcheck disable=SC2317  # called by scripts/lib/processes.sh
log() { echo "run.sh: $*" >&2; }

for arg in "$@"; do
  if [[ "$arg" == -h || "$arg" == --help ]]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' scripts/run.sh
    exit 0
  fi
done

scripts/deps.sh
scripts/build.sh build

BIN=build/bin
BACKEND_PORTS=(8001 8002 8003)

# The load balancer's port and scheme, as the extra arguments set them;
# --workshop is ours, the rest go to the load balancer.
lb_port=8000
port_given=no
admin_given=no
admin_port=9000
workshop=no
scheme=http
args=()
for arg in "$@"; do
  if [[ "$arg" == --workshop ]]; then workshop=yes; else args+=("$arg"); fi
done
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    -p | --port) lb_port="${args[$((i + 1))]:-8000}"; port_given=yes ;;
    --port=*) lb_port="${args[$i]#--port=}"; port_given=yes ;;
    --admin-port) admin_port="${args[$((i + 1))]:-9000}"; admin_given=yes ;;
    --admin-port=*) admin_port="${args[$i]#--admin-port=}"; admin_given=yes ;;
    --tls-cert | --tls-cert=*) scheme=https ;;
  esac
done
lb_flags=()
if [[ "$port_given" == no ]]; then
  lb_flags+=(--port 8000)
fi
if [[ "$workshop" == yes ]]; then
  # Quick health checks, a try timeout below the "slow 500 ms" button, and a
  # breaker that a few requests a second can open: every failure shows.
  [[ "$admin_given" == no ]] && lb_flags+=(--admin-port 9000)
  lb_flags+=(--health-interval 1 --try-timeout 0.4 --backend-timeout 5 --cb-min-requests 6 --cb-open-seconds 10
             --trace-header)
fi

# Every program below runs in its own process group and writes to this
# terminal; on exit each gets SIGTERM (its whole group), SIGKILL after 10 s.
# shellcheck disable=SC2317  # called by the EXIT trap
stop_all() {
  trap - EXIT INT TERM
  stop_all_processes 10
}
trap stop_all EXIT
trap 'echo; echo "Stopping..."; exit 0' INT TERM

backend_pids=()
for port in "${BACKEND_PORTS[@]}"; do
  start_process "backend_server $port" "" "$BIN/backend_server" "$port"
  backend_pids+=("$LAST_PID")
done
# Up to 20 s each; a program that exits first (its port busy?) fails the run.
for i in "${!BACKEND_PORTS[@]}"; do
  wait_for_port "${backend_pids[$i]}" "${BACKEND_PORTS[$i]}" 20 || exit 1
done

for port in "${BACKEND_PORTS[@]}"; do
  lb_flags+=(--backend "http://127.0.0.1:$port")
done
start_process load_balancer "" "$BIN/load_balancer" "${lb_flags[@]}" ${args[@]+"${args[@]}"}
wait_for_port "$LAST_PID" "$lb_port" 20 || exit 1

curl_flags=""
[[ "$scheme" == https ]] && curl_flags="-k "
cat <<HELP

Load balancer: $scheme://localhost:$lb_port  ->  backends on ports ${BACKEND_PORTS[*]}

Try it in another terminal:
  curl ${curl_flags}$scheme://localhost:$lb_port/                     # run it a few times: 8001, 8002, 8003, ...
  curl ${curl_flags}-X POST -d 'hello' $scheme://localhost:$lb_port/submit
  curl ${curl_flags}"$scheme://localhost:$lb_port/slow?ms=2000"       # a slow response
  curl -X POST http://localhost:8002/health/fail      # take 8002 out of rotation
  curl -X POST http://localhost:8002/health/recover   # and back in
  curl http://localhost:8002/health

Press Ctrl+C to stop everything.
HELP

if [[ "$workshop" == yes ]]; then
  start_process traffic.sh "" scripts/traffic.sh "$scheme://127.0.0.1:$lb_port" 4
  cat <<WORKSHOP
Workshop mode: about 4 requests a second are flowing (scripts/traffic.sh).

  Dashboard:  http://localhost:$admin_port/

Break it: on a backend's card press "Errors 50%", "Slow 500 ms" or "Fail health",
and watch the request view say what the load balancer decided for each request:
retries, the circuit opening, the backend leaving rotation. "Clear" mends it.
WORKSHOP
fi

# Until Ctrl+C, or until any of the programs exits on its own.
set +e
wait -n "${PIDS[@]}"
status=$?
set -e
echo "run.sh: a process exited (status $status); stopping the rest" >&2
exit "$status"
