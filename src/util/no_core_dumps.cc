#include "src/util/no_core_dumps.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>

namespace encfsr::util {

int forbid_core_dumps() noexcept {
  const struct rlimit none {};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) return errno;
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return errno;
  return 0;
}

}  // namespace encfsr::util
