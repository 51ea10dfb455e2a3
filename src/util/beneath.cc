// src/util/beneath.cc — see beneath.h.
#include "src/util/beneath.h"

#include <fcntl.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace encfsr::util {

Result<UniqueFd> open_dir_beneath(int root_fd, std::string_view relative) noexcept {
  UniqueFd current(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!current) return last_errno();
  char name[NAME_MAX + 1];
  while (!relative.empty()) {
    const std::size_t slash = relative.find('/');
    const std::string_view part = relative.substr(0, slash);
    relative = slash == std::string_view::npos ? std::string_view() : relative.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") return Errno{EINVAL};
    if (part.size() > NAME_MAX) return Errno{ENAMETOOLONG};
    std::memcpy(name, part.data(), part.size());
    name[part.size()] = '\0';
    UniqueFd next(::openat(current.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return last_errno();
    current = std::move(next);
  }
  return current;
}

std::string_view parent_path_of(std::string_view relative) noexcept {
  const std::size_t slash = relative.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : relative.substr(0, slash);
}

}  // namespace encfsr::util
