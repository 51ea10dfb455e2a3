// src/util/mountinfo.h — the mount table of this process (/proc/self/mountinfo), parsed.
//
// Reading it never touches a mounted filesystem, so it is safe to call while a FUSE mount of
// this very process is not yet being served (a stat() of that mountpoint would wait forever).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace encfsr::util {

struct MountEntry {
  unsigned major = 0;  // st_dev of the mounted filesystem
  unsigned minor = 0;
  std::string mountpoint;  // octal escapes (\040 for a space, ...) decoded
  std::string fstype;      // e.g. "fuse.encfsr"
};

// Parses the text of a mountinfo file; malformed lines are skipped. In file order: a mount
// stacked on another mountpoint comes after it.
std::vector<MountEntry> parse_mountinfo(std::string_view text);

// The entries of /proc/self/mountinfo (empty if it cannot be read).
std::vector<MountEntry> read_mountinfo();

// Whether an fstype is FUSE's ("fuse", "fuseblk", "fuse.SUBTYPE", "fuseblk.SUBTYPE").
bool is_fuse_fstype(std::string_view fstype) noexcept;

// The topmost FUSE mount on `abs_path` in `entries`, if any.
std::optional<MountEntry> find_fuse_mount(const std::vector<MountEntry>& entries,
                                          std::string_view abs_path);

}  // namespace encfsr::util
