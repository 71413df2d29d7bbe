#include "lb/operations/inherited_descriptors.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace lb {

namespace {

constexpr long kMaxDescriptors = 16;

// A decimal number, every byte of it, within [low, high].
long whole_number(const char* text, long low, long high, const char* variable) {
  const std::string value = text;
  char* end = nullptr;
  const long number = value.empty() || value[0] == '-' || value[0] == '+' ? -1 : std::strtol(value.c_str(), &end, 10);
  if (number < low || number > high || end == nullptr || *end != '\0') {
    throw std::invalid_argument(std::string(variable) + ": '" + value + "' is not a number from " +
                                std::to_string(low) + " to " + std::to_string(high));
  }
  return number;
}

std::vector<std::string> split_names(const char* text) {
  std::vector<std::string> names;
  if (text == nullptr) return names;
  std::string current;
  for (const char* c = text;; ++c) {
    if (*c == ':' || *c == '\0') {
      names.push_back(current);
      current.clear();
      if (*c == '\0') break;
    } else {
      current += *c;
    }
  }
  return names;
}

}  // namespace

InheritedDescriptors parse_inherited_descriptors(const char* listen_pid, const char* listen_fds,
                                                 const char* listen_fdnames, const char* ready_fd, pid_t pid) {
  InheritedDescriptors inherited;
  if (listen_fds == nullptr) return inherited;
  // Like sd_listen_fds(): descriptors for another process (a parent that
  // forgot to unset the variables) are not ours.
  if (listen_pid == nullptr || whole_number(listen_pid, 1, 1L << 30, "LISTEN_PID") != pid) return inherited;
  const long count = whole_number(listen_fds, 0, kMaxDescriptors, "LISTEN_FDS");
  const std::vector<std::string> names = split_names(listen_fdnames);
  if (listen_fdnames != nullptr && static_cast<long>(names.size()) != count) {
    throw std::invalid_argument("LISTEN_FDNAMES: " + std::to_string(names.size()) + " names for " +
                                std::to_string(count) + " descriptors");
  }
  for (long i = 0; i < count; ++i) {
    const int fd = kFirstInheritedDescriptor + static_cast<int>(i);
    const std::string name = names.empty() ? "" : names[i];
    int* slot = name == "admin" ? &inherited.admin : name == "redirect" ? &inherited.redirect : &inherited.proxy;
    if (name != "proxy" && name != "admin" && name != "redirect" && count > 1) {
      throw std::invalid_argument("LISTEN_FDNAMES: '" + name +
                                  "' is not proxy, admin or redirect (systemd: FileDescriptorName=)");
    }
    if (*slot >= 0) throw std::invalid_argument("LISTEN_FDNAMES: two descriptors named '" + name + "'");
    *slot = fd;
  }
  if (ready_fd != nullptr) {
    inherited.ready_pipe =
        static_cast<int>(whole_number(ready_fd, kFirstInheritedDescriptor, 1L << 20, "LB_UPGRADE_READY_FD"));
  }
  return inherited;
}

InheritedDescriptors take_inherited_descriptors() {
  const InheritedDescriptors inherited =
      parse_inherited_descriptors(std::getenv("LISTEN_PID"), std::getenv("LISTEN_FDS"), std::getenv("LISTEN_FDNAMES"),
                                  std::getenv("LB_UPGRADE_READY_FD"), ::getpid());
  for (const char* name : kHandoverVariables) ::unsetenv(name);
  for (int fd : {inherited.proxy, inherited.admin, inherited.redirect, inherited.ready_pipe}) {
    if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  return inherited;
}

}  // namespace lb
