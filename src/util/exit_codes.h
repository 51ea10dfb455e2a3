// src/util/exit_codes.h — encfsr's documented, stable exit codes (README "Exit codes").
// Never renumber: scripts depend on them.
#pragma once

namespace encfsr::util {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 2,       // bad command line
  kExitConfig = 3,      // configuration file missing or invalid
  kExitKeyFile = 4,     // key file missing, unreadable, damaged or already exists
  kExitPassword = 5,    // wrong password / paper key, or no password available
  kExitMountpoint = 6,  // mountpoint missing, not a directory, not empty, or already mounted
  kExitFuse = 7,        // FUSE unavailable (/dev/fuse) or the mount failed
  kExitDamage = 8,      // verify/restore found damaged entries (the rest was restored)
  kExitIo = 9,          // I/O error: source or destination unreadable/unwritable
  kExitInternal = 10,   // a bug: please report
};

// The table as text, for --help footers and the README.
const char* exit_code_table() noexcept;

}  // namespace encfsr::util
