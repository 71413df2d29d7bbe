# Waiting, bounded, for a process started with processes.sh to be ready: its TCP
# port accepting, its URL answering 200, or a line in its log. Each gives up
# early when the process exits, and says on stderr what it waited for and why it
# stopped (with the end of the process's log); then returns 1 (exited) or 2 (timed out).
# shellcheck shell=bash
#
#   wait_for_port PID PORT [SECONDS]         127.0.0.1:PORT accepts a connection (default 20 s)
#   wait_for_http_200 PID URL [SECONDS]      GET URL answers 200, TLS unchecked (default 10 s)
#   wait_for_log_line PID PATTERN [SECONDS]  grep finds PATTERN in its log (default 30 s)

# wait_until PID SECONDS WHAT CHECK...: runs CHECK every 0.1 s, SECONDS × 10 times at most,
# until it succeeds.
wait_until() {
  local pid=$1 seconds=$2 what=$3 i
  shift 3
  for ((i = 0; i < seconds * 10; i++)); do
    # Alive first: a process that exited (its port taken?) must not pass because another program answers there.
    if ! process_alive "$pid"; then
      wait_failed "$pid" "${PROCESS_NAME[$pid]:-pid $pid} (pid $pid) exited while waiting for $what"
      return 1
    fi
    "$@" && return 0
    sleep 0.1
  done
  wait_failed "$pid" "timed out after $seconds s waiting for $what (${PROCESS_NAME[$pid]:-pid $pid}, pid $pid)"
  return 2
}

wait_failed() {  # PID MESSAGE
  local log=${PROCESS_LOG[$1]:-}
  echo "${0##*/}: $2" >&2
  if [[ -n $log && -s $log ]]; then
    echo "--- last lines of $log:" >&2
    tail -n 20 "$log" >&2
  elif [[ -z $log ]]; then
    echo "(its own messages, if any, are above)" >&2
  fi
}

port_accepts() {  # PORT: a TCP connection to 127.0.0.1:PORT succeeds
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

answers_200() {  # URL
  [[ $(curl -sk -o /dev/null -m 1 -w '%{http_code}' "$1" || true) == 200 ]]
}

log_has_line() {  # PID PATTERN
  grep -qs -- "$2" "${PROCESS_LOG[$1]:-/dev/null}"
}

wait_for_port() {
  wait_until "$1" "${3:-20}" "127.0.0.1:$2 to accept connections" port_accepts "$2"
}

wait_for_http_200() {
  wait_until "$1" "${3:-10}" "$2 to answer 200" answers_200 "$2"
}

wait_for_log_line() {
  wait_until "$1" "${3:-30}" "'$2' in ${PROCESS_LOG[$1]:-its log}" log_has_line "$1" "$2"
}
