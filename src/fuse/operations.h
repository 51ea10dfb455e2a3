// src/fuse/operations.h — the libfuse low-level operations table that serves an fs::View.
//
// Handlers are thin: decode the request, call one View method, reply. Every handler catches
// all exceptions and answers EIO, so nothing crosses the C boundary. Every write-type call
// answers EROFS. This header does not include <fuse_lowlevel.h>: only src/fuse/*.cc does.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "src/fs/view.h"

struct fuse_lowlevel_ops;

namespace encfsr::fuse {

// The userdata of the session: the view and the cache timeouts the kernel is given.
// Lives at least as long as the session that serves it.
struct FsContext {
  explicit FsContext(fs::View& v, std::optional<double> entry = std::nullopt,
                     std::optional<double> attr = std::nullopt)
      : view(v),
        entry_timeout(entry.value_or(v.entry_timeout())),
        attr_timeout(attr.value_or(v.attr_timeout())) {}
  FsContext(const FsContext&) = delete;
  FsContext& operator=(const FsContext&) = delete;
  ~FsContext() { release_all(); }

  fs::View& view;
  double entry_timeout;
  double attr_timeout;

  // What the kernel asked for (the summary of `encfsr run`): entries looked up (lookup and
  // readdirplus) and bytes answered to reads.
  std::atomic<std::uint64_t> lookups{0};
  std::atomic<std::uint64_t> bytes_read{0};

  // Open file and directory handles the kernel has not released yet. An unmount does not
  // release them, so whatever is left is freed when the session ends (and at destruction).
  template <typename T>
  void adopt(T* handle) {
    std::lock_guard lock(open_mutex_);
    open_[handle] = [](void* p) { delete static_cast<T*>(p); };
  }
  template <typename T>
  void release(T* handle) {
    {
      std::lock_guard lock(open_mutex_);
      open_.erase(handle);
    }
    delete handle;
  }
  void release_all() noexcept {
    std::lock_guard lock(open_mutex_);
    for (auto& [p, free] : open_) free(p);
    open_.clear();
  }

 private:
  std::mutex open_mutex_;
  std::unordered_map<void*, void (*)(void*)> open_;
};

// The operations table (static storage). Its userdata must be an FsContext*.
const fuse_lowlevel_ops& lowlevel_ops() noexcept;

// Largest read the glue serves in one request (also the max_write / readahead it asks for).
inline constexpr unsigned kMaxRequest = 1U << 20;
// How far the kernel reads ahead on the mount (the session sets its bdi's read_ahead_kb): four
// requests, so that a sequential reader keeps several in flight and every core seals
// (4 MiB: hot reads ~5% and cold ~8% faster than 1 MiB in a dd trial on 2 cores).
inline constexpr unsigned kReadAhead = 4 * kMaxRequest;

}  // namespace encfsr::fuse
