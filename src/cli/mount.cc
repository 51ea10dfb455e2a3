// src/cli/mount.cc — `encfsr mount`: the reverse (ciphertext) view of a config's sources, or
// with --decrypt the plaintext view of a ciphertext copy.
//
// Order: parse; check the mountpoint (exit 6; it must also be empty unless -o nonempty) and
// /dev/fuse (exit 7); load the config and unlock the key, or open the copy (prompts happen
// here, in the foreground); then, without -f, fork a daemon that builds the view, mounts and
// reports readiness through a pipe — the parent returns 0 only once the mount is in place, else
// the daemon's message and code.
// Nothing is printed on success unless -v.
//
// `encfsr CONFIG MOUNTPOINT -o OPTS` (how mount(8) runs it through mount.fuse3 for an fstab line
// of type fuse.encfsr) is this command: main.cc inserts "mount". mount(8) always passes one of
// rw/ro and dev,suid; the view is read-only whatever is asked, so "rw" is accepted and the mount
// is read-only all the same.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "src/cli/cli_error.h"
#include "src/cli/commands.h"
#include "src/cli/copy_setup.h"
#include "src/cli/mountpoint.h"
#include "src/cli/reverse_setup.h"
#include "src/fs/decrypt_view.h"
#include "src/fs/reverse_view.h"
#include "src/fuse/session.h"
#include "src/util/exit_codes.h"
#include "src/util/log.h"
#include "src/util/unique_fd.h"

namespace encfsr::cli {
namespace {

struct MountArgs {
  std::string source;  // CONFIG or CIPHERDIR
  std::string mountpoint;
  bool foreground = false;
  bool debug = false;
  bool debug_names = false;
  bool debug_dumpable = false;
  bool plain = false;
  bool decrypt = false;
  bool verbose = false;
  std::string pid_file;              // --pid-file: the daemon's pid, for systemd Type=forking
  std::vector<std::string> options;  // -o, comma-separated lists
  CopyOptions copy;                  // --key, --names and the key options
};

struct FuseOptionSet {
  std::vector<std::string> fuse;
  bool nonempty = false;  // mount over a non-empty directory
  std::optional<double> entry_timeout;
  std::optional<double> attr_timeout;
  std::optional<std::size_t> max_inodes;
};

double parse_seconds(const std::string& option, const std::string& value) {
  try {
    std::size_t used = 0;
    const double seconds = std::stod(value, &used);
    if (used == value.size() && seconds >= 0.0 && seconds <= 86400.0 * 365) return seconds;
  } catch (const std::exception&) {
  }
  throw CliError(util::kExitUsage, "-o " + option + ": expected seconds, got '" + value + "'");
}

std::size_t parse_count(const std::string& option, const std::string& value) {
  try {
    std::size_t used = 0;
    const unsigned long long count = std::stoull(value, &used);
    if (used == value.size() && !value.empty() && value[0] != '-' && count >= 1 &&
        count <= (1ULL << 32)) {
      return static_cast<std::size_t>(count);
    }
  } catch (const std::exception&) {
  }
  throw CliError(util::kExitUsage,
                 "-o " + option + ": expected a count from 1 to 4294967296, got '" + value + "'");
}

// Splits and validates -o. Passed to libfuse: allow_other, default_permissions, fsname=,
// noexec, noatime (ro, nosuid, nodev are always set). Accepted and ignored (fstab / mount(8)
// noise): rw (the view is read-only all the same), dev, suid, exec, atime, relatime, defaults,
// auto, noauto, user, nouser, users, _netdev, nofail, x-* and comment=. nonempty allows a
// non-empty mountpoint (checked here: libfuse 3 has no such option). entry_timeout= /
// attr_timeout= set the kernel cache timeouts; max_inodes= the inodes remembered before the
// least recently used are dropped from the kernel's cache (fuse::SessionOptions).
FuseOptionSet parse_fuse_options(const std::vector<std::string>& lists) {
  static const char* const kPassed[] = {
      "allow_other", "default_permissions", "ro", "nosuid", "nodev", "noexec", "noatime"};
  static const char* const kIgnored[] = {"rw",       "dev",      "suid",    "exec",   "atime",
                                         "relatime", "defaults", "auto",    "noauto", "user",
                                         "nouser",   "users",    "_netdev", "nofail"};
  FuseOptionSet set;
  for (const std::string& list : lists) {
    std::stringstream stream(list);
    std::string option;
    while (std::getline(stream, option, ',')) {
      if (option.empty()) continue;
      const auto eq = option.find('=');
      const std::string key = option.substr(0, eq);
      const std::string value = eq == std::string::npos ? std::string() : option.substr(eq + 1);
      bool known = false;
      if (eq == std::string::npos) {
        for (const char* passed : kPassed) {
          if (key == passed) {
            set.fuse.push_back(option);
            known = true;
          }
        }
        for (const char* ignored : kIgnored) {
          if (key == ignored) known = true;
        }
        if (key == "nonempty") {
          set.nonempty = true;
          known = true;
        }
      } else if (key == "fsname" && !value.empty()) {
        set.fuse.push_back(option);
        known = true;
      } else if (key == "entry_timeout") {
        set.entry_timeout = parse_seconds(key, value);
        known = true;
      } else if (key == "attr_timeout") {
        set.attr_timeout = parse_seconds(key, value);
        known = true;
      } else if (key == "max_inodes") {
        set.max_inodes = parse_count(key, value);
        known = true;
      }
      // Userspace-only options of fstab (x-systemd.*, x-gvfs-*, comment=).
      if (key.rfind("x-", 0) == 0 || key == "comment") known = true;
      if (!known)
        throw CliError(util::kExitUsage, "unknown or unsupported -o option '" + option + "'");
    }
  }
  return set;
}

// In the daemon, before it reports readiness (systemd reads the file once the parent is gone).
// A failure goes to the parent like any other failure of the daemon: code, message.
void write_pid_file(const std::string& path, int ready_fd) {
  const std::string text = std::to_string(::getpid()) + "\n";
  const util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd && ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size())) {
    return;
  }
  const std::string message = "cannot write the pid file " + path + ": " + std::strerror(errno);
  const std::string report = static_cast<char>(util::kExitIo) + message;
  [[maybe_unused]] const ssize_t written = ::write(ready_fd, report.data(), report.size());
  ::_exit(util::kExitIo);
}

void add_unique(std::vector<std::string>& options, const std::string& option) {
  for (const std::string& existing : options) {
    if (existing == option) return;
  }
  options.push_back(option);
}

int run_mount(MountArgs& args) {
  if (args.decrypt && args.plain) {
    throw CliError(util::kExitUsage, "--plain and --decrypt cannot be combined");
  }
  if (!args.decrypt && (args.copy.key || args.copy.names)) {
    throw CliError(util::kExitUsage,
                   "--key and --names belong to --decrypt; the reverse view takes them from "
                   "the config file");
  }
  util::log::set_verbose(args.verbose);
  util::log::set_debug(args.debug);
  util::log::set_show_names(args.debug_names);
  const FuseOptionSet fuse_options = parse_fuse_options(args.options);

  const std::string mountpoint = absolute_mountpoint(args.mountpoint);
  check_mountpoint(mountpoint);
  if (!fuse_options.nonempty) check_mountpoint_empty(mountpoint);
  check_fuse_device();
  if (!args.pid_file.empty() && args.foreground) {
    throw CliError(util::kExitUsage, "--pid-file is for the daemon; it cannot be used with -f");
  }
  // Absolute: the daemon removes it after its chdir("/").
  if (!args.pid_file.empty()) args.pid_file = std::filesystem::absolute(args.pid_file).string();

  ServeOptions serve_options;
  serve_options.fuse_options = fuse_options.fuse;
  serve_options.entry_timeout = fuse_options.entry_timeout;
  serve_options.attr_timeout = fuse_options.attr_timeout;
  serve_options.max_inodes = fuse_options.max_inodes;
  serve_options.dumpable = args.debug_dumpable;

  // Exactly one of these is set up; the factory below runs in the serving process.
  std::optional<ReverseSetup> reverse;
  std::optional<OpenedCopy> copy;
  ViewFactory factory;
  if (args.decrypt) {
    copy.emplace(open_copy(args.source, args.copy));
    factory = [&copy](const std::string& /*mountpoint*/) -> std::unique_ptr<fs::View> {
      fs::DecryptOptions options;
      options.names = copy->names;
      options.manifests = copy->manifests;
      options.compare_owners = ::geteuid() == 0;
      try {
        return fs::make_decrypt_view(std::move(copy->root), copy->master, std::move(options));
      } catch (const std::runtime_error& e) {
        throw CliError(util::kExitIo, e.what());
      }
    };
  } else {
    reverse.emplace(prepare_reverse(args.source, args.copy.key_options, !args.plain));
    const config::MountOptions& mount = reverse->config.mount;
    serve_options.max_threads = mount.threads;
    if (mount.allow_other) add_unique(serve_options.fuse_options, "allow_other");
    factory = reverse_view_factory(*reverse, args.plain);
  }

  if (args.foreground) return serve(factory, mountpoint, serve_options, -1);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw CliError(util::kExitInternal, "cannot create a pipe");
  }
  util::UniqueFd read_end(fds[0]);
  util::UniqueFd write_end(fds[1]);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw CliError(util::kExitInternal, "cannot fork the mount daemon");
  if (pid == 0) {
    read_end.reset();
    ::setsid();
    serve_options.daemon = true;
    int code = util::kExitInternal;
    try {
      if (!args.pid_file.empty()) write_pid_file(args.pid_file, write_end.get());
      code = serve(factory, mountpoint, serve_options, write_end.release());
    } catch (const std::exception& e) {
      util::log::error(std::string("internal error: ") + e.what());
    }
    if (!args.pid_file.empty()) ::unlink(args.pid_file.c_str());
    std::fflush(nullptr);
    ::_exit(code);
  }
  write_end.reset();
  const ReadyReport report = wait_ready(read_end.get(), pid);
  if (report.code != 0) throw CliError(report.code, report.message);
  util::log::info("mounted " + args.source + " on " + mountpoint + " (daemon pid " +
                  std::to_string(pid) + ")");
  return util::kExitOk;
}

}  // namespace

CommandRunner add_mount(CLI::App& app) {
  auto args = std::make_shared<MountArgs>();
  CLI::App* command = app.add_subcommand(
      "mount",
      "Mount the encrypted (reverse) view of CONFIG's sources on MOUNTPOINT, or with --decrypt "
      "the plaintext view of the ciphertext copy CIPHERDIR. Without -f, returns once the "
      "mount is ready and keeps serving in the background (logs to syslog). Prints nothing "
      "on success unless -v. MOUNTPOINT must be an empty directory unless -o nonempty. "
      "In /etc/fstab: 'CONFIG MOUNTPOINT fuse.encfsr noauto,ro 0 0' (mount(8) runs "
      "'encfsr CONFIG MOUNTPOINT -o OPTS', which is this command; the view is read-only even "
      "if rw is asked for).");
  command->add_option("SOURCE", args->source, "CONFIG file, or CIPHERDIR with --decrypt")
      ->required();
  command->add_option("MOUNTPOINT", args->mountpoint, "an empty directory (see -o nonempty)")
      ->required();
  command->add_flag("-f,--foreground", args->foreground,
                    "stay in the foreground, log to stderr; SIGINT/SIGTERM unmount");
  command->add_flag("-v,--verbose", args->verbose,
                    "say what happens on stderr (mounted, unmounted); default: quiet on success");
  command
      ->add_option("--pid-file", args->pid_file,
                   "the daemon writes its process id to FILE before the mount is reported "
                   "ready, and removes it when it ends (for systemd Type=forking)")
      ->type_name("FILE");
  command->add_flag("--debug", args->debug, "log every FUSE call (without plaintext names)");
  command->add_flag("--debug-names", args->debug_names,
                    "show plaintext names in the logs (careful: they end up in syslog)");
  command->add_flag("--debug-dumpable", args->debug_dumpable,
                    "leave the serving process dumpable and core dumps allowed (for debugging a "
                    "crash: a core file then holds the master key and plaintext)");
  command
      ->add_option("-o", args->options,
                   "mount options, comma-separated: allow_other, default_permissions, "
                   "fsname=NAME, entry_timeout=S, attr_timeout=S, max_inodes=N (entries remembered "
                   "before the least recently used are dropped from the kernel's cache; default " +
                       std::to_string(fuse::kDefaultMaxInodes) +
                       "), noexec, noatime, nonempty "
                       "(mount over a non-empty directory, hiding its contents); fstab's rw, ro, "
                       "dev, suid, noauto, nofail, _netdev, user, defaults, x-* are accepted and "
                       "ignored (the view is always ro, nosuid, nodev)")
      ->type_name("OPT[,OPT...]");
  command->add_flag("--plain", args->plain,
                    "show the sources without encryption (the pass-through reference)");
  command->add_flag("--decrypt", args->decrypt,
                    "mount the plaintext view of the ciphertext copy CIPHERDIR");
  add_copy_options(*command, args->copy);
  return [args]() { return run_mount(*args); };
}

}  // namespace encfsr::cli
