#include "src/util/open_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace encfsr::util {

Result<OpenedFile> open_regular(int dir_fd, const char* path, int extra_flags, int not_regular) {
  OpenedFile out;
  out.fd.reset(::openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | extra_flags));
  if (!out.fd) return last_errno();
  if (::fstat(out.fd.get(), &out.st) != 0) return last_errno();
  if (!S_ISREG(out.st.st_mode)) return Errno{not_regular};
  return out;
}

Result<std::string> read_regular_file(int dir_fd, const char* path, int extra_flags,
                                      int not_regular, std::size_t limit) {
  auto file = open_regular(dir_fd, path, extra_flags, not_regular);
  if (!file) return Errno{file.error()};
  const auto st_size = static_cast<std::uint64_t>(std::max<off_t>(file->st.st_size, 0));
  if (st_size > limit) return Errno{EFBIG};
  // Room for what fstat said plus one byte, so that growth past the limit is seen; grown
  // (doubling, never past limit + 1) only if the file grows while it is read.
  std::string out(static_cast<std::size_t>(st_size) + 1, '\0');
  std::size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (out.size() > limit) return Errno{EFBIG};
      out.resize(std::min(out.size() * 2, limit + 1));
    }
    const ssize_t n = ::read(file->fd.get(), out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_errno();
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > limit) return Errno{EFBIG};
  out.resize(used);
  return out;
}

}  // namespace encfsr::util
