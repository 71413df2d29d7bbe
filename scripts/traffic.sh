#!/usr/bin/env bash
# A light, steady traffic generator for the workshop: a few requests a second
# to the load balancer (mostly GET /, now and then a POST and a slow request),
# so the dashboard's request view and sparklines keep moving. Runs until stopped.
#
#   scripts/traffic.sh [URL] [REQUESTS_PER_SECOND]   # defaults: http://127.0.0.1:8000 4
set -euo pipefail

url=${1:-http://127.0.0.1:8000}
rate=${2:-4}
pause=$(awk -v rate="$rate" 'BEGIN { printf "%.3f", 1 / rate }')
command -v curl > /dev/null || { echo "traffic.sh: curl not found" >&2; exit 1; }

n=0
while true; do
  n=$((n + 1))
  case $((n % 10)) in
    3) curl -sk -o /dev/null -m 5 -X POST -d "order=$n" "$url/submit" || true ;;
    7) curl -sk -o /dev/null -m 5 "$url/slow?ms=150" || true ;;
    *) curl -sk -o /dev/null -m 5 "$url/?n=$n" || true ;;
  esac
  sleep "$pause"
done
