// src/cli/mountpoint.h — what `mount`, `run` and `umount` share: checking a mountpoint and
// /dev/fuse, finding and removing FUSE mounts, and serving a view on a mountpoint with a
// readiness report to a parent process (the daemon and `run` protocols).
//
// Readiness protocol over a pipe: the serving process writes one byte 0 when the mount is in
// place, or one byte holding an exit code followed by a one-line message, then closes its end.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/fs/view.h"

namespace encfsr::cli {

// The absolute form of `path` with its parent resolved but not its last component, so that a
// dead FUSE mount (stat fails with ENOTCONN) still has a usable name.
std::string absolute_mountpoint(const std::string& path);

// Throws CliError kExitMountpoint unless `abs_path` exists, is a directory, and is not already
// a mountpoint (a dead FUSE mount is reported with a hint to `encfsr umount`).
void check_mountpoint(const std::string& abs_path);

// Throws CliError kExitMountpoint if the directory `abs_path` has any entry: mounting over
// files hides them (`-o nonempty` allows it).
void check_mountpoint_empty(const std::string& abs_path);

// Throws CliError kExitFuse unless /dev/fuse can be opened for reading and writing.
void check_fuse_device();

// Whether `abs_path` is the mountpoint of a FUSE filesystem (/proc/self/mountinfo).
bool is_fuse_mount(const std::string& abs_path);

// Unmounts the FUSE filesystem at `abs_path`: umount2 as root, else `fusermount3 -u` (-z when
// lazy). Works on a dead daemon's mount. Returns an empty string on success, else why not.
std::string unmount(const std::string& abs_path, bool lazy);

// How to serve a view.
struct ServeOptions {
  std::vector<std::string> fuse_options;  // extra -o options for libfuse, validated
  std::optional<double> entry_timeout;    // overrides of the view's timeouts
  std::optional<double> attr_timeout;
  unsigned max_threads = 0;
  std::optional<std::size_t> max_inodes;  // see fuse::SessionOptions (default there)
  bool daemon = false;  // after readiness: chdir /, syslog, stdio to /dev/null
  // Leave the process dumpable and core dumps as the limits say (mount --debug-dumpable);
  // by default the serving process is not dumpable and has RLIMIT_CORE 0.
  bool dumpable = false;
  // If >= 0: when the loop has ended, "LOOKUPS BYTES\n" (the FsContext counters) is written
  // there and the fd closed (the summary of `encfsr run`). See read_serve_stats.
  int stats_fd = -1;
};

struct ServeStats {
  std::uint64_t lookups = 0;     // entries looked up by the kernel
  std::uint64_t bytes_read = 0;  // bytes answered to reads
};
// Reads what serve() wrote to a stats_fd (the other end of the pipe); nullopt if nothing came.
std::optional<ServeStats> read_serve_stats(int read_fd);

// Makes the view to serve; called in the serving process with the absolute mountpoint (the
// reverse view keeps out of its own mountpoint).
using ViewFactory = std::function<std::unique_ptr<fs::View>(const std::string& mountpoint)>;

// First hardens the serving process: locks the key material again (mlock does not survive the
// fork that made a daemon; crypto::relock_secure_buffers) and, unless options.dumpable, forbids
// core dumps (util::forbid_core_dumps). Then builds the view, mounts it on `abs_mountpoint`,
// reports readiness to `ready_fd` (if >= 0, then closes it) and serves until unmount or
// SIGINT/SIGTERM/SIGHUP; unmounts on the way out. Returns an exit code. Failures before readiness:
// with ready_fd >= 0 the code and message go to the pipe (and the code is returned); with ready_fd
// < 0 they are thrown as CliError.
int serve(const ViewFactory& make_view, const std::string& abs_mountpoint,
          const ServeOptions& options, int ready_fd);

struct ReadyReport {
  int code = 0;         // 0: the mount is ready
  std::string message;  // why not
};
// Waits for the serving child `child`'s report on `read_fd` (the parent's end of the pipe; the
// write end must already be closed in the parent). If the child dies without a report, says
// how it died (and reaps it).
ReadyReport wait_ready(int read_fd, pid_t child);

}  // namespace encfsr::cli
