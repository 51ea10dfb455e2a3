#include "src/util/exit_codes.h"

namespace encfsr::util {

const char* exit_code_table() noexcept {
  return "Exit codes:\n"
         "  0  success\n"
         "  2  usage: bad command line\n"
         "  3  configuration file missing or invalid\n"
         "  4  key file missing, unreadable, damaged, or already exists\n"
         "  5  wrong password or paper key, or no password available\n"
         "  6  mountpoint missing, not a directory, not empty, or already mounted\n"
         "  7  FUSE unavailable or the mount failed\n"
         "  8  damage found (verify, restore): everything undamaged was restored\n"
         "  9  I/O error on a source or destination\n"
         " 10  internal error (a bug: please report it)\n";
}

}  // namespace encfsr::util
