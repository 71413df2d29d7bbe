# Sourced by bench.sh: processes, CPU accounting, and the load generators' output.
#
# Expects TMP, PIDS, PID_NAME, PIN_SERVER (arrays) and log/die from the caller.

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

alive() { kill -0 "$1" 2>/dev/null; }

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

status_kb() {  # PID FIELD (VmRSS, VmHWM, Threads): value from /proc/PID/status
  awk -v f="$2:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# Machine-wide CPU ticks from /proc/stat: "busy total".
# Busy = user + nice + system + steal. IRQ and softirq time (here: the loopback
# network stack, ~25% of the machine under wrk) is charged to no process, so
# it is left out of "busy" as it is left out of every process's CPU time.
machine_ticks() { awk '/^cpu / { b = $2 + $3 + $4 + $9; print b, b + $5 + $6 + $7 + $8 }' /proc/stat; }

# CHILD_SECONDS = CPU seconds of this shell's finished children (wrk, ab). `times`
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

wait_http() {  # NAME PID URL: until GET answers 200
  local i
  for ((i = 0; i < 100; i++)); do
    alive "$2" || { cat "$TMP/$1.log" >&2; die "$1 exited during start-up"; }
    [[ $(curl -sk -o /dev/null -m 1 -w '%{http_code}' "$3" || true) == 200 ]] && return 0
    sleep 0.1
  done
  cat "$TMP/$1.log" >&2
  die "$1 did not answer 200 on $3 within 10 s"
}

wait_line() {  # NAME PID PATTERN: until the log has the line
  local i
  for ((i = 0; i < 300; i++)); do
    grep -qs -- "$3" "$TMP/$1.log" && return 0
    alive "$2" || { cat "$TMP/$1.log" >&2; die "$1 exited during start-up"; }
    sleep 0.1
  done
  cat "$TMP/$1.log" >&2
  die "$1 did not print '$3' within 30 s"
}

# Both print: requests rps p50_ms p99_ms errors (errors = non-2xx/3xx + socket errors)
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
parse_ab() {  # ab's percentiles are whole milliseconds
  awk '
    /^Complete requests:/ { req = $3 }
    /^Failed requests:/ { failed = $3 }
    /^Non-2xx responses:/ { n2 = $3 }
    /^Requests per second:/ { rps = $4 }
    /^ +50% / { p50 = $2 }
    /^ +99% / { p99 = $2 }
    END { printf "%d %.2f %.3f %.3f %d\n", req, rps, p50, p99, failed + n2 }' "$1"
}

parse_h2load() {  # OUTPUT LOG: h2load's summary, and its per-request log (start, status, microseconds)
  local p50 p99
  read -r p50 p99 < <(cut -f3 "$2" 2>/dev/null | sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan"; exit }
    i = int(NR * 0.5); j = int(NR * 0.99)
    if (i < 1) i = 1
    if (j < 1) j = 1
    printf "%.3f %.3f\n", v[i] / 1000, v[j] / 1000 }')
  awk -v p50="$p50" -v p99="$p99" '
    /^finished in/ { for (i = 1; i <= NF; ++i) if ($(i + 1) ~ /^req\/s/) rps = $i }
    /^requests:/ { ok = $8; failed = $10; errored = $12 }
    END { gsub(",", "", rps); printf "%d %.2f %s %s %d\n", ok, rps, p50, p99, failed + errored }' "$1"
}

tree_kb() {  # PID FIELD: status_kb summed over PID's process tree (nginx's workers too)
  local sum=0 p
  for p in $(process_tree "$1"); do sum=$((sum + $(status_kb "$p" "$2"))); done
  echo "$sum"
}
