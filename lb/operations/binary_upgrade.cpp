#include "lb/operations/binary_upgrade.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "lb/operations/service_notify.h"

extern char** environ;

namespace lb {

namespace {

constexpr const char kReady[] = "READY";
constexpr const char kPidVariable[] = "LISTEN_PID=";
constexpr int kPidDigits = 20;

bool is_handover_variable(const char* entry) {
  for (const char* name : kHandoverVariables) {
    const size_t length = std::strlen(name);
    if (std::strncmp(entry, name, length) == 0 && entry[length] == '=') return true;
  }
  return false;
}

// What execve() gets, all built before fork(): the child may only call
// async-signal-safe functions, so it writes its pid into the room left in
// `pid_entry` and allocates nothing.
struct ExecPlan {
  std::vector<std::string> argument_texts;
  std::vector<std::string> environment_texts;
  std::vector<char*> argv;
  std::vector<char*> envp;
  char* pid_digits = nullptr;  // inside the LISTEN_PID entry
  std::vector<int> sources;    // the listeners, then the pipe's write end
  int max_descriptor = 1024;
};

ExecPlan plan_exec(const std::vector<std::string>& arguments, const std::vector<HandedListener>& listeners,
                   int ready_write_end) {
  ExecPlan plan;
  plan.argument_texts = arguments;
  std::string names;
  for (const HandedListener& listener : listeners) {
    names += (names.empty() ? "" : ":") + listener.name;
    plan.sources.push_back(listener.fd);
  }
  plan.sources.push_back(ready_write_end);
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!is_handover_variable(*entry)) plan.environment_texts.emplace_back(*entry);
  }
  plan.environment_texts.push_back("LISTEN_FDS=" + std::to_string(listeners.size()));
  plan.environment_texts.push_back("LISTEN_FDNAMES=" + names);
  const size_t ready_fd = kFirstInheritedDescriptor + listeners.size();  // after the listeners
  plan.environment_texts.push_back("LB_UPGRADE_READY_FD=" + std::to_string(ready_fd));
  plan.environment_texts.push_back(std::string(kPidVariable) + std::string(kPidDigits, '\0'));
  for (std::string& text : plan.argument_texts) plan.argv.push_back(text.data());
  plan.argv.push_back(nullptr);
  for (std::string& text : plan.environment_texts) plan.envp.push_back(text.data());
  plan.envp.push_back(nullptr);
  plan.pid_digits = plan.environment_texts.back().data() + std::strlen(kPidVariable);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    plan.max_descriptor = static_cast<int>(std::min<rlim_t>(limit.rlim_cur, INT_MAX));
  }
  return plan;
}

// In the child, between fork() and execve(): descriptors 3, 4, ... become
// the listeners and the pipe, every other one above 2 is closed (client and
// backend connections must not live on in the new process).
[[noreturn]] void exec_successor(const std::string& path, ExecPlan& plan) {
  const int count = static_cast<int>(plan.sources.size());
  const int above = kFirstInheritedDescriptor + count;  // copies first, out of the way of the targets
  int copies[64];
  for (int i = 0; i < count && i < 64; ++i) copies[i] = ::fcntl(plan.sources[i], F_DUPFD, above);
  // dup2's copies are not close-on-exec.
  for (int i = 0; i < count && i < 64; ++i) ::dup2(copies[i], kFirstInheritedDescriptor + i);
  if (::close_range(above, ~0U, 0) != 0) {
    for (int fd = above; fd < plan.max_descriptor; ++fd) ::close(fd);
  }
  char digits[kPidDigits];
  int length = 0;
  for (pid_t pid = ::getpid(); pid > 0 && length < kPidDigits; pid /= 10) {
    digits[length++] = static_cast<char>('0' + pid % 10);
  }
  for (int i = 0; i < length; ++i) plan.pid_digits[i] = digits[length - 1 - i];
  ::execve(path.c_str(), plan.argv.data(), plan.envp.data());
  ::_exit(127);
}

// Waits for "READY" on `read_end` until `timeout`; "" when it came, else why not.
std::string wait_until_ready(int read_end, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string received;
  for (;;) {
    using std::chrono::milliseconds;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "not ready within " + std::to_string(timeout.count() / 1000) + " s";
    pollfd wait{read_end, POLLIN, 0};
    const int ready = ::poll(&wait, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return std::string("poll: ") + std::strerror(errno);
    if (ready <= 0) continue;
    char buffer[16];
    const ssize_t got = ::read(read_end, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return "it exited before it was ready";
    received.append(buffer, static_cast<size_t>(got));
    if (received.find(kReady) != std::string::npos) return "";
  }
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + ::strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

BinaryUpgrade::BinaryUpgrade(std::vector<std::string> arguments) : arguments_(std::move(arguments)) {
  char buffer[PATH_MAX];
  const ssize_t length = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  path_ = length > 0 ? std::string(buffer, static_cast<size_t>(length)) : arguments_.front();
}

bool BinaryUpgrade::start_successor(const std::vector<HandedListener>& listeners, std::chrono::milliseconds timeout,
                                    pid_t& successor, std::string& error) const {
  int pipe_ends[2];
  if (::pipe2(pipe_ends, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  ExecPlan plan = plan_exec(arguments_, listeners, pipe_ends[1]);
  const pid_t child = ::fork();
  if (child == 0) exec_successor(path_, plan);
  ::close(pipe_ends[1]);
  if (child < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    ::close(pipe_ends[0]);
    return false;
  }
  error = wait_until_ready(pipe_ends[0], timeout);
  ::close(pipe_ends[0]);
  successor = child;
  if (error.empty()) return true;
  // Not ready: it must not serve half-started beside this process.
  ::kill(child, SIGKILL);
  int status = 0;
  if (::waitpid(child, &status, 0) == child && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
    error += " (" + exit_text(status) + ")";
  }
  error = path_ + " (pid " + std::to_string(child) + "): " + error;
  return false;
}

void announce_ready(InheritedDescriptors& inherited) {
  if (inherited.ready_pipe < 0) {
    notify_service_manager("READY=1");
    return;
  }
  notify_service_manager("MAINPID=" + std::to_string(::getpid()) + "\nREADY=1");
  const ssize_t written = ::write(inherited.ready_pipe, kReady, sizeof kReady - 1);
  (void)written;  // a predecessor that is gone has nothing left to wait for
  ::close(inherited.ready_pipe);
  inherited.ready_pipe = -1;
}

}  // namespace lb
