#!/usr/bin/env bash
# Usage: scripts/check_install.sh BUILD_DIR
# Installs BUILD_DIR into a throw-away DESTDIR (under the prefix it was
# configured with: /usr/local by default, /usr for a Debian-style layout with
# /etc) and checks what lands there: the two programs, the example config
# (which must pass --check), the systemd unit (Type=notify, reload by SIGHUP,
# started with that config) and the README. ctest runs it (label install).
set -euo pipefail
build=${1:?usage: scripts/check_install.sh BUILD_DIR}
dest=$(mktemp -d /tmp/lb_install_XXXXXX)
trap 'rm -rf "$dest"' EXIT

DESTDIR="$dest" cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
etc=$prefix/etc
[[ "$prefix" == /usr ]] && etc=/etc  # GNUInstallDirs' rule for /usr

fail() { echo "install: $1" >&2; exit 1; }
for file in "$prefix/bin/load_balancer" "$prefix/bin/backend_server" "$etc/cpp-lb/load_balancer.json" \
            "$prefix/lib/systemd/system/load_balancer.service" "$prefix/share/doc/cpp-lb/README.md"; do
  [[ -f "$dest$file" ]] || fail "$file is missing"
done
unit="$dest$prefix/lib/systemd/system/load_balancer.service"
grep -qx 'Type=notify' "$unit" || fail "the unit is not Type=notify"
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit" || fail "the unit does not reload with SIGHUP"
grep -qx 'NotifyAccess=all' "$unit" || fail "the unit does not let an upgraded process (SIGUSR2) report its MAINPID"
grep -qx "ExecStart=$prefix/bin/load_balancer --config $etc/cpp-lb/load_balancer.json" "$unit" ||
  fail "the unit does not start the installed program with the installed config"
"$dest$prefix/bin/load_balancer" --config "$dest$etc/cpp-lb/load_balancer.json" --check >/dev/null ||
  fail "the example config does not pass --check"
echo "install: programs, config, systemd unit and README in place under $dest (removed)"
