#include "src/fs/dir_fd_cache.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace encfsr::fs {

DirFdCache::DirFdCache(std::size_t capacity, std::chrono::steady_clock::duration ttl)
    : capacity_(capacity), ttl_(ttl) {}

std::pair<std::string_view, std::string_view> split_parent(std::string_view rel) noexcept {
  const auto slash = rel.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view{}, rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

std::string join_rel(std::string_view dir, std::string_view name) {
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out.append(dir);
  if (!dir.empty()) out.push_back('/');
  out.append(name);
  return out;
}

SharedFd DirFdCache::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  if (std::chrono::steady_clock::now() - it->second.opened > ttl_) {
    lru_.erase(it->second.order);
    items_.erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second.order);
  return it->second.fd;
}

void DirFdCache::insert(const std::string& key, SharedFd fd) {
  std::lock_guard lock(mutex_);
  if (items_.count(key) != 0) return;
  lru_.push_front(key);
  items_.emplace(key, Item{std::move(fd), std::chrono::steady_clock::now(), lru_.begin()});
  while (items_.size() > capacity_) {
    items_.erase(lru_.back());
    lru_.pop_back();
  }
}

util::Result<SharedFd> DirFdCache::open(const SharedFd& root, std::string_view tag,
                                        std::string_view rel, const dev_t* dev) {
  if (rel.empty()) return root;
  std::string key;
  key.reserve(tag.size() + 1 + rel.size());
  key.append(tag).push_back('\0');
  key.append(rel);
  if (SharedFd hit = find(key)) return hit;

  auto [parent_rel, name] = split_parent(rel);
  auto parent = open(root, tag, parent_rel, dev);
  if (!parent) return parent;
  const std::string name_z(name);
  const int fd =
      ::openat((*parent)->get(), name_z.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return util::Errno{errno == ELOOP ? ENOTDIR : errno};
  auto owned = std::make_shared<const util::UniqueFd>(fd);
  if (dev != nullptr) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return util::last_errno();
    if (st.st_dev != *dev) return util::Errno{EXDEV};
  }
  insert(key, owned);
  return owned;
}

std::size_t DirFdCache::size() const {
  std::lock_guard lock(mutex_);
  return items_.size();
}

}  // namespace encfsr::fs
