// src/util/write_all.cc — see write_all.h.
#include "src/util/write_all.h"

#include <unistd.h>

#include <cerrno>

namespace encfsr::util {

int write_all(int fd, const void* data, std::size_t size) noexcept {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace encfsr::util
