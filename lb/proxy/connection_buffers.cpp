#include "lb/proxy/connection_buffers.h"

#include <sys/mman.h>

#include <new>

namespace lb {

namespace {
constexpr size_t kMappingBytes = 2 * ConnectionBuffers::kBufferBytes;
}  // namespace

ConnectionBuffers::ConnectionBuffers() {
  void* mapping = ::mmap(nullptr, kMappingBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) throw std::bad_alloc();
  base_ = static_cast<char*>(mapping);
}

ConnectionBuffers::~ConnectionBuffers() { ::munmap(base_, kMappingBytes); }

void ConnectionBuffers::release_pages() { ::madvise(base_, kMappingBytes, MADV_DONTNEED); }

}  // namespace lb
