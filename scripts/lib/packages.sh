# Debian packages: which are missing, and installing them with apt-get, as root
# or through sudo, with package services kept from starting.
# shellcheck shell=bash
#
#   package_installed PACKAGE                 dpkg lists it as installed
#   missing_packages PACKAGE...               prints those not installed, one a line
#   packages_for_missing_commands CMD=PKG...  prints PKG for each CMD not on PATH, one a line
#   choose_sudo                               SUDO=() as root, (sudo) otherwise; false when
#                                             neither root nor sudo is there
#   apt_install_quietly PACKAGE...            apt-get update + install, output in $TMP/apt.log;
#                                             NGINX stands for nginx-light (nginx where it is missing)
#   remove_policy_rc                          for the caller's EXIT trap (see below)
#   require_commands CMD...                   fails naming the first CMD not on PATH
#
# apt_install_quietly expects TMP (a scratch folder) and log/die functions from
# the caller. It keeps package services from starting (port 80, /etc/haproxy)
# with a policy-rc.d that exits 101, Debian's documented way to say "do not
# start"; POLICY_RC_CREATED says whether remove_policy_rc still has to remove it.
POLICY_RC_CREATED=0

package_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

missing_packages() {
  local p
  for p in "$@"; do package_installed "$p" || echo "$p"; done
}

packages_for_missing_commands() {
  local pair
  for pair in "$@"; do command -v "${pair%%=*}" >/dev/null || echo "${pair#*=}"; done
}

choose_sudo() {
  SUDO=()
  ((EUID == 0)) && return 0
  SUDO=(sudo)
  command -v sudo >/dev/null 2>&1
}

apt_install_quietly() {
  local need=("$@") nginx_pkg=nginx-light
  ((${#need[@]})) || return 0
  choose_sudo || die "missing packages (${need[*]/NGINX/nginx-light}) and not root, no sudo: install them first"
  log "installing with apt-get: ${need[*]/NGINX/nginx-light}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q >"$TMP/apt.log" 2>&1 || { tail -20 "$TMP/apt.log" >&2; die "apt-get update failed"; }
  if [[ " ${need[*]} " == *" NGINX "* ]] && ! apt-cache show nginx-light >/dev/null 2>&1; then
    nginx_pkg=nginx
  fi
  need=("${need[@]/NGINX/$nginx_pkg}")
  if [[ ! -e /usr/sbin/policy-rc.d && $EUID -eq 0 ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=1
  fi
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" >>"$TMP/apt.log" 2>&1 ||
    { tail -30 "$TMP/apt.log" >&2; die "apt-get install ${need[*]} failed"; }
  remove_policy_rc
}

remove_policy_rc() {
  if ((POLICY_RC_CREATED)); then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
}

require_commands() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || { echo "${0##*/}: $c not found after installation" >&2; return 1; }
  done
}
