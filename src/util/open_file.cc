#include "src/util/open_file.h"

#include <fcntl.h>

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

}  // namespace encfsr::util
