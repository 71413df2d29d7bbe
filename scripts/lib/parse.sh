# Parsers for the load generators' output, numbers on one line for `read -r`:
# wrk --latency, ab, h2load (with its --log-file), and the counts line that
# scripts/chaos/count.lua adds to wrk's output. Latencies are in milliseconds.
# shellcheck shell=bash
#
#   parse_wrk FILE           requests rps p50 p99 errors max non2xx3xx connect read write timeout
#   parse_ab FILE            requests rps p50 p99 errors
#   parse_h2load FILE LOG    requests rps p50 p99 errors
#   parse_wrk_lua_counts FILE   sent answers non2xx statuses ("502x3 503x10", or "-")
#   parse_open_loop FILE     sent ok non2xx errors timeouts p50 p90 p99 p99.9 max mean non2xx_p50
#                            non2xx_p99 rate send_lag_p99 backends ok_in_window (see below)
#
# The first five fields are alike for all three tools: errors = non-2xx/3xx
# answers + socket errors (wrk), failed + non-2xx requests (ab), failed +
# errored requests (h2load).

parse_wrk() {
  awk '
    function ms(v,   n, u) {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") return n / 1000; if (u == "ms") return n; if (u == "s") return n * 1000
      if (u == "m") return n * 60000; return n
    }
    /^ +Latency +[0-9]/ { mx = ms($4) }
    /^ +50% / { p50 = ms($2) }
    /^ +99% / { p99 = ms($2) }
    / requests in / { req = $1 }
    /^ +Socket errors:/ { gsub(/,/, ""); c = $4; r = $6; w = $8; t = $10 }
    /^ +Non-2xx or 3xx responses:/ { n3 = $NF }
    /^Requests\/sec:/ { rps = $2 }
    END {
      printf "%d %.2f %.3f %.3f %d %.3f %d %d %d %d %d\n", req, rps, p50, p99, n3 + c + r + w + t, mx, n3, c, r, w, t
    }' "$1"
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

parse_wrk_lua_counts() {
  awk '
    BEGIN { st = "-" }
    /^CHAOS / {
      for (i = 2; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "sent") sent = kv[2]; else if (kv[1] == "answers") ans = kv[2]; else if (kv[1] == "non2xx") n2 = kv[2]
      }
      st = $0; sub(/.*statuses=/, "", st)
    }
    END { printf "%d %d %d %s\n", sent, ans, n2, st }' "$1"
}

# open_loop_load's JSON (test/tools/open_loop_load.cpp) as one line: sent ok2xx
# non2xx errors timeouts p50 p90 p99 p99.9 max mean (of 2xx) non2xx_p50
# non2xx_p99 achieved_rate send_lag_p99 backends ("b1=310,b2=290", or "-")
# ok_in_window (2xx answers that arrived while the load was still being sent);
# "nan" where there was nothing to measure.
parse_open_loop() {
  python3 - "$1" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print("0 0 0 0 0 nan nan nan nan nan nan nan nan 0 nan - 0"); sys.exit(0)
ok = r["answered"].get("2xx", 0)
non2xx = sum(n for k, n in r["answered"].items() if k != "2xx")
def v(x): return "nan" if x is None else str(x)
o, b, lag = r["ok_ms"], r["non2xx_ms"], r["send_lag_ms"]
backends = ",".join(f"{k}={n}" for k, n in sorted(r["by_backend"].items())) or "-"
print(r["sent"], ok, non2xx, r["errors"], r["timeouts"], v(o["p50"]), v(o["p90"]), v(o["p99"]), v(o["p99.9"]),
      v(o["max"]), v(o["mean"]), v(b["p50"]), v(b["p99"]), r["achieved_rate"], v(lag["p99"]), backends,
      r["ok_in_window"])
PY
}
