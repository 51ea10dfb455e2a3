// src/cli/restore.h — the core of `encfsr restore`: copy entries of a (decrypt) view into a
// destination directory without FUSE, keeping modes, times, symlinks (and owners as root).
//
// Files are written under a temporary name in their directory (O_EXCL, 0600), given their mode
// and times, then renamed without replacing (--overwrite: plain rename). A damaged file is not
// created under its name; with salvage it is written as "NAME.damaged" with its bad blocks
// zeroed. Directories get their mode and times after their contents (deepest first), so a
// read-only directory still gets its files. Messages ("exists: PATH", errors) go to `messages`.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "src/cli/report.h"
#include "src/fs/view.h"

namespace encfsr::cli {

struct RestoreOptions {
  bool overwrite = false;
  bool salvage = false;
  bool progress = false;         // show progress on `messages` (see ProgressBar)
  std::FILE* messages = stderr;  // "exists: PATH" and error lines
};

struct RestoreStats {
  std::uint64_t files = 0;  // restored intact
  std::uint64_t directories = 0;
  std::uint64_t symlinks = 0;
  std::uint64_t bytes = 0;     // of the files restored intact
  std::uint64_t salvaged = 0;  // written as NAME.damaged
  std::uint64_t errors = 0;    // destination errors and existing entries
  std::uint64_t missing = 0;   // PATH arguments not in the copy
  std::uint64_t special_bits_dropped = 0;  // entries whose setuid/setgid/sticky bits were dropped
};

// Restores `paths` (plaintext view paths; empty = everything) of `view` under the directory
// `dest_fd`. Damage goes into `report` (the view's sink should feed the same report).
RestoreStats restore_view(fs::View& view, DamageReport& report,
                          const std::vector<std::string>& paths, int dest_fd,
                          const RestoreOptions& options);

// "restored N files, M directories, K symlinks, B bytes in T s; D damaged, E errors"
std::string restore_summary(const RestoreStats& stats, double seconds, std::size_t damaged);

}  // namespace encfsr::cli
