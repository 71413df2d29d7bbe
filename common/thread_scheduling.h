// The kernel's scheduling policy for the calling thread: set SCHED_BATCH with
// a short time slice, and read back what is in force.
#pragma once

namespace common {

struct ThreadScheduling {
  int policy = -1;                  // SCHED_OTHER, SCHED_BATCH, ...
  unsigned long long slice_ns = 0;  // custom time slice (sched_runtime), 0 when none
};

// SCHED_BATCH for the calling thread, with a `slice_ns` time slice where the
// kernel takes one (Linux 6.12+; older kernels keep their default slice).
// Needs no privilege: SCHED_BATCH is a normal-priority policy.
void use_batch_scheduling(unsigned long long slice_ns);

// What applies to the calling thread now (policy -1 if the kernel won't say).
ThreadScheduling current_thread_scheduling();

}  // namespace common
