#include "common/thread_scheduling.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace common {

namespace {

// The kernel's struct sched_attr (sched_setattr(2)). glibc 2.36 has no wrapper
// for these calls, and <linux/sched/types.h> clashes with <sched.h>.
struct SchedAttr {
  uint32_t size = sizeof(SchedAttr);
  uint32_t sched_policy = 0;
  uint64_t sched_flags = 0;
  int32_t sched_nice = 0;
  uint32_t sched_priority = 0;
  uint64_t sched_runtime = 0;  // for SCHED_OTHER and SCHED_BATCH: the time slice
  uint64_t sched_deadline = 0;
  uint64_t sched_period = 0;
};

}  // namespace

void use_batch_scheduling(unsigned long long slice_ns) {
  SchedAttr attr;
  attr.sched_policy = SCHED_BATCH;
  attr.sched_runtime = slice_ns;
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0) {
    struct sched_param param {};
    ::sched_setscheduler(0, SCHED_BATCH, &param);
  }
}

ThreadScheduling current_thread_scheduling() {
  SchedAttr attr;
  ThreadScheduling now;
  if (::syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) == 0) {
    now.policy = static_cast<int>(attr.sched_policy);
    now.slice_ns = attr.sched_runtime;
  }
  return now;
}

}  // namespace common
