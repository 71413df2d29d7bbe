# Sourced by bench.sh and chaos.sh: installs packages with apt-get, quietly.
#
#   apt_install_quietly PACKAGE...   # NGINX stands for nginx-light (nginx where it is missing)
#
# Expects SUDO (an array), TMP (a scratch folder), and log/die functions from
# the caller. Package services are kept from starting (port 80, /etc/haproxy)
# with policy-rc.d exit 101, Debian's documented way to say "do not start";
# POLICY_RC_CREATED says whether the caller's cleanup must remove it.
POLICY_RC_CREATED=0

apt_install_quietly() {
  local need=("$@") nginx_pkg=nginx-light
  ((${#need[@]})) || return 0
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
  if ((POLICY_RC_CREATED)); then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
}
