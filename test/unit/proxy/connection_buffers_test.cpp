// ConnectionBuffers: two 16 KB buffers in their own mapping, whose pages an
// idle connection can give back. mincore() tells which pages are resident.
#include <catch2/catch.hpp>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <vector>

#include "lb/proxy/connection_buffers.h"

namespace {

// How many pages of [start, start + bytes) are in memory.
size_t resident_pages(const char* start, size_t bytes) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> flags((bytes + page - 1) / page);
  REQUIRE(::mincore(const_cast<char*>(start), bytes, flags.data()) == 0);
  size_t resident = 0;
  for (unsigned char f : flags) resident += f & 1;
  return resident;
}

}  // namespace

TEST_CASE("connection buffers are two separate page-aligned 16 KB buffers", "[unit][buffers]") {
  lb::ConnectionBuffers buffers;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  CHECK(reinterpret_cast<uintptr_t>(buffers.client()) % page == 0);
  CHECK(buffers.upstream() == buffers.client() + lb::ConnectionBuffers::kBufferBytes);
  // Both ends are writable: the whole of each buffer is usable.
  std::memset(buffers.client(), 'c', lb::ConnectionBuffers::kBufferBytes);
  std::memset(buffers.upstream(), 'u', lb::ConnectionBuffers::kBufferBytes);
  CHECK(buffers.client()[lb::ConnectionBuffers::kBufferBytes - 1] == 'c');
  CHECK(buffers.upstream()[0] == 'u');
}

TEST_CASE("released buffer pages leave memory and come back zeroed on use", "[unit][buffers]") {
  lb::ConnectionBuffers buffers;
  const size_t bytes = 2 * lb::ConnectionBuffers::kBufferBytes;
  CHECK(resident_pages(buffers.client(), bytes) == 0);  // nothing touched yet

  std::memcpy(buffers.client(), "GET / HTTP/1.1\r\n", 16);
  std::memcpy(buffers.upstream(), "HTTP/1.1 200 OK\r\n", 17);
  CHECK(resident_pages(buffers.client(), bytes) == 2);  // one page of each buffer

  buffers.release_pages();
  CHECK(resident_pages(buffers.client(), bytes) == 0);
  CHECK(buffers.client()[0] == 0);  // reading maps the shared zero page, not old bytes
  buffers.upstream()[5] = 'x';      // and the buffers work as before
  CHECK(buffers.upstream()[5] == 'x');
}

TEST_CASE("a thread's next connection gets the buffers its last one gave back", "[unit][buffers]") {
  char* first = nullptr;
  {
    lb::ConnectionBuffers::Handle buffers = lb::ConnectionBuffers::for_connection();
    first = buffers->client();
  }
  lb::ConnectionBuffers::Handle again = lb::ConnectionBuffers::for_connection();
  CHECK(again->client() == first);  // the same mapping: nothing mapped for this connection
  {
    // Two at once on one thread (never in the proxy): the second is a separate mapping.
    lb::ConnectionBuffers::Handle second = lb::ConnectionBuffers::for_connection();
    CHECK(second->client() != first);
  }
  char* elsewhere = nullptr;
  std::thread([&elsewhere] { elsewhere = lb::ConnectionBuffers::for_connection()->client(); }).join();
  CHECK(elsewhere != first);  // another thread has its own spare
}
