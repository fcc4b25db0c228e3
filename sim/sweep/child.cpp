#include "sim/sweep/child.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "common/error.h"
#include "sim/sweep/table.h"

namespace tasim::sweep {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_stop_signal == 0) g_stop_signal = sig;
}

// Pointers into `strings`, null-terminated, for execve; built before fork because the child of
// a multithreaded process may only make async-signal-safe calls.
std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void read_available(int& fd, std::string& into) {
  std::array<char, 65536> buf;
  const ssize_t n = read(fd, buf.data(), buf.size());
  if (n > 0) {
    into.append(buf.data(), static_cast<std::size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    close(fd);
    fd = -1;
  }
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocked poll() returns at once
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
}

int sweep_stop_requested() { return g_stop_signal; }

std::string self_executable() {
  std::array<char, 4096> buf;
  const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0)
    throw Error(fmt::format("cannot find this executable (/proc/self/exe: {})", std::strerror(errno)));
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

ChildResult run_child(const std::string& exe, const std::vector<std::string>& args,
                      const std::vector<std::string>& env, double timeout_s) {
  std::vector<std::string> argv_strings{exe};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = env;
  std::vector<char*> argv = c_strings(argv_strings);
  std::vector<char*> envp = c_strings(env_strings);
  const std::string exec_failed = fmt::format("tasim: error: cannot run {}\n", exe);

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw Error(fmt::format("pipe: {}", std::strerror(errno)));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw Error(fmt::format("pipe: {}", std::strerror(errno)));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    throw Error(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    // Its own process group, so a terminal's Ctrl-C reaches only the sweep, which then stops
    // its points; and killed with the sweep's thread that started it, so no point outlives an
    // interrupted sweep.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execve(exe.c_str(), argv.data(), envp.data());
    const ssize_t ignored = write(2, exec_failed.data(), exec_failed.size());
    (void)ignored;
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so kill(-pid) works even before the child ran setpgid
  close(out_pipe[1]);
  close(err_pipe[1]);

  ChildResult r;
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  const auto start = std::chrono::steady_clock::now();
  while (out_fd >= 0 || err_fd >= 0) {
    if (sweep_stop_requested()) {
      r.stopped = true;
      break;
    }
    int wait_ms = 100;  // how often the stop flag is looked at
    if (timeout_s > 0) {
      const double left_s =
          timeout_s - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (left_s <= 0) {
        r.timed_out = true;
        break;
      }
      wait_ms = std::min(wait_ms, static_cast<int>(left_s * 1000) + 1);
    }
    std::array<pollfd, 2> fds{{{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}}};
    if (poll(fds.data(), fds.size(), wait_ms) < 0) continue;  // EINTR: look at the flag again
    if (out_fd >= 0 && fds[0].revents) read_available(out_fd, r.out);
    if (err_fd >= 0 && fds[1].revents) read_available(err_fd, r.err);
  }
  if (r.stopped || r.timed_out) kill(-pid, SIGKILL);
  for (int fd : {out_fd, err_fd}) {
    if (fd >= 0) close(fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

std::string child_error(const ChildResult& r, double timeout_s) {
  if (r.timed_out) return fmt::format("timed out after {} s", timeout_s);
  if (r.signal != 0) {
    const char* name = sigdescr_np(r.signal);
    return fmt::format("killed by signal {} ({})", r.signal, name ? name : "unknown signal");
  }
  if (r.exit_status == 0) return "";
  // The child's own one-line error (`tasim: error: ...`), else its last words.
  std::string last;
  std::size_t pos = 0;
  while (pos < r.err.size()) {
    const std::size_t nl = std::min(r.err.find('\n', pos), r.err.size());
    const std::string line = single_line(r.err.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.rfind("tasim: error:", 0) == 0 || line.rfind("tasim: internal error:", 0) == 0) return line;
    if (!line.empty()) last = line;
  }
  return last.empty() ? fmt::format("exit status {}", r.exit_status)
                      : fmt::format("exit status {}: {}", r.exit_status, last);
}

}  // namespace tasim::sweep
