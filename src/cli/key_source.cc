// src/cli/key_source.cc — password sources (file, command, stdin, terminal prompt without echo)
// and unlocking a key file with a password or a paper key.
//
// Secrets are read byte by byte straight into crypto::SecureBuffer (no stdio buffers, no
// std::string copies). The terminal prompt turns echo off and restores it on every path,
// including when the process is interrupted by a signal while waiting for input.
//
// Unlocking with a password runs Argon2id, whose memory cost (256 MiB by default) would stay
// in this process's peak memory (VmHWM) for its whole life, and a mount's daemon is this process
// (-f) or its fork. So the key derivation and unwrap run in a short-lived child: it inherits
// the password, writes a status byte and the 32-byte master key into a pipe, wipes its copy and
// exits; the parent reads the key straight into secure memory.
#include "src/cli/key_source.h"

#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "config/key_file.h"
#include "crypto/paper_key.h"
#include "src/cli/cli_error.h"
#include "src/cli/kdf_options.h"
#include "src/util/exit_codes.h"
#include "src/util/unique_fd.h"
#include "src/util/write_all.h"

namespace encfsr::cli {
namespace {

// Longest password (or paper key file) accepted, in bytes.
constexpr std::size_t kMaxSecret = 4096;

std::string errno_text(int err) { return std::strerror(err); }

// Writes all of `text` to fd (best effort: prompts only).
void write_text(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

using Clock = std::chrono::steady_clock;

// Waits until fd is readable or `deadline` passes (no deadline: returns at once). False on
// timeout.
bool wait_readable(int fd, const std::optional<Clock::time_point>& deadline) {
  if (!deadline) return true;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
    if (left <= 0) return false;
    struct pollfd pfd {};
    pfd.fd = fd;
    pfd.events = POLLIN;
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (ready > 0) return true;  // data, EOF or an error: read() tells which
    if (ready < 0 && errno != EINTR) return true;
  }
}

// Reads one line from fd into secure memory, byte by byte so nothing after the line is
// consumed. Strips the '\n' and one '\r' before it. Stops at EOF. Returns false with `err` set
// on a read error; `too_long` when the line exceeds kMaxSecret; `timed_out` when `deadline`
// passed first.
struct LineResult {
  crypto::SecureBuffer line;
  int err = 0;
  bool too_long = false;
  bool saw_newline = false;
  bool timed_out = false;
};

LineResult read_secret_line(int fd, const std::optional<Clock::time_point>& deadline = {}) {
  LineResult result;
  result.line = crypto::SecureBuffer(kMaxSecret + 1);
  std::size_t used = 0;
  for (;;) {
    if (!wait_readable(fd, deadline)) {
      result.timed_out = true;
      break;
    }
    std::uint8_t byte = 0;
    ssize_t n = ::read(fd, &byte, 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      result.err = errno;
      break;
    }
    if (n == 0) break;
    if (byte == '\n') {
      result.saw_newline = true;
      break;
    }
    if (used == kMaxSecret + 1) {
      result.too_long = true;
      continue;  // keep consuming the line so a following line stays readable
    }
    result.line.data()[used++] = byte;
    sodium_memzero(&byte, sizeof byte);
  }
  if (used > 0 && result.line.data()[used - 1] == '\r') --used;
  if (used > kMaxSecret) result.too_long = true;
  result.line.truncate(used);
  return result;
}

// Checks a line read from a source; throws for errors, empty or oversized secrets.
crypto::SecureBuffer accept_line(LineResult result, const std::string& source) {
  if (result.err != 0) {
    throw CliError(util::kExitPassword,
                   "cannot read the password from " + source + ": " + errno_text(result.err));
  }
  if (result.too_long) {
    throw CliError(util::kExitPassword, "the password from " + source + " is longer than " +
                                            std::to_string(kMaxSecret) + " bytes");
  }
  if (result.line.empty()) {
    throw CliError(util::kExitPassword, "empty password from " + source + " refused");
  }
  return std::move(result.line);
}

crypto::SecureBuffer password_from_file(const std::string& file) {
  util::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    throw CliError(util::kExitPassword,
                   "cannot open password file " + file + ": " + errno_text(errno));
  }
  return accept_line(read_secret_line(fd.get()), "password file " + file);
}

// Hands the terminal's foreground to a process group and back (shells do the same for a job), so
// that a password command in its own process group can still ask on the terminal (gpg's
// pinentry, ssh-askpass in a tty). No-op without a controlling terminal or when this process is
// not in its foreground.
class TerminalHandoff {
 public:
  TerminalHandoff() : tty_(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) {
    if (tty_ && ::tcgetpgrp(tty_.get()) == ::getpgrp()) {
      own_group_ = ::getpgrp();
      saved_ = ::tcgetattr(tty_.get(), &modes_) == 0;
    }
  }
  TerminalHandoff(const TerminalHandoff&) = delete;
  TerminalHandoff& operator=(const TerminalHandoff&) = delete;
  // Takes the terminal back, in the modes it had: a prompt killed at the timeout (a pinentry
  // that turned echo off) must not leave the user's terminal without echo.
  ~TerminalHandoff() {
    if (own_group_ <= 0) return;
    give_to(own_group_);
    if (saved_) ::tcsetattr(tty_.get(), TCSANOW, &modes_);
  }
  // The tty fd for the child (-1 when there is nothing to hand over).
  [[nodiscard]] int child_tty() const noexcept { return own_group_ > 0 ? tty_.get() : -1; }
  void give_to(pid_t group) noexcept {
    if (own_group_ <= 0) return;
    // From a background group tcsetpgrp raises SIGTTOU unless it is blocked.
    sigset_t ttou;
    sigset_t old;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    ::sigprocmask(SIG_BLOCK, &ttou, &old);
    ::tcsetpgrp(tty_.get(), group);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
  }

 private:
  util::UniqueFd tty_;
  pid_t own_group_ = 0;
  termios modes_{};
  bool saved_ = false;
};

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", seconds);
  return text;
}

crypto::SecureBuffer password_from_command(const std::string& command, double timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw CliError(util::kExitInternal, "pipe: " + errno_text(errno));
  }
  util::UniqueFd read_end(fds[0]);
  util::UniqueFd write_end(fds[1]);
  TerminalHandoff terminal;
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  const char* shell = "/bin/sh";
  const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
  const int child_tty = terminal.child_tty();
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(std::min(timeout, 1e7)));
  pid_t pid = ::fork();
  if (pid < 0) throw CliError(util::kExitInternal, "fork: " + errno_text(errno));
  if (pid == 0) {
    // Its own process group, so that a timeout kills the shell and everything it started.
    ::setpgid(0, 0);
    if (child_tty >= 0) {
      ::signal(SIGTTOU, SIG_IGN);
      ::tcsetpgrp(child_tty, ::getpid());
      ::signal(SIGTTOU, SIG_DFL);
    }
    if (::dup2(write_end.get(), STDOUT_FILENO) < 0) ::_exit(127);
    ::execv(shell,
            const_cast<char* const*>(argv));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also done by the child; whichever runs first
  write_end.reset();
  LineResult line = read_secret_line(read_end.get(), deadline);
  // Drain the rest so the command is not killed by SIGPIPE; wipe what was read.
  std::array<char, 512> sink{};
  bool timed_out = line.timed_out;
  while (!timed_out) {
    if (!wait_readable(read_end.get(), deadline)) {
      timed_out = true;
      break;
    }
    ssize_t n = ::read(read_end.get(), sink.data(), sink.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
  }
  sodium_memzero(sink.data(), sink.size());
  read_end.reset();
  if (timed_out) ::kill(-pid, SIGKILL);  // the whole group: sh and whatever it started
  int status = 0;
  for (;;) {
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw CliError(util::kExitInternal, "waitpid: " + errno_text(errno));
    }
    if (got == pid) break;
    // Its output is closed but it still runs: it has until the deadline to exit.
    if (!timed_out && Clock::now() >= deadline) {
      timed_out = true;
      ::kill(-pid, SIGKILL);
    }
    ::usleep(10'000);
  }
  terminal.give_to(::getpgrp());
  if (timed_out) {
    throw CliError(util::kExitPassword,
                   "the password command did not answer and exit within " + seconds_text(timeout) +
                       " s and was killed (password_command_timeout in the config, "
                       "--password-command-timeout on the command line)");
  }
  if (WIFSIGNALED(status)) {
    throw CliError(util::kExitPassword,
                   "password command was killed by signal " + std::to_string(WTERMSIG(status)));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    throw CliError(util::kExitPassword, "password command failed with exit status " +
                                            std::to_string(WEXITSTATUS(status)));
  }
  return accept_line(std::move(line), "the password command");
}

// ---- terminal prompt ----

// The terminal whose echo is off and its saved settings, for the signal handler.
volatile std::sig_atomic_t g_tty_fd = -1;
struct termios g_saved_termios;

extern "C" void restore_tty_and_reraise(int sig) {
  int fd = g_tty_fd;
  if (fd >= 0) {
    ::tcsetattr(fd, TCSAFLUSH, &g_saved_termios);
    static const char kNewline = '\n';
    [[maybe_unused]] ssize_t ignored = ::write(fd, &kNewline, 1);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Echo off for the lifetime of the object; restored in the destructor and by the signal
// handlers installed meanwhile.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (::tcgetattr(fd, &saved_) != 0) {
      throw CliError(util::kExitPassword,
                     "no password: cannot use the terminal: " + errno_text(errno));
    }
    g_saved_termios = saved_;
    g_tty_fd = fd;
    struct sigaction action {};
    action.sa_handler = restore_tty_and_reraise;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
      ::sigaction(kSignals[i], &action, &old_actions_[i]);
    }
    struct termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK);
    quiet.c_lflag |= ECHONL;
    if (::tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
      int err = errno;
      restore();
      throw CliError(util::kExitPassword, "no password: cannot turn off echo: " + errno_text(err));
    }
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;
  ~EchoOff() { restore(); }

 private:
  static constexpr std::array<int, 4> kSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

  void restore() noexcept {
    ::tcsetattr(fd_, TCSAFLUSH, &saved_);
    g_tty_fd = -1;
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
      ::sigaction(kSignals[i], &old_actions_[i], nullptr);
    }
  }

  int fd_;
  struct termios saved_ {};
  std::array<struct sigaction, 4> old_actions_{};
};

crypto::SecureBuffer password_from_stdin() {
  if (::isatty(STDIN_FILENO)) {  // typed by hand: do not echo it either
    EchoOff echo_off(STDIN_FILENO);
    return accept_line(read_secret_line(STDIN_FILENO), "standard input");
  }
  return accept_line(read_secret_line(STDIN_FILENO), "standard input");
}

crypto::SecureBuffer prompt_once(int tty, const char* prompt) {
  LineResult line;
  {
    // Echo goes off before the prompt appears, so nothing typed after it is ever echoed.
    EchoOff echo_off(tty);
    write_text(tty, prompt);
    line = read_secret_line(tty);
  }
  if (!line.saw_newline && line.err == 0) write_text(tty, "\n");
  return accept_line(std::move(line), "the terminal");
}

crypto::SecureBuffer password_from_prompt(const char* prompt, bool confirm) {
  util::UniqueFd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!tty || !::isatty(tty.get())) {
    throw CliError(util::kExitPassword,
                   "no password: no terminal to ask on; use --password-file, "
                   "--password-command or --password-stdin");
  }
  crypto::SecureBuffer first = prompt_once(tty.get(), prompt);
  if (!confirm) return first;
  crypto::SecureBuffer second = prompt_once(tty.get(), "Repeat the password: ");
  if (first.size() != second.size() ||
      sodium_memcmp(first.data(), second.data(), first.size()) != 0) {
    throw CliError(util::kExitPassword, "the passwords do not match");
  }
  return first;
}

// The child's reply: one status byte, then the master key when the status is kOk.
constexpr std::size_t kReplyBytes = 1 + crypto::kMasterKeyBytes;

// In the child: unwraps, replies, wipes, exits. Never returns.
[[noreturn]] void unwrap_and_reply(const config::KeyFile& key_file, std::string_view password,
                                   int reply_fd) noexcept {
  std::uint8_t reply[kReplyBytes] = {};
  try {
    crypto::MasterKey master;
    const crypto::Status status = config::open_key_file(key_file, password, master);
    reply[0] = static_cast<std::uint8_t>(status);
    if (status == crypto::Status::kOk) {
      std::memcpy(reply + 1, master.bytes().data(), crypto::kMasterKeyBytes);
    }
  } catch (...) {  // out of memory
    reply[0] = static_cast<std::uint8_t>(crypto::Status::kInternal);
  }
  const std::size_t size = reply[0] == 0 ? kReplyBytes : 1;
  const bool written = util::write_all(reply_fd, reply, size) == 0;
  sodium_memzero(reply, sizeof reply);
  ::_exit(written ? 0 : 1);
}

// config::open_key_file in a child process (see the file comment). Must be called while this
// process has one thread (fork). Throws CliError if the child cannot run or dies.
crypto::Status open_key_file_in_child(const config::KeyFile& key_file, std::string_view password,
                                      const std::string& where, crypto::MasterKey& out) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw CliError(util::kExitInternal,
                   "cannot unlock key file " + where + ": pipe: " + errno_text(errno));
  }
  util::UniqueFd read_end(fds[0]);
  util::UniqueFd write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw CliError(util::kExitInternal,
                   "cannot unlock key file " + where + ": fork: " + errno_text(errno));
  }
  if (pid == 0) {
    read_end.reset();
    unwrap_and_reply(key_file, password, write_end.get());
  }
  write_end.reset();
  crypto::SecureBuffer reply(kReplyBytes);
  std::size_t used = 0;
  while (used < reply.size()) {
    const ssize_t n = ::read(read_end.get(), reply.data() + used, reply.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += static_cast<std::size_t>(n);
  }
  read_end.reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw CliError(util::kExitInternal,
                     "cannot unlock key file " + where + ": waitpid: " + errno_text(errno));
    }
  }
  if (WIFSIGNALED(status)) {
    throw CliError(util::kExitInternal,
                   "cannot unlock key file " + where + ": the key derivation process was " +
                       "killed by signal " + std::to_string(WTERMSIG(status)) +
                       (WTERMSIG(status) == SIGKILL ? " (out of memory?)" : ""));
  }
  if (used == 0 || reply.data()[0] > static_cast<std::uint8_t>(crypto::Status::kInternal)) {
    throw CliError(util::kExitInternal,
                   "cannot unlock key file " + where + ": the key derivation process failed");
  }
  const auto result = static_cast<crypto::Status>(reply.data()[0]);
  if (result != crypto::Status::kOk) return result;
  if (used != kReplyBytes ||
      crypto::MasterKey::from_bytes(reply.span().subspan(1), out) != crypto::Status::kOk) {
    throw CliError(util::kExitInternal,
                   "cannot unlock key file " + where + ": the key derivation process failed");
  }
  return crypto::Status::kOk;
}

crypto::MasterKey master_from_paper_key_file(const std::string& file) {
  util::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    throw CliError(util::kExitPassword,
                   "cannot open master key file " + file + ": " + errno_text(errno));
  }
  crypto::SecureBuffer text(kMaxSecret + 1);
  std::size_t used = 0;
  while (used < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw CliError(util::kExitPassword,
                     "cannot read master key file " + file + ": " + errno_text(errno));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > kMaxSecret) {
    throw CliError(util::kExitPassword, "master key file " + file + " is too large");
  }
  text.truncate(used);
  crypto::MasterKey master;
  crypto::Status status = crypto::parse_paper_key(text.view(), master);
  if (status == crypto::Status::kAuthFailed) {
    throw CliError(util::kExitPassword,
                   "the paper key in " + file + " has a wrong checksum (a typo?)");
  }
  if (status != crypto::Status::kOk) {
    throw CliError(util::kExitPassword, "master key file " + file + " does not hold a paper key: " +
                                            crypto::describe(status));
  }
  return master;
}

}  // namespace

void add_key_options(CLI::App& command, KeyOptions& options, bool with_master_key) {
  const std::string group = "Key options";
  auto* file = command
                   .add_option_function<std::string>(
                       "--password-file",
                       [&options](const std::string& value) { options.password_file = value; },
                       "read the password from the first line of FILE")
                   ->type_name("FILE")
                   ->group(group);
  auto* cmd = command
                  .add_option_function<std::string>(
                      "--password-command",
                      [&options](const std::string& value) { options.password_command = value; },
                      "run CMD with /bin/sh -c; the password is the first line of its output")
                  ->type_name("CMD")
                  ->group(group);
  command
      .add_option_function<double>(
          "--password-command-timeout",
          [&options](const double& value) { options.password_command_timeout = value; },
          "kill the password command (its process group) and fail when it has not answered "
          "and exited within SECONDS (default 60; the config's password_command_timeout)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.001, 86400.0))
      ->group(group);
  auto* in = command
                 .add_flag("--password-stdin", options.password_stdin,
                           "read the password from the first line of standard input")
                 ->group(group);
  file->excludes(cmd)->excludes(in);
  cmd->excludes(in);
  if (with_master_key) {
    auto* master =
        command
            .add_option_function<std::string>(
                "--master-key-file",
                [&options](const std::string& value) { options.master_key_file = value; },
                "unlock with the paper key (printed by init) stored in FILE instead of a password")
            ->type_name("FILE")
            ->group(group);
    master->excludes(file)->excludes(cmd)->excludes(in);
  }
}

crypto::SecureBuffer read_password(const KeyOptions& options, const char* prompt, bool confirm) {
  if (options.password_file) return password_from_file(*options.password_file);
  if (options.password_command) {
    return password_from_command(*options.password_command,
                                 options.password_command_timeout.value_or(kDefaultCommandTimeout));
  }
  if (options.password_stdin) return password_from_stdin();
  return password_from_prompt(prompt, confirm);
}

crypto::MasterKey unlock(const std::filesystem::path& key_file, const KeyOptions& options) {
  config::KeyFile parsed;
  try {
    parsed = config::read_key_file(key_file);
  } catch (const config::KeyFileError& e) {
    throw CliError(util::kExitKeyFile, std::string("key file ") + e.what());
  }
  return unlock(parsed, key_file.string(), options);
}

std::string unaffordable_kdf_message(const config::KeyFile& key_file, const std::string& where) {
  return "key file " + where + " asks for Argon2id with " + KdfOptions::describe(key_file.kdf) +
         "; this encfsr derives keys with at most " + std::to_string(crypto::kMaxAffordableOps) +
         " passes over " + std::to_string(crypto::kMaxAffordableMem >> 20) +
         " MiB (a key file in a copy is written by whoever holds the storage); unlock it with "
         "--master-key-file, then lower its costs with passwd";
}

void check_kdf_affordable(const config::KeyFile& key_file, const std::string& where) {
  if (!crypto::kdf_params_affordable(key_file.kdf)) {
    throw CliError(util::kExitKeyFile, unaffordable_kdf_message(key_file, where));
  }
}

crypto::Status unwrap_in_child(const config::KeyFile& key_file, std::string_view password,
                               const std::string& where, crypto::MasterKey& out) {
  if (!crypto::kdf_params_affordable(key_file.kdf)) return crypto::Status::kTooLong;
  return open_key_file_in_child(key_file, password, where, out);
}

crypto::MasterKey unlock(const config::KeyFile& key_file, const std::string& where,
                         const KeyOptions& options, crypto::SecureBuffer* password_out) {
  if (options.master_key_file) {
    crypto::MasterKey master = master_from_paper_key_file(*options.master_key_file);
    if (!config::master_key_matches(key_file, master)) {
      throw CliError(util::kExitPassword, "the paper key does not belong to key file " + where);
    }
    return master;
  }
  // Before any password is asked and any hashing: a hostile copy's key file asking for
  // 4 GiB x 64 passes costs nothing.
  check_kdf_affordable(key_file, where);
  const std::string prompt = "Password for " + where + ": ";
  crypto::SecureBuffer password = read_password(options, prompt.c_str(), false);
  crypto::MasterKey master;
  switch (open_key_file_in_child(key_file, password.view(), where, master)) {
    case crypto::Status::kOk:
      if (password_out != nullptr) *password_out = std::move(password);
      return master;
    case crypto::Status::kWrongPassword:
      throw CliError(util::kExitPassword, "wrong password for key file " + where);
    case crypto::Status::kInternal:
      throw CliError(util::kExitInternal,
                     "cannot unlock key file " + where + ": out of memory or libsodium failure");
    default:
      throw CliError(util::kExitKeyFile,
                     "key file " + where + " is damaged: its check value does not match");
  }
}

}  // namespace encfsr::cli
