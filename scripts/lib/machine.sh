# How busy the machine is: CPU ticks from /proc/stat, and a two-second look at
# the load before a measurement starts (other people's work on a shared machine
# skews every number a benchmark takes).
# shellcheck shell=bash
#
#   machine_ticks                  prints "busy total", machine-wide CPU ticks
#   measure_background_load        sleeps 2 s; sets BACKGROUND_TEXT ("37% of all CPUs busy in
#                                  the 2 s before start, load average 0.52 0.40 0.31")

# Busy = user + nice + system + steal. IRQ and softirq time (under load: the
# loopback network stack, ~25% of the machine under wrk) is charged to no
# process, so it is left out of "busy" as it is left out of every process's CPU time.
machine_ticks() { awk '/^cpu / { b = $2 + $3 + $4 + $9; print b, b + $5 + $6 + $7 + $8 }' /proc/stat; }

measure_background_load() {
  local busy0 total0 busy1 total1
  read -r busy0 total0 < <(machine_ticks)
  sleep 2
  read -r busy1 total1 < <(machine_ticks)
  # shellcheck disable=SC2034  # read by the caller
  BACKGROUND_TEXT="$(awk -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) 'BEGIN { printf "%.0f%%", t ? 100 * b / t : 0 }') of all CPUs busy in the 2 s before start, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
