// src/fuse/session.h — one mounted FUSE session serving an FsContext, as an RAII object.
//
// The constructor builds the libfuse arguments (always ro, default_permissions, nosuid, nodev,
// fsname=encfsr, subtype=encfsr, plus the caller's extra options), creates the session,
// installs the SIGINT/SIGTERM/SIGHUP handlers (they end the loop) and mounts. run() serves
// requests on a multithreaded loop until the filesystem is unmounted or a signal arrives. The
// destructor unmounts, removes the signal handlers and frees everything, in that order.
//
// Bounded memory: the kernel keeps every entry a walk looked up until memory runs short, and
// the view must remember each (fs::InodeTable). While run() serves, a thread checks the count
// every kEvictInterval; above max_inodes it asks the kernel to drop the least recently used
// entries (fuse_lowlevel_notify_inval_entry) until a quarter of the room is free, and the
// kernel's forgets then free them in the view. An entry in use (an open file, a working
// directory) stays until it is no longer used; one dropped is looked up again when needed.
// This header does not include libfuse.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "src/fuse/operations.h"

namespace encfsr::fuse {

// Creating or mounting the session failed (the message says why, libfuse's words included).
class SessionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Inodes the view may remember before the session asks the kernel to drop the least recently
// used ones from its cache (about 100 bytes each, plus the kernel's own).
inline constexpr std::size_t kDefaultMaxInodes = 131072;

struct SessionOptions {
  std::vector<std::string> mount_options;  // extra -o options, one per element, validated
  unsigned max_threads = 0;                // 0: two per usable CPU, 4 to 16
  std::size_t max_inodes = kDefaultMaxInodes;
};

class Session {
 public:
  // Mounts at `mountpoint` (absolute). Throws SessionError.
  Session(FsContext& context, const std::string& mountpoint, const SessionOptions& options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Serves requests until unmount or SIGINT/SIGTERM/SIGHUP. Returns 0 on a clean end, else a
  // negative errno from the loop.
  int run();
  // Ends run() from another thread (async-signal-safe in libfuse's sense).
  void exit() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The options passed to libfuse for a mount (exposed for tests).
std::string mount_option_string(const SessionOptions& options);

// The version of the libfuse library in use (fuse_pkgversion()), for `encfsr --version`.
const char* libfuse_version() noexcept;

}  // namespace encfsr::fuse
