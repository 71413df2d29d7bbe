# Processes this script starts: each in its own process group (setsid), its PID
# remembered with a name and a log file; a liveness test that a zombie fails;
# stopping by PID and process group, SIGTERM first and SIGKILL after a bounded wait.
# Messages go through the caller's log function (one line to stderr).
# shellcheck shell=bash
#
#   start_process NAME LOG CMD...  CMD in the background in a new session and process
#                                  group, stdin /dev/null, stdout and stderr to LOG
#                                  (emptied first; LOG "" keeps this shell's); sets LAST_PID
#   track_process PID NAME [LOG]   remember a child started otherwise, to stop it on exit
#   process_alive PID              true while PID runs (false once gone or a zombie)
#   stop_process PID [GRACE]       SIGCONT (it may be frozen) and SIGTERM to its group,
#                                  up to GRACE s (default 10), then SIGKILL; reaps, forgets;
#                                  sets PROCESS_STATUS to its exit status
#   kill_process_now PID           SIGKILL to its group now (a crash, not a shutdown); reaps, forgets
#   forget_process PID             reaped by the caller: no longer ours to signal
#   stop_all_processes [GRACE]     everything still remembered, newest first (for an EXIT trap)
#
# Only the group of a process start_process started is signalled (it leads its
# own); a child given to track_process is signalled alone. stop_process also
# waits for, and kills, what is left of a group after its leader exited
# (nginx's or Apache's workers).

PIDS=()  # every process we started and have not reaped yet, oldest first
declare -gA PROCESS_NAME=() PROCESS_LOG=() PROCESS_LEADS_GROUP=()

start_process() {
  local name=$1 log=$2
  shift 2
  if [[ -n $log ]]; then
    setsid "$@" >"$log" 2>&1 </dev/null &
  else
    setsid "$@" </dev/null &
  fi
  LAST_PID=$!
  track_process "$LAST_PID" "$name" "$log"
  # setsid forks (and $! is not CMD) only in a process group leader, which a
  # background child of a shell without job control never is.
  PROCESS_LEADS_GROUP[$LAST_PID]=1
}

track_process() {
  PIDS+=("$1")
  PROCESS_NAME[$1]=$2
  # shellcheck disable=SC2034  # read by wait.sh and the caller
  PROCESS_LOG[$1]=${3:-}
}

forget_process() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
  unset "PROCESS_NAME[$1]" "PROCESS_LOG[$1]" "PROCESS_LEADS_GROUP[$1]"
}

# True while PID runs: its state in /proc/PID/stat is not Z (kill -0 succeeds
# on a zombie). Not $(<file): under set -e, bash 5.2 exits when that file is missing.
process_alive() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }  # after "(command name) ": state ppid pgrp ...
  [[ ${stat%% *} != Z ]]
}

# True while some process of group PGID runs (zombies do not count: where
# nothing reaps orphans, kill -0 would find them forever).
process_group_alive() {
  local f stat state group
  kill -0 -- "-$1" 2>/dev/null || return 1
  for f in /proc/[0-9]*/stat; do
    { read -r stat <"$f"; } 2>/dev/null || continue
    read -r state _ group _ <<<"${stat##*) }"
    [[ $group == "$1" && $state != Z ]] && return 0
  done
  return 1
}

# signal_process SIGNAL PID: to PID's whole group when start_process started it,
# else (or when the group is not there yet: just forked, before setsid) to PID alone.
signal_process() {
  if [[ -n ${PROCESS_LEADS_GROUP[$2]:-} ]] && kill "-$1" -- "-$2" 2>/dev/null; then return 0; fi
  kill "-$1" "$2" 2>/dev/null
}

process_or_group_alive() {  # PID
  process_alive "$1" || { [[ -n ${PROCESS_LEADS_GROUP[$1]:-} ]] && process_group_alive "$1"; }
}

stop_process() {
  local pid=$1 grace=${2:-10} i
  if process_or_group_alive "$pid"; then
    signal_process CONT "$pid" || true
    signal_process TERM "$pid" || true
    for ((i = 0; i < grace * 10; i++)); do
      process_or_group_alive "$pid" || break
      sleep 0.1
    done
    if process_or_group_alive "$pid"; then
      log "${PROCESS_NAME[$pid]:-pid $pid} did not stop within ${grace}s of SIGTERM; sending SIGKILL"
      signal_process KILL "$pid" || true
    fi
  fi
  PROCESS_STATUS=0
  # shellcheck disable=SC2034  # read by the caller
  wait "$pid" 2>/dev/null || PROCESS_STATUS=$?
  forget_process "$pid"
}

kill_process_now() {
  signal_process KILL "$1" || true
  wait "$1" 2>/dev/null || true
  forget_process "$1"
}

stop_all_processes() {
  local grace=${1:-10} i
  # Thaw them all first: a process that is stopped cannot act on SIGTERM.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do signal_process CONT "${PIDS[$i]}" || true; done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_process "${PIDS[$i]}" "$grace"; done
}
