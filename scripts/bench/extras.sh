# Sourced by bench.sh: large bodies and idle connections through one target.
#
#   transfer TARGET download|upload   sets CELL: "0.31 s (323 MB/s), +0.3 MB"
#   idle_test TARGET                  sets CELL: the idle-connection cells, '|'-separated
#
# Expects PORT, PID, TMP, BIG_BYTES, BIG_MB, TRANSFER_REPS, IDLE_CONNS, HELPERS,
# PIN_CLIENT, NOTES and check_alive from the caller, the measure.sh functions,
# and those of scripts/lib/processes.sh and parse.sh.
# shellcheck shell=bash disable=SC2034  # CELL is read by bench.sh

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

transfer() {  # TARGET KIND(download|upload): sets CELL to "0.31 s (323 MB/s), +0.3 MB"
  local t=$1 kind=$2 pid=${PID[$1]} h0 h1 w code size secs rec body=$TMP/transfer.body i times=()
  CELL="n/a (dead)"
  check_alive "$t" "$kind" || return 0
  h0=$(tree_kb "$pid" VmHWM)
  for ((i = 0; i < TRANSFER_REPS; i++)); do
    : >"$body"
    if [[ $kind == download ]]; then
      w=$("${PIN_CLIENT[@]}" curl -sS -m 120 -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
        "http://127.0.0.1:${PORT[$t]}/big.bin" 2>"$TMP/curl.err" || true)
    else
      w=$("${PIN_CLIENT[@]}" curl -sS -m 120 -o "$body" -X POST -H 'Content-Type: application/octet-stream' \
        -T "$TMP/www/big.bin" -w '%{http_code} %{size_upload} %{time_total}' \
        "http://127.0.0.1:${PORT[$t]}/upload" 2>"$TMP/curl.err" || true)
    fi
    read -r code size secs <<<"${w:-000 0 0}"
    rec=$BIG_BYTES
    if [[ $kind == upload ]]; then
      # $request_length counts the request head too: at least the body must have arrived.
      rec=$(sed -n 's/.*"received":\([0-9]*\).*/\1/p' "$body")
      if ((${rec:-0} >= BIG_BYTES)); then rec=$BIG_BYTES; fi
    fi
    if [[ $code != 200 || $size != "$BIG_BYTES" || $rec != "$BIG_BYTES" ]]; then
      CELL=$(printf 'FAILED: HTTP %s, %s of %s bytes, %.1f s %s' "$code" "$size" "$BIG_BYTES" "$secs" \
        "$(head -c 120 "$TMP/curl.err" | tr '\n' ' ')")
      NOTES+=("$t: ${BIG_MB} MB $kind failed: HTTP $code, curl moved $size of $BIG_BYTES bytes in $secs s;\
 backend saw ${rec:-?}; body: $(head -c 200 "$body" | tr '\n' ' ') $(tr '\n' ' ' <"$TMP/curl.err")")
      check_alive "$t" "${BIG_MB} MB $kind" || true
      return 0
    fi
    times+=("$secs")
  done
  h1=$(tree_kb "$pid" VmHWM)
  secs=$(printf '%s\n' "${times[@]}" | median)
  CELL=$(awk -v s="$secs" -v b="$BIG_BYTES" -v g="$((h1 - h0))" \
    'BEGIN { printf "%.2f s (%.0f MB/s), %+.1f MB", s, b / 1048576 / s, g / 1024 }')
  check_alive "$t" "${BIG_MB} MB $kind" || true
}

latency_c1() {  # TARGET SECONDS: "p50 / p99 ms, N req/s, errors"
  local t=$1 rps p50 p99 err
  "${PIN_CLIENT[@]}" wrk -t1 -c1 -d"$2s" --latency "http://127.0.0.1:${PORT[$t]}/" >"$TMP/wrk1.out" 2>&1 || true
  read -r _ rps p50 p99 err _ < <(parse_wrk "$TMP/wrk1.out")
  printf '%.3f / %.3f ms, %.0f req/s%s' "$p50" "$p99" "$rps" "$( ((err)) && echo ", $err errors")"
}

idle_test() {  # TARGET: sets CELL to the idle-connection cells separated by '|'
  local t=$1 pid=${PID[$1]} base rss0 thr0 ipid line est failed secs errs rss1 thr1 loaded done_line rss2 thr2 i
  CELL="n/a (dead) | | | | "
  check_alive "$t" "idle test" || return 0
  base=$(latency_c1 "$t" 3)
  rss0=$(tree_kb "$pid" VmRSS)
  thr0=$(tree_kb "$pid" Threads)
  # Empty the output here: the background child opens it only some time after the fork.
  : >"$TMP/idle.out"
  "${PIN_CLIENT[@]}" python3 "$HELPERS/idle_conns.py" 127.0.0.1 "${PORT[$t]}" "$IDLE_CONNS" \
    >"$TMP/idle.out" 2>"$TMP/idle.err" </dev/null &
  ipid=$!
  track_process "$ipid" idle_conns "$TMP/idle.err"
  for ((i = 0; i < 1200; i++)); do
    grep -q '^READY' "$TMP/idle.out" && break
    if ! process_alive "$ipid"; then
      log "idle-connection client for $t exited early: $(tr '\n' ' ' <"$TMP/idle.err" | cut -c1-300)"
      break
    fi
    sleep 0.1
  done
  line=$(grep '^READY' "$TMP/idle.out" || echo "READY established=0 failed=$IDLE_CONNS seconds=0 errors=client-failed")
  est=$(sed -n 's/.*established=\([0-9]*\).*/\1/p' <<<"$line")
  failed=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$line")
  secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
  errs=$(sed -n 's/.*errors=\(.*\)/\1/p' <<<"$line")
  sleep 1
  rss1=$(tree_kb "$pid" VmRSS)
  thr1=$(tree_kb "$pid" Threads)
  if check_alive "$t" "$IDLE_CONNS idle connections"; then
    loaded=$(latency_c1 "$t" 3)
  else
    loaded="n/a (dead)"
  fi
  stop_process "$ipid" 15  # SIGTERM: it prints DONE, closes its connections and exits
  done_line=$(grep '^DONE' "$TMP/idle.out" || echo "DONE ?")
  if [[ -s $TMP/idle.err ]]; then NOTES+=("$t idle client stderr: $(tail -3 "$TMP/idle.err" | tr '\n' ' ')"); fi
  if ((failed > 0)); then NOTES+=("$t: $failed of $IDLE_CONNS idle connections failed ($errs)"); fi
  sleep 2
  rss2=$(tree_kb "$pid" VmRSS)
  thr2=$(tree_kb "$pid" Threads)
  check_alive "$t" "closing $IDLE_CONNS idle connections" || true
  CELL=$(printf '%s of %s in %s s | %s → %s MB (%s → %s threads) | %s | %s | %s (after close: %s MB, %s threads)' \
    "$est" "$IDLE_CONNS" "$secs" "$(mb "$rss0")" "$(mb "$rss1")" "$thr0" "$thr1" "$base" "$loaded" \
    "${done_line#DONE }" "$(mb "$rss2")" "$thr2")
}

