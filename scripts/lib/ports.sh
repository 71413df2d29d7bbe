# Free TCP ports on 127.0.0.1, outside the kernel's ephemeral port range
# (where an outgoing connection could take one before our server binds it).
# shellcheck shell=bash
#
#   free_ports N    prints N distinct free ports on one line (see free_ports.py)

free_ports() {
  python3 "$(dirname "${BASH_SOURCE[0]}")/free_ports.py" "$1"
}
