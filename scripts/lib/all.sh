# shellcheck shell=bash
# Sourced by scripts that want the whole shell library: ports, processes,
# waits, output parsers, packages, machine load and the EXIT trap (one file each, here).
_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=ports.sh
source "$_lib_dir/ports.sh"
# shellcheck source=processes.sh
source "$_lib_dir/processes.sh"
# shellcheck source=wait.sh
source "$_lib_dir/wait.sh"
# shellcheck source=parse.sh
source "$_lib_dir/parse.sh"
# shellcheck source=packages.sh
source "$_lib_dir/packages.sh"
# shellcheck source=machine.sh
source "$_lib_dir/machine.sh"
# shellcheck source=cleanup.sh
source "$_lib_dir/cleanup.sh"
unset _lib_dir
