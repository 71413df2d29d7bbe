#!/usr/bin/env bash
# Regenerates the README's dashboard screenshot (docs/dashboard.png): three
# backends (the second with weight 2) under light traffic for a minute; the
# first is drained and enabled again, then the third fails its health checks.
# Headless Chromium takes the picture. Takes about 65 s.
#
#   test/browser/dashboard_screenshot.sh [BUILD_DIR] [OUTPUT]   # defaults: build docs/dashboard.png
#
# Uses ports 8000-8003 and 8080 (like scripts/run.sh) so the picture matches the
# tutorial; set BASE_PORT to move them (BASE_PORT+1..3, BASE_PORT, BASE_PORT+80).
# Needs chromium and curl. Stops only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${1:-build}
OUTPUT=${2:-docs/dashboard.png}
BASE_PORT=${BASE_PORT:-8000}
HOLD_MS=64000   # how long the page runs before the screenshot (the sparklines show 60 s)

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
"$BUILD/bin/load_balancer" --port "$lb_port" --bind 127.0.0.1 "${backends[@]}" \
  --admin-port "$admin_port" --health-interval 0.5 > "$work/lb.log" 2>&1 &
pids+=($!)
wait_for_port "$admin_port"

# Light, uneven traffic so the sparklines have something to draw.
for client in 1 2 3; do
  (while true; do
    curl -s -o /dev/null "http://127.0.0.1:$lb_port/" || true
    sleep "0.0$((RANDOM % 6))"
  done) &
  pids+=($!)
done
# What the event log will show: a drain, an enable, a health failure.
drained_id=$(curl -s "http://127.0.0.1:$admin_port/status" | grep -o '"id": "[0-9a-f]*"' | head -1 | cut -d'"' -f4)
(sleep 40 && curl -s -o /dev/null -d '' "http://127.0.0.1:$admin_port/backends/$drained_id/drain" &&
  sleep 6 && curl -s -o /dev/null -d '' "http://127.0.0.1:$admin_port/backends/$drained_id/enable" &&
  sleep 8 && curl -s -o /dev/null -d '' "http://127.0.0.1:$((BASE_PORT + 3))/health/fail") &
pids+=($!)

# Chromium screenshots a page once it has loaded. The dashboard loads at once,
# so it sits in an iframe next to an image that takes HOLD_MS to arrive (the
# backend's /slow endpoint, asked directly, not through the load balancer):
# the dashboard polls in real time until then.
cat > "$work/hold.html" << EOF
<!doctype html>
<body style="margin: 0">
<iframe src="http://127.0.0.1:$admin_port/" style="border: 0; width: 1280px; height: 900px"></iframe>
<img src="http://127.0.0.1:$((BASE_PORT + 1))/slow?ms=$HOLD_MS" style="display: none" alt="">
</body>
EOF

mkdir -p "$(dirname "$OUTPUT")"
chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --hide-scrollbars --window-size=1280,900 \
  --screenshot="$(realpath -m "$OUTPUT")" "file://$work/hold.html" 2> "$work/chromium.log" ||
  { cat "$work/chromium.log" >&2; exit 1; }
echo "wrote $OUTPUT"
