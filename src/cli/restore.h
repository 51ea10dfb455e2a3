// src/cli/restore.h — the core of `encfsr restore`: copy entries of a (decrypt) view into a
// destination directory without FUSE, keeping modes, times, symlinks (and owners as root).
//
// Files are written under a temporary name in their directory (O_EXCL, 0600), given their owner
// (as root), mode, xattrs and times, then renamed without replacing (--overwrite: plain
// rename). Metadata is the view's: from the copy's manifests, which authenticate all 12 mode bits,
// owners, mtimes, xattrs (ACLs, file capabilities) and hard-link groups; entries without an
// authenticated record lose their setuid, setgid and sticky bits. The second and later members of
// a hard-link group become hard links to the first one restored. A damaged file is not
// created under its name; with salvage it is written as "NAME.damaged" with its bad blocks
// zeroed. Directories get their mode and times after their contents (deepest first), so a
// read-only directory still gets its files. Messages ("exists: PATH", errors) go to `messages`.
//
// Every entry under DEST is reached through held directory fds, one component at a time with
// O_NOFOLLOW | O_DIRECTORY (util::open_dir_beneath for the ancestors' final fix-up and for
// hard links): a symlink in DEST is never followed, in no component of a path. A symlink or
// file in the place of a directory is reported as "exists: PATH (a symlink, not followed)".
// Temporary entries are registered with util::TempRegistration, so that a SIGINT, SIGTERM or
// SIGHUP (with a util::SignalCleanup installed, as the command does) removes them.
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
  bool same_owner = true;        // as root, give entries their owners (--no-same-owner: not)
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
  std::uint64_t links = 0;     // hard links made to an earlier restored member of their group
  std::uint64_t unauthenticated = 0;     // entries restored without an authenticated manifest
                                         // record (setuid, setgid and sticky bits dropped)
  std::uint64_t xattrs_skipped = 0;      // xattrs a non-root restore may not set (EPERM)
  std::uint64_t owner_bits_dropped = 0;  // setuid/setgid bits dropped: owner not restored
};

// Restores `paths` (plaintext view paths; empty = everything) of `view` under the directory
// `dest_fd`. Damage goes into `report` (the view's sink should feed the same report).
RestoreStats restore_view(fs::View& view, DamageReport& report,
                          const std::vector<std::string>& paths, int dest_fd,
                          const RestoreOptions& options);

// "restored N files, M directories, K symlinks, B bytes in T s; D damaged, E errors"
std::string restore_summary(const RestoreStats& stats, double seconds, std::size_t damaged);

}  // namespace encfsr::cli
