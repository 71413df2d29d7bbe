# shellcheck shell=bash
# One EXIT trap for a script that starts processes and keeps files in a
# temporary folder: every process it started is stopped (GRACE s each), a
# policy-rc.d it made is removed, the folder deleted; INT and TERM exit with
# 130 and 143 through it.
#
#   clean_up_on_exit GRACE PREFIX   makes TMP (/tmp/PREFIX.XXXXXX) and installs the traps

clean_up_on_exit() {
  CLEANUP_GRACE=$1
  TMP=
  trap _clean_up EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  TMP=$(mktemp -d "/tmp/$2.XXXXXX")
}

_clean_up() {
  local status=$?
  trap - EXIT INT TERM
  stop_all_processes "$CLEANUP_GRACE"
  remove_policy_rc
  if [[ -n ${TMP:-} && -d $TMP ]]; then rm -rf "$TMP"; fi
  exit "$status"
}
