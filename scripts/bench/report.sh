# Sourced by bench.sh: write_report prints the markdown results: the rows, the
# performance goals (the README's Performance section) as met or not, the extras
# and notes.
#
# Expects RAW (row target round requests rps p50 p99 errors cpu other all
# waiting_proxy waiting_backends waiting_client),
# ROWS, TARGETS, TLS_TARGETS, DEAD, NOTES, EXTRA_ROWS and the run's settings.
# shellcheck shell=bash

row_title() {
  case ${1%%:*} in
    ka) echo "keep-alive, ${1#*:} connections (wrk)" ;;
    new) echo "a new connection per request, ab -c ${1#*:}" ;;
    tls-ka) echo "TLS keep-alive, ${1#*:} connections (wrk)" ;;
    tls-new) echo "a new TLS connection (full handshake) per request, ab -c ${1#*:}" ;;
    tls-burst) echo "a burst of ${1#*:} new TLS connections, one request each (h2load --h1)" ;;
    h2) echo "HTTP/2 over TLS, ${1#*:} streams (h2load, 8 connections)" ;;
  esac
}

# Median over the rounds of column K (5 rps, 6 p50, 7 p99, 9 cpu, 11 all) for ROW TARGET.
cell() {
  awk -F'\t' -v r="$1" -v t="$2" -v k="$3" 'NR > 1 && $1 == r && $2 == t && $k != "nan" { print $k }' "$RAW" | median
}
# The worst round's value of column K for ROW TARGET: the highest (p99) or, with "min", the lowest (req/s).
worst() {
  awk -F'\t' -v r="$1" -v t="$2" -v k="$3" -v lowest="${4:-}" 'NR > 1 && $1 == r && $2 == t && $k != "nan" {
    if (!n++ || (lowest ? $k < w : $k > w)) w = $k } END { print n ? w : "nan" }' "$RAW"
}
errors_of() { awk -F'\t' -v r="$1" -v t="$2" 'NR > 1 && $1 == r && $2 == t { s += $8 } END { print s + 0 }' "$RAW"; }

# One goal: DESCRIPTION OURS OP FACTOR THEIRS UNIT -> "| goal | ours vs theirs | ratio | met |"
goal() {
  awk -v d="$1" -v a="$2" -v op="$3" -v f="$4" -v b="$5" -v u="$6" '
  function num(x) { return x >= 100 ? sprintf("%.0f", x) : sprintf("%.3g", x) }
  BEGIN {
    if (a == "nan" || b == "nan" || a == "" || b == "" || b + 0 == 0) { printf "| %s | not measured | | |\n", d; exit }
    met = (op == ">=") ? (a >= f * b) : (a <= f * b)
    printf "| %s | %s vs %s %s | %.2f× | %s |\n", d, num(a), num(b), u, a / b, met ? "met" : "**not met**"
  }'
}

goals_table() {
  local c row
  echo "| performance goal | load_balancer vs peer | ratio | |"
  echo "|---|---|---:|---|"
  for c in $CONNS; do
    row=ka:$c
    goal "keep-alive req/s ≥ 0.9× nginx, $c conns" "$(cell "$row" load_balancer 5)" ">=" 0.9 "$(cell "$row" nginx 5)" req/s
    goal "p99 ≤ 1.5× nginx, $c conns" "$(cell "$row" load_balancer 7)" "<=" 1.5 "$(cell "$row" nginx 7)" ms
  done
  goal "new connections/s ≥ nginx" "$(cell new:32 load_balancer 5)" ">=" 1 "$(cell new:32 nginx 5)" conn/s
  goal "CPU per new connection ≤ 1.2× nginx" "$(cell new:32 load_balancer 9)" "<=" 1.2 "$(cell new:32 nginx 9)" µs
  goal "TLS keep-alive req/s ≥ 0.9× nginx" "$(cell tls-ka:64 load_balancer 5)" ">=" 0.9 "$(cell tls-ka:64 nginx 5)" req/s
  goal "CPU per new TLS connection ≤ nginx" "$(cell tls-new:32 load_balancer 9)" "<=" 1 "$(cell tls-new:32 nginx 9)" µs
  for row in "${ROWS[@]}"; do
    [[ $row == tls-* ]] && continue
    goal "≥ 3× Apache httpd's req/s, $(row_title "$row")" "$(cell "$row" load_balancer 5)" ">=" 3 "$(cell "$row" apache 5)" req/s
    goal "lower p99 than Apache httpd, $(row_title "$row")" "$(cell "$row" load_balancer 7)" "<=" 1 "$(cell "$row" apache 7)" ms
  done
}

# One goal checked round by round (ours in round r against nginx in round r):
# DESCRIPTION ROW COLUMN OP FACTOR -> "| goal | ratio per round | worst | met |".
round_goal() {
  awk -F'\t' -v d="$1" -v row="$2" -v k="$3" -v op="$4" -v f="$5" '
    NR > 1 && $1 == row && $k != "nan" && $2 == "load_balancer" { ours[$3] = $k }
    NR > 1 && $1 == row && $k != "nan" && $2 == "nginx" { theirs[$3] = $k }
    END {
      list = ""; n = 0; met = 1
      for (r = 1; r <= 99; r++) {
        if (!(r in ours) || !(r in theirs) || theirs[r] + 0 == 0) continue
        x = ours[r] / theirs[r]; n++
        list = list (list == "" ? "" : ", ") sprintf("%.2f×", x)
        if (n == 1 || (op == "<=" ? x > w : x < w)) w = x
        if (op == "<=" ? x > f : x < f) met = 0
      }
      if (!n) { printf "| %s | not measured | | |\n", d; exit }
      printf "| %s | %s | %.2f× | %s |\n", d, list, w, met ? "met" : "**not met**"
    }' "$RAW"
}

# How many threads of each party were runnable but waiting for a CPU, on
# average, in the keep-alive rows (run_queue_window in bench.sh).
run_queue_table() {
  local row t
  echo "| keep-alive row | target | proxy threads waiting for a CPU | backend nginx's | wrk's (of 2) |"
  echo "|---|---|---:|---:|---:|"
  for row in "${ROWS[@]}"; do
    [[ $row == ka:* ]] || continue
    for t in load_balancer nginx haproxy; do
      [[ $(cell "$row" "$t" 12) == nan ]] && continue
      echo "| ${row#ka:} connections | $t | $(cell "$row" "$t" 12) | $(cell "$row" "$t" 13) | $(cell "$row" "$t" 14) |"
    done
  done
}

# The tail goals: every round, not the median.
tail_goals_table() {
  local c
  echo "| goal, in every round | load_balancer ÷ nginx, round by round | worst | |"
  echo "|---|---|---:|---|"
  for c in 256 1000; do
    round_goal "p99 ≤ 2× nginx's, $c conns" "ka:$c" 7 "<=" 2
    round_goal "req/s ≥ 0.7× nginx's, $c conns" "ka:$c" 5 ">=" 0.7
  done
  for c in 64 256; do round_goal "keep-alive req/s ≥ 0.75× nginx's, $c conns" "ka:$c" 5 ">=" 0.75; done
  round_goal "CPU per handshake, 4,000-connection TLS burst, ≤ 1.3× nginx's" tls-burst:4000 9 "<=" 1.3
}

rows_table() {
  local row t n a rps
  echo "| row | target | req/s | worst round | ×nginx | ×Apache | p50 | p99 | worst round | errors | CPU µs/req | all CPU µs/req |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for row in "${ROWS[@]}"; do
    n=$(cell "$row" nginx 5)
    a=$(cell "$row" apache 5)
    for t in "${TARGETS[@]}"; do
      rps=$(cell "$row" "$t" 5)
      [[ $rps == nan && -z ${DEAD[$t]:-} ]] && continue  # not in this row
      awk -v row="$(row_title "$row")" -v t="$t" -v rps="$rps" -v n="$n" -v a="$a" -v p50="$(cell "$row" "$t" 6)" \
        -v p99="$(cell "$row" "$t" 7)" -v e="$(errors_of "$row" "$t")" -v cpu="$(cell "$row" "$t" 9)" \
        -v all="$(cell "$row" "$t" 11)" -v wrps="$(worst "$row" "$t" 5 min)" -v wp99="$(worst "$row" "$t" 7)" 'BEGIN {
          if (rps == "nan") { printf "| %s | %s | DIED | | | | | | | | | |\n", row, t; exit }
          rn = (n != "nan" && n > 0) ? sprintf("%.2f", rps / n) : ""
          ra = (a != "nan" && a > 0) ? sprintf("%.2f", rps / a) : ""
          printf "| %s | %s | %.0f | %.0f | %s | %s | %.2f ms | %.2f ms | %.2f ms | %d | %s | %s |\n", row, t, rps, wrps, rn, ra,
            p50, p99, wp99, e, (cpu == "nan" ? "n/a" : sprintf("%.1f", cpu)), (all == "nan" ? "n/a" : sprintf("%.1f", all))
        }'
    done
  done
}

versions() {
  printf '%s' "$(nginx -v 2>&1 | sed 's/^nginx version: //'), $(haproxy -v 2>&1 | head -1 | sed 's/ - https.*//')"
  printf ', %s' "$(apache2 -v 2>/dev/null | sed -n 's/^Server version: //p')" "$(varnishd -V 2>&1 | head -1 | sed 's/ (.*//')" \
    "Caddy $(caddy version 2>/dev/null | cut -d' ' -f1)" "$(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')" \
    "$(ab -V 2>/dev/null | head -1 | sed 's/This is //; s/,.*//')" "$(openssl version | cut -d' ' -f1-2)"
}

write_report() {
  local t f n
  echo "# Load balancer benchmark"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took ${ELAPSED} s ($(((ELAPSED + 30) / 60)) min)"
  echo "- machine: $NPROC CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "- versions: $(versions)"
  echo "- load_balancer: $LB_SOURCE; flags \`${LB_ARGS[*]}\` (ports vary; the TLS rows add \`--tls-cert/--tls-key\`)"
  echo "- pinning: $PIN_TEXT"
  if (($(awk -F'\t' 'NR > 1 { print $10 }' "$RAW" | median | cut -d. -f1) >= 10)); then
    echo "- **warning: other work kept this machine busy during the runs (below); treat the numbers as rough and compare CPU µs/req more than req/s**"
  fi
  echo "- other load: $BACKGROUND_TEXT; during the runs, processes outside the benchmark used $(
    awk -F'\t' 'NR > 1 { print $10 }' "$RAW" | median)% of all CPUs (median; max $(
    awk -F'\t' 'NR > 1 && $10 > m { m = $10 } END { print m + 0 }' "$RAW")%)"
  echo "- method: GET / → \`{\"ok\":true}\` from three nginx backends; $RUNS round(s) of ${DURATION} s per cell, targets interleaved (order rotated each round); median of rounds; errors = non-2xx + socket errors (wrk) or failed + non-2xx (ab), summed over rounds"
  echo "- peers: nginx 2 workers, upstream keepalive 64; HAProxy nbthread 2, http-reuse always; Apache httpd event MPM, 4×64 threads, mod_proxy_balancer byrequests; Varnish return (pass), round-robin director, 2 thread pools; Caddy reverse_proxy round_robin; TLS: ECDSA P-256 certificate, TLS 1.3 everywhere (ab and wrk negotiate TLS_AES_256_GCM_SHA384 with X25519), each proxy's default session tickets"
  echo "- CPU µs/req: utime+stime of the proxy's process tree over the run / requests completed (for a new-connection row, per connection; for direct: the backend nginx);"
  echo "  softirq time (the loopback network stack) is charged to no process, so it is in no proxy's number"
  echo "- all CPU µs/req: the same for every server process and the load generator together: what one request costs the machine"
  echo
  rows_table
  echo
  tail_goals_table
  echo
  echo "Threads runnable but waiting for a CPU, on average over each keep-alive run (median of rounds): the proxy's (all"
  echo "its processes), the backend nginx's (1 worker) and wrk's (2 threads); from /proc/<pid>/task/*/schedstat."
  echo
  run_queue_table
  echo
  goals_table
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
    echo "  RSS (VmRSS) and thread count of the proxy's processes before and with the idle connections; open/closed = idle connections still open / closed by the proxy when released"
    echo
    echo "| target | 100 MB download | 100 MB upload | idle conns established | RSS (threads) idle | new req c=1, baseline | new req c=1, with idle | held conns at end |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${EXTRA_ROWS[@]}"
  fi
  echo
  echo "## Notes"
  echo
  if process_alive "${PID[load_balancer]:-0}"; then
    echo "- load_balancer at the end: alive, $(status_kb "${PID[load_balancer]}" Threads) threads, RSS $(status_kb "${PID[load_balancer]}" VmRSS | awk '{ printf "%.1f", $1 / 1024 }') MB; its log has $(wc -l <"$TMP/load_balancer.log") lines (bench-load_balancer.log)"
  fi
  for f in "$TMP"/errors-*.out; do
    [[ -e $f ]] || continue
    echo "- $(basename "$f" .out): $(grep -E 'Socket errors|Non-2xx|Failed requests' "$f" | tr -s ' ' | tr '\n' ';')"
  done
  if [[ -e $TMP/haproxy.log ]] && grep -qE 'WARNING|ALERT' "$TMP/haproxy.log"; then
    echo "- haproxy said (its maxconn is $HAPROXY_MAXCONN):" \
      "$(grep -E 'WARNING|ALERT' "$TMP/haproxy.log" | head -3 | sed 's/^\[[A-Z]*\] *([0-9]*) : //' | tr '\n' ' ' | cut -c1-400)"
  fi
  for f in backends nginx-proxy; do
    [[ -e $TMP/$f/error.log ]] || continue
    # nginx's default proxy_buffering spills a large response to a temp file: expected, not news.
    if grep -v 'buffered to a temporary file' "$TMP/$f/error.log" | grep -q .; then
      echo "- nginx ($f) error log: $(grep -v 'buffered to a temporary file' "$TMP/$f/error.log" | head -3 | tr '\n' ' ' | cut -c1-400)"
    fi
  done
  for n in "${NOTES[@]}"; do echo "- $n"; done
  if [[ ${#NOTES[@]} -eq 0 ]]; then echo "- no crashes or failed transfers"; fi
}
