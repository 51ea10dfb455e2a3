// src/cli/mountpoint.cc — mountpoint and /dev/fuse checks, FUSE mount discovery and removal,
// and serve(): build a view, mount it, report readiness through a pipe, run the loop.
#include "src/cli/mountpoint.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "crypto/secure_buffer.h"
#include "src/cli/cli_error.h"
#include "src/fuse/session.h"
#include "src/util/exit_codes.h"
#include "src/util/log.h"
#include "src/util/mountinfo.h"
#include "src/util/no_core_dumps.h"
#include "src/util/unique_fd.h"
#include "src/util/write_all.h"

namespace encfsr::cli {
namespace {

namespace stdfs = std::filesystem;

std::string errno_text(int err) { return std::strerror(err); }

// Runs argv[0] from PATH and waits; returns its exit status or -1 if it could not run.
int run_program(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -1;
}

void redirect_stdio_to_null() {
  const util::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return;
  for (int fd = 0; fd <= 2; ++fd) ::dup2(null.get(), fd);
}

}  // namespace

std::string absolute_mountpoint(const std::string& path) {
  stdfs::path p(path);
  if (p.is_relative()) {
    std::error_code ec;
    const stdfs::path cwd = stdfs::current_path(ec);
    if (!ec) p = cwd / p;
  }
  std::string text = p.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  p = text;
  if (text == "/" || text.empty()) return "/";
  stdfs::path parent = p.parent_path();
  if (char* real = ::realpath(parent.c_str(), nullptr)) {
    parent = real;
    std::free(real);  // NOLINT(cppcoreguidelines-no-malloc)
  }
  return (parent / p.filename()).string();
}

void check_mountpoint(const std::string& abs_path) {
  struct stat st {};
  if (::stat(abs_path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      throw CliError(util::kExitMountpoint, "mountpoint " + abs_path + " does not exist");
    }
    if (err == ENOTCONN) {
      throw CliError(util::kExitMountpoint,
                     "mountpoint " + abs_path +
                         " is a dead FUSE mount (transport endpoint is not connected); run "
                         "'encfsr umount " +
                         abs_path + "' first");
    }
    throw CliError(util::kExitMountpoint,
                   "cannot access mountpoint " + abs_path + ": " + errno_text(err));
  }
  if (!S_ISDIR(st.st_mode)) {
    throw CliError(util::kExitMountpoint, "mountpoint " + abs_path + " is not a directory");
  }
  bool is_mount = abs_path == "/";
  struct statx stx {};
  if (!is_mount && ::statx(AT_FDCWD, abs_path.c_str(), 0, STATX_BASIC_STATS, &stx) == 0 &&
      (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0) {
    is_mount = (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  } else if (!is_mount) {
    struct stat parent {};
    const std::string parent_path = stdfs::path(abs_path).parent_path().string();
    if (::stat(parent_path.c_str(), &parent) == 0) {
      is_mount = parent.st_dev != st.st_dev || parent.st_ino == st.st_ino;
    }
  }
  if (is_mount || is_fuse_mount(abs_path)) {
    throw CliError(util::kExitMountpoint, "mountpoint " + abs_path + " is already a mount point");
  }
}

void check_mountpoint_empty(const std::string& abs_path) {
  std::error_code ec;
  stdfs::directory_iterator it(abs_path, ec);
  if (ec) {
    throw CliError(util::kExitMountpoint,
                   "cannot list mountpoint " + abs_path + ": " + ec.message());
  }
  if (it != stdfs::directory_iterator()) {
    throw CliError(util::kExitMountpoint,
                   "mountpoint " + abs_path +
                       " is not empty (mounting would hide its contents; -o nonempty allows it)");
  }
}

void check_fuse_device() {
  const util::UniqueFd fd(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    throw CliError(util::kExitFuse, "cannot open /dev/fuse: " + errno_text(err) +
                                        " (is the fuse module loaded and the device accessible?)");
  }
}

bool is_fuse_mount(const std::string& abs_path) {
  return util::find_fuse_mount(util::read_mountinfo(), abs_path).has_value();
}

std::string unmount(const std::string& abs_path, bool lazy) {
  if (::geteuid() == 0) {
    if (::umount2(abs_path.c_str(), lazy ? MNT_DETACH : 0) == 0) return {};
    const int err = errno;
    if (err != EPERM) return errno_text(err);
  }
  std::vector<std::string> args = {"fusermount3", "-u"};
  if (lazy) args.emplace_back("-z");
  args.push_back(abs_path);
  const int status = run_program(args);
  if (status == 0) return {};
  if (status < 0) return "cannot run fusermount3";
  return "fusermount3 -u failed with status " + std::to_string(status);
}

int serve(const ViewFactory& make_view, const std::string& abs_mountpoint,
          const ServeOptions& options, int ready_fd) {
  auto fail = [&](int code, const std::string& message) -> int {
    if (ready_fd < 0) throw CliError(code, message);
    const char byte = static_cast<char>(code);
    util::write_all(ready_fd, &byte, 1);
    util::write_all(ready_fd, message.data(), message.size());
    ::close(ready_fd);
    return code;
  };

  // This may be a fork's child: its copies of the key pages are not locked any more.
  if (const int err = crypto::relock_secure_buffers(); err != 0) {
    util::log::warning("cannot lock the key material in memory (RLIMIT_MEMLOCK?): " +
                       errno_text(err));
  }
  if (!options.dumpable) {
    if (const int err = util::forbid_core_dumps(); err != 0) {
      return fail(util::kExitInternal, "cannot turn off core dumps: " + errno_text(err));
    }
  }

  std::unique_ptr<fs::View> view;
  try {
    view = make_view(abs_mountpoint);
  } catch (const CliError& e) {
    return fail(e.exit_code(), e.what());
  } catch (const std::exception& e) {
    return fail(util::kExitIo, e.what());
  }
  if (!view) return fail(util::kExitInternal, "no view was built");

  fuse::FsContext context(*view, options.entry_timeout, options.attr_timeout);
  fuse::SessionOptions session_options;
  session_options.mount_options = options.fuse_options;
  session_options.max_threads = options.max_threads;
  if (options.max_inodes) session_options.max_inodes = *options.max_inodes;
  std::unique_ptr<fuse::Session> session;
  try {
    session = std::make_unique<fuse::Session>(context, abs_mountpoint, session_options);
  } catch (const fuse::SessionError& e) {
    return fail(util::kExitFuse, e.what());
  }

  if (ready_fd >= 0) {
    const char ok = 0;
    util::write_all(ready_fd, &ok, 1);
    ::close(ready_fd);
  }
  if (options.daemon) {
    util::log::to_syslog(true);
    if (::chdir("/") != 0) util::log::warning("cannot chdir to /");
    redirect_stdio_to_null();
  }
  util::log::info("mounted on " + abs_mountpoint);
  const int result = session->run();
  session.reset();  // unmounts
  util::log::info("unmounted " + abs_mountpoint);
  if (options.stats_fd >= 0) {
    const std::string line = std::to_string(context.lookups.load()) + " " +
                             std::to_string(context.bytes_read.load()) + "\n";
    util::write_all(options.stats_fd, line.data(), line.size());
    ::close(options.stats_fd);
  }
  if (result != 0) {
    util::log::error("the FUSE loop ended with an error: " + errno_text(-result));
    return util::kExitFuse;
  }
  return util::kExitOk;
}

std::optional<ServeStats> read_serve_stats(int read_fd) {
  std::string text;
  char buf[128];
  for (;;) {
    const ssize_t got = ::read(read_fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0 || text.size() > 256) break;
    text.append(buf, static_cast<std::size_t>(got));
  }
  std::istringstream in(text);
  ServeStats stats;
  if (!(in >> stats.lookups >> stats.bytes_read)) return std::nullopt;
  return stats;
}

ReadyReport wait_ready(int read_fd, pid_t child) {
  char byte = 0;
  ssize_t n = 0;
  do {
    n = ::read(read_fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n == 1 && byte == 0) return {};
  if (n == 1) {
    ReadyReport report;
    report.code = static_cast<unsigned char>(byte);
    char buf[512];
    for (;;) {
      const ssize_t got = ::read(read_fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      report.message.append(buf, static_cast<std::size_t>(got));
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (report.message.empty()) report.message = "the mount failed";
    return report;
  }
  int status = 0;
  pid_t reaped = 0;
  do {
    reaped = ::waitpid(child, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  ReadyReport report;
  report.code = util::kExitFuse;
  if (reaped == child && WIFSIGNALED(status)) {
    report.message = "the mount process was killed by signal " + std::to_string(WTERMSIG(status)) +
                     " before the mount was ready";
  } else if (reaped == child && WIFEXITED(status)) {
    if (WEXITSTATUS(status) != 0) report.code = WEXITSTATUS(status);
    report.message = "the mount process exited with status " + std::to_string(WEXITSTATUS(status)) +
                     " before the mount was ready";
  } else {
    report.message = "the mount process ended before the mount was ready";
  }
  return report;
}

}  // namespace encfsr::cli
