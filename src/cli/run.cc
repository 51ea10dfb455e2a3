// src/cli/run.cc — `encfsr run CONFIG -- COMMAND ARGS...`: the cron-script primitive.
//
// Mounts the reverse view on a private temporary directory (a mount child in its own process
// group, PR_SET_PDEATHSIG SIGTERM, readiness through a pipe), runs COMMAND with every "{}" in
// every argument replaced by the mountpoint, forwards SIGINT/SIGTERM/SIGHUP to it, then always
// unmounts (SIGTERM to the mount child; if the mount is still there, umount with retries, then
// lazily), removes the directory and exits with the command's status (128+N if killed by
// signal N). If the mount fails the command never runs and the mount's exit code is returned.
//
// Quiet on success: the only output is the command's own. A one-line summary of what the
// command read through the view (entries looked up, bytes read, time; counted by the FUSE glue
// in the mount child and sent back through a pipe) goes to syslog, or to stderr with -v.
// GCC 12 reports a false -Wnull-dereference inside CLI11's inlined CLI::detail::split here.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "src/cli/cli_error.h"
#include "src/cli/commands.h"
#include "src/cli/key_source.h"
#include "src/cli/mountpoint.h"
#include "src/cli/report.h"
#include "src/cli/reverse_setup.h"
#include "src/fs/reverse_view.h"
#include "src/util/exit_codes.h"
#include "src/util/log.h"
#include "src/util/unique_fd.h"

namespace encfsr::cli {
namespace {

struct RunArgs {
  bool verbose = false;
  std::string mountpoint;  // --mountpoint: a fixed directory instead of a temporary one
  std::string config;
  std::vector<std::string> command;
  KeyOptions keys;
};

volatile std::sig_atomic_t g_pending_signal = 0;
volatile pid_t g_command_pid = 0;

void forward_signal(int sig) {
  g_pending_signal = sig;
  const pid_t pid = g_command_pid;
  if (pid > 0) ::kill(pid, sig);
}

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP};

// Installs the forwarding handlers; restores the previous ones on destruction.
class SignalForwarding {
 public:
  SignalForwarding() {
    struct sigaction action {};
    action.sa_handler = forward_signal;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < std::size(kForwarded); ++i) {
      ::sigaction(kForwarded[i], &action, &old_[i]);
    }
  }
  ~SignalForwarding() {
    for (std::size_t i = 0; i < std::size(kForwarded); ++i) {
      ::sigaction(kForwarded[i], &old_[i], nullptr);
    }
    g_command_pid = 0;
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  struct sigaction old_[std::size(kForwarded)]{};
};

// In a fresh child: default dispositions for the forwarded signals.
void reset_signals_in_child() {
  for (int sig : kForwarded) ::signal(sig, SIG_DFL);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  std::size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

pid_t wait_child(pid_t pid, int* status, int flags) {
  pid_t got = 0;
  do {
    got = ::waitpid(pid, status, flags);
  } while (got < 0 && errno == EINTR);
  return got;
}

int status_to_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return util::kExitInternal;
}

// Where `run` mounts: a temporary directory, removed (after the unmount) on destruction, or
// the fixed directory of --mountpoint (checked like mount's, and left in place).
class RunMountpoint {
 public:
  explicit RunMountpoint(const std::string& fixed) : temporary_(fixed.empty()) {
    if (!temporary_) {
      path_ = absolute_mountpoint(fixed);
      check_mountpoint(path_);
      check_mountpoint_empty(path_);
      return;
    }
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
    pattern += "/encfsr-run.XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
      throw CliError(util::kExitMountpoint, "cannot create a temporary mountpoint " + pattern +
                                                ": " + std::strerror(errno));
    }
    path_ = absolute_mountpoint(buf.data());
  }
  ~RunMountpoint() {
    if (temporary_ && ::rmdir(path_.c_str()) != 0) {
      util::log::warning("cannot remove the temporary mountpoint " + path_ + ": " +
                         std::strerror(errno));
    }
  }
  RunMountpoint(const RunMountpoint&) = delete;
  RunMountpoint& operator=(const RunMountpoint&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  bool temporary_;
  std::string path_;
};

// Owns the mount child: stops it and makes sure nothing stays mounted.
class MountChild {
 public:
  MountChild(pid_t pid, std::string mountpoint) : pid_(pid), mountpoint_(std::move(mountpoint)) {}
  ~MountChild() { stop(); }
  MountChild(const MountChild&) = delete;
  MountChild& operator=(const MountChild&) = delete;

  void reaped() { pid_ = 0; }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      bool gone = false;
      for (int i = 0; i < 200 && !gone; ++i) {  // up to 10 s
        gone = wait_child(pid_, &status, WNOHANG) != 0;
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (!gone) {
        util::log::warning("the mount process does not stop; killing it");
        ::kill(pid_, SIGKILL);
        wait_child(pid_, &status, 0);
      }
      pid_ = 0;
    }
    for (int attempt = 0; attempt < 10 && is_fuse_mount(mountpoint_); ++attempt) {
      const std::string why = unmount(mountpoint_, false);
      if (why.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (is_fuse_mount(mountpoint_)) {
      const std::string why = unmount(mountpoint_, true);
      if (!why.empty()) util::log::error("cannot unmount " + mountpoint_ + ": " + why);
    }
  }

 private:
  pid_t pid_;
  std::string mountpoint_;
};

// "run: COMMAND exited with status 0 after 12.3 s; it looked up N entries and read B bytes
// (1.2 GiB) through the view": to stderr with -v, else to syslog.
void log_summary(const std::string& program, int code, double seconds,
                 const std::optional<ServeStats>& stats) {
  char time_text[32];
  std::snprintf(time_text, sizeof time_text, "%.1f", seconds);
  std::string line = "run: " + printable_path(program) + " exited with status " +
                     std::to_string(code) + " after " + time_text + " s; ";
  if (stats) {
    line += "it looked up " + std::to_string(stats->lookups) + " entries and read " +
            std::to_string(stats->bytes_read) + " bytes (" +
            human_bytes(static_cast<double>(stats->bytes_read)) + ") through the view";
  } else {
    line += "the mount process reported no counters";
  }
  if (util::log::verbose()) {
    util::log::info(line);
    return;
  }
  util::log::to_syslog(true);
  util::log::info(line);
  util::log::to_syslog(false);
}

int run_command(RunArgs& args) {
  if (args.command.empty()) throw CliError(util::kExitUsage, "no command given after --");
  util::log::set_verbose(args.verbose);
  ReverseSetup setup = prepare_reverse(args.config, args.keys, true);
  check_fuse_device();

  ServeOptions serve_options;
  serve_options.max_threads = setup.config.mount.threads;
  if (setup.config.mount.allow_other) serve_options.fuse_options.emplace_back("allow_other");
  const ViewFactory factory = reverse_view_factory(setup, false);

  SignalForwarding forwarding;
  RunMountpoint dir(args.mountpoint);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw CliError(util::kExitInternal, "cannot create a pipe");
  util::UniqueFd read_end(fds[0]);
  util::UniqueFd write_end(fds[1]);
  if (::pipe2(fds, O_CLOEXEC) != 0) throw CliError(util::kExitInternal, "cannot create a pipe");
  util::UniqueFd stats_read(fds[0]);
  util::UniqueFd stats_write(fds[1]);
  const pid_t parent = ::getpid();
  std::fflush(nullptr);
  const pid_t mount_pid = ::fork();
  if (mount_pid < 0) throw CliError(util::kExitInternal, "cannot fork the mount process");
  if (mount_pid == 0) {
    reset_signals_in_child();
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(util::kExitInternal);
    read_end.reset();
    stats_read.reset();
    serve_options.stats_fd = stats_write.release();
    int code = util::kExitInternal;
    try {
      code = serve(factory, dir.path(), serve_options, write_end.release());
    } catch (const std::exception& e) {
      util::log::error(std::string("internal error: ") + e.what());
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  ::setpgid(mount_pid, mount_pid);  // also done by the child; whichever runs first
  write_end.reset();
  stats_write.reset();
  MountChild mount(mount_pid, dir.path());

  const ReadyReport report = wait_ready(read_end.get(), mount_pid);
  if (report.code != 0) {
    mount.reaped();
    throw CliError(report.code, report.message);
  }
  if (g_pending_signal != 0) {
    util::log::warning("interrupted before the command started");
    return 128 + g_pending_signal;
  }

  std::vector<std::string> command;
  command.reserve(args.command.size());
  for (const std::string& arg : args.command) command.push_back(replace_all(arg, "{}", dir.path()));
  std::vector<char*> argv;
  argv.reserve(command.size() + 1);
  for (std::string& arg : command) argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::fflush(nullptr);
  const auto started = std::chrono::steady_clock::now();
  const pid_t command_pid = ::fork();
  if (command_pid < 0) throw CliError(util::kExitInternal, "cannot fork the command");
  if (command_pid == 0) {
    reset_signals_in_child();
    ::execvp(argv[0], argv.data());
    const int err = errno;
    std::fprintf(stderr, "encfsr: error: cannot run %s: %s\n", argv[0], std::strerror(err));
    ::_exit(err == ENOENT ? 127 : 126);
  }
  g_command_pid = command_pid;
  if (g_pending_signal != 0) ::kill(command_pid, g_pending_signal);
  int status = 0;
  const pid_t got = wait_child(command_pid, &status, 0);
  g_command_pid = 0;
  const int code = got == command_pid ? status_to_code(status) : util::kExitInternal;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  mount.stop();
  log_summary(args.command.front(), code, seconds, read_serve_stats(stats_read.get()));
  return code;
}

}  // namespace

CommandRunner add_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* command = app.add_subcommand(
      "run",
      "Mount the encrypted view of CONFIG on a private temporary directory, run COMMAND with "
      "every {} replaced by that directory, unmount, and exit with COMMAND's status "
      "(128+N if it was killed by signal N). Prints nothing of its own on success; a one-line "
      "summary (entries looked up, bytes read, time) goes to syslog, or to stderr with -v. "
      "Tools that key their caches or snapshots by path (restic's parent snapshot, borg's and "
      "bup's file caches) need the same path every night: give it with --mountpoint.");
  command
      ->add_option("--mountpoint", args->mountpoint,
                   "mount on this existing, empty directory (left in place afterwards) instead "
                   "of a new temporary one, so that {} is the same path at every run")
      ->type_name("DIR");
  command->add_flag("-v,--verbose", args->verbose,
                    "print the mount, the unmount and the summary on stderr instead of syslog");
  command->add_option("CONFIG", args->config, "configuration file")->required();
  command->add_option("COMMAND", args->command, "command and arguments, after --")->required();
  add_key_options(*command, args->keys, true);
  return [args]() { return run_command(*args); };
}

}  // namespace encfsr::cli
