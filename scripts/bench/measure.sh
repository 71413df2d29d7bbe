# Sourced by bench.sh: CPU and memory accounting of the processes it measures
# (a proxy's whole process tree), and the median of a column of numbers.
#
# Expects TMP from the caller.
# shellcheck shell=bash

# PID and every process below it: nginx's and Apache's workers, Varnish's child.
process_tree() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      inside[root] = 1; print root
      do { added = 0; for (p in parent) if (!(p in inside) && (parent[p] in inside)) { inside[p] = 1; print p; added = 1 } } while (added)
    }'
}

# utime+stime of PID's whole process tree (all threads), in clock ticks. A
# worker that exited during the run takes its ticks with it; the peers here
# keep their workers for the whole run.
cpu_ticks() {
  local sum=0 p rest
  for p in $(process_tree "$1"); do
    rest=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    rest=${rest##*) }
    sum=$((sum + $(awk '{ print $12 + $13 }' <<<"$rest")))
  done
  echo "$sum"
}

# Nanoseconds the threads of each PID's process tree have spent runnable but
# waiting for a CPU (the second field of /proc/<pid>/task/<tid>/schedstat),
# one sum per PID on one line. Threads that exit take theirs with them, so the
# bench samples within a keep-alive run, where no thread comes or goes.
run_queue_sums() {
  local p sum q
  for p in "$@"; do
    sum=0
    for q in $(process_tree "$p"); do
      sum=$((sum + $(cat /proc/"$q"/task/*/schedstat 2>/dev/null | awk '{ s += $2 } END { printf "%.0f", s }')))
    done
    printf '%s ' "$sum"
  done
  echo
}

status_kb() {  # PID FIELD (VmRSS, VmHWM, Threads): value from /proc/PID/status
  awk -v f="$2:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# CHILD_SECONDS = CPU seconds of this shell's finished children (wrk, ab). `times`
# must run in this shell: in a $(...) subshell it would report the subshell's.
children_seconds() {
  times >"$TMP/times"
  # shellcheck disable=SC2034  # read by bench.sh
  CHILD_SECONDS=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } print s }' "$TMP/times")
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

tree_kb() {  # PID FIELD: status_kb summed over PID's process tree (nginx's workers too)
  local sum=0 p
  for p in $(process_tree "$1"); do sum=$((sum + $(status_kb "$p" "$2"))); done
  echo "$sum"
}
