#include "test/support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace test_support {

namespace {

using Clock = std::chrono::steady_clock;

std::runtime_error system_error(const std::string& what, int err) {
  return std::runtime_error(what + ": " + std::strerror(err));
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  // Lets wait_exit() sleep in poll() instead of polling waitpid() on a timer.
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args)
    : program_(program), echo_(std::getenv("TEST_CHILD_ECHO") != nullptr) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw system_error("pipe2", errno);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw system_error("pipe2", err);
  }
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    int err = errno;
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    throw system_error("pipe2", err);
  }

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program_.c_str()));
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  // posix_spawn rather than fork: tests run threads (this reader, httplib
  // clients), and only exec-like spawning is safe in a threaded process.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  // Sockets httplib opened in this process are not close-on-exec; a child
  // holding one would keep that connection open.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;  // the test process ignores SIGPIPE; the child must not inherit that
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  int rc = ::posix_spawn(&pid_, program_.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    for (int fd : {out_pipe[0], err_pipe[0], wake_pipe_[0], wake_pipe_[1]}) ::close(fd);
    throw system_error("cannot start " + program_, rc);
  }
  pidfd_ = open_pidfd(pid_);
  out_.fd = out_pipe[0];
  err_.fd = err_pipe[0];
  reader_ = std::thread([this] { read_loop(); });
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  // The child is gone, but a grandchild could still hold the pipes open.
  char byte = 0;
  ssize_t ignored = ::write(wake_pipe_[1], &byte, 1);
  (void)ignored;
  reader_.join();
  for (int fd : {out_.fd, err_.fd, wake_pipe_[0], wake_pipe_[1], pidfd_}) {
    if (fd >= 0) ::close(fd);
  }
}

void ChildProcess::read_loop() {
  char buffer[16384];
  while (true) {
    pollfd fds[3];
    nfds_t count = 0;
    Stream* streams[2] = {nullptr, nullptr};
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (Stream* s : {&out_, &err_}) {
        if (!s->open) continue;
        streams[count] = s;
        fds[count++] = {s->fd, POLLIN, 0};
      }
    }
    if (count == 0) return;
    fds[count] = {wake_pipe_[0], POLLIN, 0};
    if (::poll(fds, count + 1, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[count].revents != 0) return;
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      append(*streams[i], buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
    }
  }
}

// Records `length` bytes of `stream`; length 0 means the stream has ended.
void ChildProcess::append(Stream& stream, const char* data, std::size_t length) {
  std::vector<std::string> echoed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (length == 0) {
      stream.open = false;
      if (!stream.partial.empty()) {  // an unterminated last line still counts
        lines_.push_back(stream.partial);
        if (echo_) echoed.push_back(stream.partial);
        stream.partial.clear();
      }
    } else {
      stream.text.append(data, length);
      for (std::size_t i = 0; i < length; ++i) {
        if (data[i] != '\n') {
          stream.partial.push_back(data[i]);
          continue;
        }
        lines_.push_back(stream.partial);
        if (echo_) echoed.push_back(stream.partial);
        stream.partial.clear();
      }
    }
  }
  changed_.notify_all();
  for (const auto& line : echoed) {
    std::string out = "[" + program_ + " " + std::to_string(pid_) + "] " + line + "\n";
    ssize_t ignored = ::write(STDERR_FILENO, out.data(), out.size());
    (void)ignored;
  }
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& needle,
                                                       std::chrono::milliseconds timeout,
                                                       std::size_t occurrence) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::size_t scanned = 0;
  std::size_t seen = 0;
  auto deadline = Clock::now() + timeout;
  while (true) {
    for (; scanned < lines_.size(); ++scanned) {
      if (lines_[scanned].find(needle) != std::string::npos && ++seen >= occurrence) {
        return lines_[scanned];
      }
    }
    if (!out_.open && !err_.open) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout &&
        scanned == lines_.size()) {
      return std::nullopt;
    }
  }
}

int ChildProcess::port_from_listening_line(std::chrono::milliseconds timeout,
                                           const std::string& marker) {
  auto line = wait_for_line(marker, timeout);
  std::optional<int> port = line ? parse_listening_port(*line, marker) : std::nullopt;
  if (!port) {
    throw std::runtime_error("no '" + marker + "HOST:PORT' line from " + program_ + " within " +
                             std::to_string(timeout.count()) + " ms; output so far:\n" +
                             output());
  }
  return *port;
}

std::optional<int> ChildProcess::parse_listening_port(const std::string& line,
                                                      const std::string& marker) {
  auto at = line.find(marker);
  if (at == std::string::npos) return std::nullopt;
  std::size_t begin = at + marker.size();
  std::size_t end = line.find_first_of(" \t\r\n", begin);
  std::string word = line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  // Skip a trailing path ("http://h:80/") before looking for the last ':'.
  std::size_t scheme = word.find("://");
  std::size_t slash = word.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash != std::string::npos) word.resize(slash);
  std::size_t colon = word.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  long port = 0;
  std::size_t digits = 0;
  for (std::size_t i = colon + 1; i < word.size() && word[i] >= '0' && word[i] <= '9'; ++i) {
    port = port * 10 + (word[i] - '0');
    if (++digits > 5) return std::nullopt;
  }
  if (digits == 0 || port < 1 || port > 65535) return std::nullopt;
  return static_cast<int>(port);
}

bool ChildProcess::signal(int signo) {
  if (reaped_) return false;
  return ::kill(pid_, signo) == 0;
}

void ChildProcess::reap(int status) {
  reaped_ = true;
  if (WIFEXITED(status)) {
    exit_status_ = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_status_ = 128 + WTERMSIG(status);
  }
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (reaped_) return exit_status_;
  auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      reap(status);
      break;
    }
    if (done < 0 && errno != EINTR) throw system_error("waitpid", errno);
    if (Clock::now() >= deadline) return std::nullopt;
    if (pidfd_ >= 0) {
      pollfd fd = {pidfd_, POLLIN, 0};
      ::poll(&fd, 1, remaining_ms(deadline));  // readable once the child exits
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // Let the reader reach the end of both streams so output() is complete.
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_until(lock, deadline, [this] { return !out_.open && !err_.open; });
  return exit_status_;
}

bool ChildProcess::running() {
  if (reaped_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    reap(status);
    return false;
  }
  return true;
}

std::string ChildProcess::output() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string all;
  for (const auto& line : lines_) all += line + "\n";
  if (out_.open) all += out_.partial;
  if (err_.open) all += err_.partial;
  return all;
}

std::string ChildProcess::stdout_text() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return out_.text;
}

std::string ChildProcess::stderr_text() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return err_.text;
}

std::vector<std::string> ChildProcess::lines() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lines_;
}

std::size_t ChildProcess::count_lines(const std::string& needle) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t count = 0;
  for (const auto& line : lines_) count += line.find(needle) != std::string::npos ? 1 : 0;
  return count;
}

}  // namespace test_support
