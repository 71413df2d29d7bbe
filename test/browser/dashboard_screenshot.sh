#!/usr/bin/env bash
# Regenerates the README's dashboard screenshots: three backends (the second
# with weight 2) under light traffic for a minute. Headless Chromium takes the
# picture. Takes about 65 s.
#   SCENE=dashboard (docs/dashboard.png): the first backend is drained and
#     enabled again, then the third fails its health checks;
#   SCENE=workshop (docs/workshop.png): the workshop's "Break it" step, with
#     scripts/traffic.sh: errors 50% on the second backend, slow 500 ms on the
#     third, through the admin API as the dashboard's buttons do.
#
#   test/browser/dashboard_screenshot.sh [BUILD_DIR] [OUTPUT]   # defaults: build docs/$SCENE.png
#
# Uses ports 8000-8003 and 8080 (like scripts/run.sh) so the picture matches the
# tutorial; set BASE_PORT to move them (BASE_PORT+1..3, BASE_PORT, BASE_PORT+80).
# Needs chromium and curl. Stops only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCENE=${SCENE:-dashboard}
BUILD=${1:-build}
OUTPUT=${2:-docs/$SCENE.png}
HEIGHT=900
BASE_PORT=${BASE_PORT:-8000}
HOLD_MS=64000   # how long the page runs before the screenshot (the sparklines fill a minute)

if ! command -v chromium > /dev/null; then
  echo "dashboard_screenshot.sh: chromium not found (apt-get install -y chromium)" >&2
  exit 1
fi
command -v curl > /dev/null || { echo "dashboard_screenshot.sh: curl not found" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_for_port() {
  for _ in $(seq 100); do
    if (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; then return 0; fi
    sleep 0.1
  done
  echo "dashboard_screenshot.sh: nothing listening on port $1; see $work/*.log" >&2
  exit 1
}

lb_port=$BASE_PORT
admin_port=$((BASE_PORT + 80))
for port in "$lb_port" $((BASE_PORT + 1)) $((BASE_PORT + 2)) $((BASE_PORT + 3)) "$admin_port"; do
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
    echo "dashboard_screenshot.sh: port $port is busy (set BASE_PORT)" >&2
    exit 1
  fi
done
backends=()
for i in 1 2 3; do
  port=$((BASE_PORT + i))
  "$BUILD/bin/backend_server" "$port" --host 127.0.0.1 > "$work/backend$i.log" 2>&1 &
  pids+=($!)
  wait_for_port "$port"
  weight=1
  if [[ $i == 2 ]]; then weight=2; fi
  backends+=(--backend "http://127.0.0.1:$port,weight=$weight")
done
lb_flags=(--admin-port "$admin_port" --health-interval 0.5)
if [[ $SCENE == workshop ]]; then  # what scripts/run.sh --workshop adds
  lb_flags+=(--try-timeout 0.4 --backend-timeout 5 --cb-min-requests 6 --cb-open-seconds 10 --trace-header)
  HEIGHT=1500
fi
"$BUILD/bin/load_balancer" --port "$lb_port" --bind 127.0.0.1 "${backends[@]}" "${lb_flags[@]}" > "$work/lb.log" 2>&1 &
pids+=($!)
wait_for_port "$admin_port"
admin="http://127.0.0.1:$admin_port"
backend_id() { curl -s "$admin/status" | grep -o '"id": "[0-9a-f]*"' | sed -n "${1}p" | cut -d'"' -f4; }

if [[ $SCENE == workshop ]]; then
  scripts/traffic.sh "http://127.0.0.1:$lb_port" 4 &
  pids+=($!)
  (sleep 30 && curl -s -o /dev/null -X PUT -d '{"abort_percent": 50, "abort_status": 503}' \
     "$admin/backends/$(backend_id 2)/fault" &&
   sleep 15 && curl -s -o /dev/null -X PUT -d '{"delay_ms": 500}' "$admin/backends/$(backend_id 3)/fault") &
  pids+=($!)
else
  # Light, uneven traffic so the sparklines have something to draw.
  for client in 1 2 3; do
    (while true; do
      curl -s -o /dev/null "http://127.0.0.1:$lb_port/" || true
      sleep "0.0$((RANDOM % 6))"
    done) &
    pids+=($!)
  done
  # What the event log will show: a drain, an enable, a health failure.
  drained_id=$(backend_id 1)
  (sleep 40 && curl -s -o /dev/null -d '' "$admin/backends/$drained_id/drain" &&
    sleep 6 && curl -s -o /dev/null -d '' "$admin/backends/$drained_id/enable" &&
    sleep 8 && curl -s -o /dev/null -d '' "http://127.0.0.1:$((BASE_PORT + 3))/health/fail") &
  pids+=($!)
fi

# Chromium screenshots a page once it has loaded. The dashboard loads at once,
# so it sits in an iframe next to an image that takes HOLD_MS to arrive (the
# backend's /slow endpoint, asked directly, not through the load balancer):
# the dashboard polls in real time until then.
cat > "$work/hold.html" << EOF
<!doctype html>
<body style="margin: 0">
<iframe src="http://127.0.0.1:$admin_port/" style="border: 0; width: 1280px; height: ${HEIGHT}px"></iframe>
<img src="http://127.0.0.1:$((BASE_PORT + 1))/slow?ms=$HOLD_MS" style="display: none" alt="">
</body>
EOF

mkdir -p "$(dirname "$OUTPUT")"
chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --hide-scrollbars --window-size=1280,$HEIGHT \
  --screenshot="$(realpath -m "$OUTPUT")" "file://$work/hold.html" 2> "$work/chromium.log" ||
  { cat "$work/chromium.log" >&2; exit 1; }
echo "wrote $OUTPUT"
