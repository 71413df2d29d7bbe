#include "lb/proxy/connection_buffers.h"

#include <sys/mman.h>

#include <new>

namespace lb {

namespace {
constexpr size_t kMappingBytes = 2 * ConnectionBuffers::kBufferBytes;

// The calling thread's spare set; one thread serves one connection at a time.
thread_local std::unique_ptr<ConnectionBuffers> spare_for_this_thread;
}  // namespace

ConnectionBuffers::Handle ConnectionBuffers::for_connection() {
  if (spare_for_this_thread) return Handle(spare_for_this_thread.release());
  return Handle(new ConnectionBuffers());
}

void ConnectionBuffers::KeepForThisThread::operator()(ConnectionBuffers* buffers) const {
  if (spare_for_this_thread) {
    delete buffers;  // a second set on this thread (tests): no need to keep both
  } else {
    spare_for_this_thread.reset(buffers);
  }
}

ConnectionBuffers::ConnectionBuffers() {
  void* mapping = ::mmap(nullptr, kMappingBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) throw std::bad_alloc();
  base_ = static_cast<char*>(mapping);
}

ConnectionBuffers::~ConnectionBuffers() { ::munmap(base_, kMappingBytes); }

void ConnectionBuffers::release_pages() { ::madvise(base_, kMappingBytes, MADV_DONTNEED); }

}  // namespace lb
