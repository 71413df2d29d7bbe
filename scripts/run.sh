#!/usr/bin/env bash
# The tutorial's whole demo in one command: installs what is missing, builds,
# then runs three backends on 8001-8003 and the load balancer on 8000 in front
# of them. Extra arguments go to the load balancer, e.g.
#   scripts/run.sh --algorithm least-connections --admin-port 9000
# Workshop mode adds the admin server and dashboard on 9000, settings that
# make failures visible, and light traffic (scripts/traffic.sh), so a room can
# break backends from the dashboard and watch every request decide:
#   scripts/run.sh --workshop
# Ctrl+C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

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

pids=()
stop_all() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_all EXIT
trap 'echo; echo "Stopping..."; exit 0' INT TERM

# Waits (up to 20 s) until 127.0.0.1:$1 accepts connections; fails early if
# process $2 has exited (for example because the port was busy).
wait_for_port() {
  local port=$1 pid=$2
  for _ in $(seq 200); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: the process for port $port exited; see its message above" >&2
      return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "run.sh: nothing listening on port $port after 20 s" >&2
  return 1
}

for port in "${BACKEND_PORTS[@]}"; do
  "$BIN/backend_server" "$port" &
  pids+=($!)
done
for i in "${!BACKEND_PORTS[@]}"; do
  wait_for_port "${BACKEND_PORTS[$i]}" "${pids[$i]}"
done

for port in "${BACKEND_PORTS[@]}"; do
  lb_flags+=(--backend "http://127.0.0.1:$port")
done
"$BIN/load_balancer" "${lb_flags[@]}" ${args[@]+"${args[@]}"} &
lb_pid=$!
pids+=("$lb_pid")
wait_for_port "$lb_port" "$lb_pid"

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
  scripts/traffic.sh "$scheme://127.0.0.1:$lb_port" 4 &
  pids+=($!)
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
wait -n "${pids[@]}"
status=$?
set -e
echo "run.sh: a process exited (status $status); stopping the rest" >&2
exit "$status"
