// A Stream that keeps what is written, standing in for a socket in tests and
// the fuzzer (reads see the end of the stream at once).
#pragma once

#include <string>

#include "lb/transport/stream.h"

namespace test_support {

class MemoryStream : public lb::Stream {
 public:
  std::string bytes;
  ssize_t read(char*, size_t, lb::Millis) override { return lb::kEof; }
  bool write_all(struct iovec* iov, int count, lb::Millis) override {
    for (int i = 0; i < count; ++i) bytes.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
    return true;
  }
  int fd() const override { return -1; }
  bool idle_and_open() override { return true; }
};

}  // namespace test_support
