// src/fuse/session.cc — RAII over libfuse's arguments, session, signal handlers and mount,
// and the multithreaded loop (clone_fd on). libfuse's own messages are routed to util::log;
// the last error it printed while setting up becomes part of the SessionError.
//
// Readahead: the kernel reads ahead on a FUSE mount as far as its bdi's read_ahead_kb (128 KiB
// by default), whatever max_readahead the init reply allows, so sequential reads would come
// as 128 KiB requests. Right after mounting, the session raises read_ahead_kb to kReadAhead
// (only root may; for a user's mount, root can do it by hand: `echo 4096 >
// /sys/class/bdi/MAJOR:MINOR/read_ahead_kb`, MAJOR:MINOR from `mountpoint -d MNT`). The bdi is
// named by the mount's device number, taken from /proc/self/mountinfo: a stat() of the
// mountpoint would wait for a loop that is not running yet.
#define FUSE_USE_VERSION 312
#include "src/fuse/session.h"

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "src/util/log.h"
#include "src/util/mountinfo.h"
#include "src/util/quiet_thread.h"
#include "src/util/unique_fd.h"
#include "src/util/worker_pool.h"

namespace encfsr::fuse {
namespace {

std::mutex g_log_mutex;
std::string g_last_libfuse_error;

__attribute__((format(printf, 2, 0))) void log_from_libfuse(enum fuse_log_level level,
                                                            const char* fmt, va_list ap) {
  char text[1024];
  const int n = std::vsnprintf(text, sizeof text, fmt, ap);
  if (n < 0) return;
  std::string message(text);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
    message.pop_back();
  }
  if (message.empty()) return;
  if (level <= FUSE_LOG_ERR) {
    {
      std::lock_guard lock(g_log_mutex);
      g_last_libfuse_error = message;
    }
    util::log::error(message);
  } else if (level <= FUSE_LOG_WARNING) {
    util::log::warning(message);
  } else if (level <= FUSE_LOG_INFO) {
    util::log::info(message);
  } else {
    util::log::debug(message);
  }
}

std::string take_last_error() {
  std::lock_guard lock(g_log_mutex);
  std::string message = std::move(g_last_libfuse_error);
  g_last_libfuse_error.clear();
  return message;
}

std::string with_cause(std::string what) {
  const std::string cause = take_last_error();
  if (!cause.empty()) what += ": " + cause;
  return what;
}

// Sets the read_ahead_kb of the FUSE mount on `mountpoint` to kReadAhead. Failing is
// not an error: the mount works, only sequential reads come in smaller requests.
void raise_readahead(const std::string& mountpoint) {
  const std::optional<util::MountEntry> mount =
      util::find_fuse_mount(util::read_mountinfo(), mountpoint);
  if (!mount) {
    util::log::info("readahead left at the kernel's default: the mount on " + mountpoint +
                    " is not in /proc/self/mountinfo");
    return;
  }
  const std::string path = "/sys/class/bdi/" + std::to_string(mount->major) + ":" +
                           std::to_string(mount->minor) + "/read_ahead_kb";
  const std::string value = std::to_string(kReadAhead / 1024) + "\n";
  const util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    const int err = errno;
    util::log::info("readahead left at the kernel's default: cannot write " + path + ": " +
                    std::strerror(err) + " (only root can raise it)");
    return;
  }
  util::log::debug("readahead: " + path + " set to " + std::to_string(kReadAhead / 1024));
}

// FUSE threads when the config leaves it to us: two per usable CPU, 4 to 16. libfuse's own
// default (10, whatever the machine) cost a 2-core machine 13 threads in a backup and a VmHWM of
// 48.6 MB over a harness round, each thread holding a 1 MiB receive buffer and up to two 1 MiB
// scratch buffers of the read path; the blocks of one request are sealed by the worker pool
// anyway, and more threads than this only help requests that wait on the disk.
unsigned default_threads() { return std::clamp(2U * util::WorkerPool::usable_cpus(), 4U, 16U); }

constexpr auto kEvictInterval = std::chrono::milliseconds(200);
// Drops asked for in one round at most (the kernel answers each synchronously).
constexpr std::size_t kMaxEvictionsPerRound = 16384;

// One round: when the view remembers more than `max_inodes`, asks the kernel to drop the least
// recently used files and symlinks until a quarter of the room is free. Returns how many it
// asked for. When none could be dropped (the table is all directories and open files), later
// rounds wait until the table has grown by an eighth of the limit: no scan every 200 ms.
std::size_t evict_round(fuse_session* session, fs::View& view, std::size_t max_inodes,
                        std::size_t& fruitless_at) {
  const std::size_t remembered = view.remembered();
  if (remembered <= max_inodes) {
    fruitless_at = 0;
    return 0;
  }
  if (fruitless_at != 0 && remembered < fruitless_at + max_inodes / 8) return 0;
  const std::size_t target = max_inodes - max_inodes / 4;
  const std::size_t count = std::min(remembered - target, kMaxEvictionsPerRound);
  const std::vector<fs::ShownName> entries = view.least_recently_used(count);
  fruitless_at = entries.empty() ? remembered : 0;
  std::size_t asked = 0;
  for (const fs::ShownName& entry : entries) {
    // ENOENT: the kernel had already dropped it; a forget follows or has come.
    const int err = fuse_lowlevel_notify_inval_entry(session, entry.parent, entry.name.data(),
                                                     entry.name.size());
    if (err == -ENOTCONN || err == -EBADF) break;  // unmounted
    ++asked;
  }
  util::log::debug("evict: " + std::to_string(remembered) +
                   " inodes remembered, asked the kernel " + "to drop " + std::to_string(asked));
  return asked;
}

// Starts `body` on a thread that receives no signals (they belong to the session's loop, which
// ends on SIGTERM/SIGINT). nullopt, logged, when no thread can be made (RLIMIT_NPROC).
std::optional<std::thread> start_evictor(const std::function<void()>& body) {
  try {
    return util::start_quiet_thread(body);
  } catch (const std::system_error& e) {
    util::log::warning(std::string("no thread to bound the inode table (-o max_inodes): ") +
                       e.what());
    return std::nullopt;
  }
}

}  // namespace

std::string mount_option_string(const SessionOptions& options) {
  bool has_fsname = false;
  for (const std::string& option : options.mount_options) {
    if (option.rfind("fsname=", 0) == 0) has_fsname = true;
  }
  std::string joined = "ro,default_permissions,nosuid,nodev,subtype=encfsr";
  if (!has_fsname) joined += ",fsname=encfsr";
  for (const std::string& option : options.mount_options) {
    if (option == "ro" || option == "default_permissions" || option == "nosuid" ||
        option == "nodev") {
      continue;  // always there
    }
    joined += ",";
    joined += option;
  }
  return joined;
}

struct Session::Impl {
  fuse_args args = FUSE_ARGS_INIT(0, nullptr);
  fuse_session* session = nullptr;
  bool signals = false;
  bool mounted = false;
  unsigned max_threads = 0;
  std::size_t max_inodes = kDefaultMaxInodes;
  FsContext* context = nullptr;

  ~Impl() {
    if (mounted) fuse_session_unmount(session);
    if (signals) fuse_remove_signal_handlers(session);
    if (session != nullptr) fuse_session_destroy(session);
    fuse_opt_free_args(&args);
  }
};

Session::Session(FsContext& context, const std::string& mountpoint, const SessionOptions& options)
    : impl_(std::make_unique<Impl>()) {
  fuse_set_log_func(log_from_libfuse);
  take_last_error();
  impl_->max_threads = options.max_threads > 0 ? options.max_threads : default_threads();
  impl_->max_inodes = std::max<std::size_t>(options.max_inodes, 1);
  impl_->context = &context;
  const std::string option_text = mount_option_string(options);
  if (fuse_opt_add_arg(&impl_->args, "encfsr") != 0 || fuse_opt_add_arg(&impl_->args, "-o") != 0 ||
      fuse_opt_add_arg(&impl_->args, option_text.c_str()) != 0) {
    throw SessionError("out of memory building the FUSE arguments");
  }
  const fuse_lowlevel_ops& ops = lowlevel_ops();
  impl_->session = fuse_session_new(&impl_->args, &ops, sizeof ops, &context);
  if (impl_->session == nullptr) {
    throw SessionError(with_cause("cannot create the FUSE session (options " + option_text + ")"));
  }
  if (fuse_set_signal_handlers(impl_->session) != 0) {
    throw SessionError(with_cause("cannot install the signal handlers"));
  }
  impl_->signals = true;
  if (fuse_session_mount(impl_->session, mountpoint.c_str()) != 0) {
    throw SessionError(with_cause("cannot mount on " + mountpoint));
  }
  impl_->mounted = true;
  raise_readahead(mountpoint);
}

Session::~Session() = default;

int Session::run() {
  fuse_loop_config* config = fuse_loop_cfg_create();
  if (config == nullptr) return -ENOMEM;
  fuse_loop_cfg_set_clone_fd(config, 1);
  if (impl_->max_threads > 0) fuse_loop_cfg_set_max_threads(config, impl_->max_threads);
  std::mutex mutex;
  std::condition_variable wake;
  bool done = false;
  std::optional<std::thread> evictor = start_evictor([&] {
    std::unique_lock lock(mutex);
    bool evicted = false;
    std::size_t fruitless_at = 0;
    while (!wake.wait_for(lock, kEvictInterval, [&] { return done; })) {
      lock.unlock();
      try {
#if defined(__GLIBC__)
        // The kernel's forgets of the last round have freed the entries: give the pages back
        // (glibc keeps freed memory inside its heaps otherwise).
        if (evicted) ::malloc_trim(0);
#endif
        evicted =
            evict_round(impl_->session, impl_->context->view, impl_->max_inodes, fruitless_at) > 0;
      } catch (const std::exception& e) {
        util::log::error(std::string("evict: ") + e.what());
      }
      lock.lock();
    }
  });
  const int result = fuse_session_loop_mt(impl_->session, config);
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  wake.notify_all();
  if (evictor) evictor->join();
  fuse_loop_cfg_destroy(config);
  // A loop ended by a signal returns 0 too; a positive value is the signal number in some
  // libfuse versions: both are clean ends.
  return result > 0 ? 0 : result;
}

void Session::exit() noexcept { fuse_session_exit(impl_->session); }

const char* libfuse_version() noexcept { return fuse_pkgversion(); }

}  // namespace encfsr::fuse
