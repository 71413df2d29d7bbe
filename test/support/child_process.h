// Runs a program as a child process for a test and collects what it prints.
//
//   test_support::ChildProcess backend(LB_BIN_DIR "/backend_server", {"0"});
//   int port = backend.port_from_listening_line();
//   ...
//   backend.signal(SIGTERM);
//   REQUIRE(backend.wait_exit(std::chrono::seconds(10)) == 0);
//
// A background thread drains stdout and stderr all the time, so a chatty child
// never blocks on a full pipe. The destructor SIGKILLs and reaps the child if
// it is still running; it only ever signals its own child's PID.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

class ChildProcess {
 public:
  // Starts `program` (a path, not looked up in PATH) with `args` as argv[1..],
  // stdin from /dev/null, default signal dispositions and an empty signal mask.
  // Throws std::runtime_error if the program cannot be started.
  ChildProcess(const std::string& program, const std::vector<std::string>& args);
  ~ChildProcess();

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Waits up to `timeout` for the `occurrence`-th line (1 = first) of stdout or
  // stderr, in order of arrival, that contains `needle`, and returns it without
  // its newline. Lines that arrived before the call count. Returns nullopt on
  // timeout, or as soon as both streams are closed without such a line.
  // (Each stream's lines keep their order; between stdout and stderr the order
  // is only as good as the pipes deliver it.)
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds timeout,
                                           std::size_t occurrence = 1);

  // Waits for the first line containing `marker` (by default the "listening on
  // HOST:PORT" line both programs print) and returns PORT. Throws
  // std::runtime_error, with everything printed so far, if none comes in time.
  int port_from_listening_line(std::chrono::milliseconds timeout = std::chrono::seconds(15),
                               const std::string& marker = "listening on ");

  // The port in "... <marker>HOST:PORT ..." (the digits after the last ':' of
  // the word after `marker`; "http://h:80/" works too), or nullopt.
  static std::optional<int> parse_listening_port(const std::string& line,
                                                 const std::string& marker = "listening on ");

  // Sends `signo` to the child unless it has already been reaped. Returns
  // whether the signal was sent.
  bool signal(int signo);

  // Waits up to `timeout` for the child to exit and reaps it. Returns its exit
  // code, or 128 + N when killed by signal N (as a shell reports it), or
  // nullopt if it is still running. Once the child is reaped it also waits
  // (within the same timeout) until its output has been read to the end, so
  // output() is complete. Later calls return the same status at once.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  // True until the child has been seen to exit.
  bool running();

  // Every complete line read so far from stdout and stderr, in order of
  // arrival, each followed by '\n', then any unterminated tail of each stream.
  std::string output() const;
  std::string stdout_text() const;  // the child's stdout so far, exactly
  std::string stderr_text() const;  // the child's stderr so far, exactly
  std::vector<std::string> lines() const;  // complete lines so far, no newlines

  // How many lines so far contain `needle`.
  std::size_t count_lines(const std::string& needle) const;

 private:
  struct Stream {
    int fd = -1;
    std::string text;     // everything read; guards: mutex_
    std::string partial;  // bytes after the last newline; guards: mutex_
    bool open = true;     // guards: mutex_
  };

  void read_loop();
  void append(Stream& stream, const char* data, std::size_t length);
  void reap(int status);

  std::string program_;
  pid_t pid_ = -1;
  int pidfd_ = -1;             // for waiting on exit with poll(); -1 if unsupported
  int wake_pipe_[2] = {-1, -1};  // the destructor writes here to stop read_loop()
  bool reaped_ = false;
  int exit_status_ = -1;       // as wait_exit() reports it, once reaped_
  bool echo_ = false;          // TEST_CHILD_ECHO set: copy lines to our stderr

  mutable std::mutex mutex_;
  std::condition_variable changed_;  // new line or stream closed
  Stream out_;
  Stream err_;
  std::vector<std::string> lines_;  // guards: mutex_
  std::thread reader_;
};

}  // namespace test_support
