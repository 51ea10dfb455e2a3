// src/fs/dir_fd_cache.h — a small, bounded cache of open directory fds, and path resolution
// through it that never follows a symlink.
//
// Directories are opened component by component with openat(O_NOFOLLOW | O_DIRECTORY) from a
// root fd, so a symlink planted anywhere in a path cannot lead outside the root. The cache is
// an LRU of `capacity` fds; entries older than `ttl` are reopened so renames in a live tree are
// noticed. Fds are shared_ptr-owned: eviction never closes an fd another thread still uses.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "src/util/result.h"
#include "src/util/unique_fd.h"

namespace encfsr::fs {

using SharedFd = std::shared_ptr<const util::UniqueFd>;

class DirFdCache {
 public:
  DirFdCache(std::size_t capacity, std::chrono::steady_clock::duration ttl);

  // The directory `rel` ('/'-separated, "" = root) below root_fd. `tag` tells roots apart in
  // the cache (e.g. source and tier). With `dev` set, a directory on another device gives
  // EXDEV (one_file_system).
  util::Result<SharedFd> open(const SharedFd& root, std::string_view tag, std::string_view rel,
                              const dev_t* dev = nullptr);
  std::size_t size() const;

 private:
  struct Item {
    SharedFd fd;
    std::chrono::steady_clock::time_point opened;
    std::list<std::string>::iterator order;
  };
  SharedFd find(const std::string& key);
  void insert(const std::string& key, SharedFd fd);

  std::size_t capacity_;
  std::chrono::steady_clock::duration ttl_;
  mutable std::mutex mutex_;
  std::list<std::string> lru_;  // most recent first
  std::unordered_map<std::string, Item> items_;
};

// Splits "a/b/c" into ("a/b", "c"); ("", "c") for a single component.
std::pair<std::string_view, std::string_view> split_parent(std::string_view rel) noexcept;
// Joins a relative directory path and a name.
std::string join_rel(std::string_view dir, std::string_view name);

}  // namespace encfsr::fs
