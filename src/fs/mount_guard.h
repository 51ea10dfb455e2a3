// src/fs/mount_guard.h — the directories a reverse view must never enter: its own mountpoint
// and every other encfsr view mounted inside a source.
//
// Backing up / with the view mounted at /mnt/enc puts the mountpoint inside the source. Any
// stat or open of it from the daemon goes through the kernel back into the daemon itself: a
// walk of the view recurses into the view, and with every worker thread waiting on itself the
// mount stops answering. The guard recognises such an entry by its parent directory (device
// and inode, taken before anything is mounted there) and its name, so the entry is hidden
// without ever being touched.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <vector>

namespace encfsr::fs {

class MountGuard {
 public:
  // Guards `mountpoint` (absolute; may be empty: nothing mounted yet) and every fuse.encfsr
  // mount listed in /proc/self/mountinfo now. Takes each parent's identity by a stat of the
  // parent, which lies outside the mount.
  explicit MountGuard(const std::string& mountpoint);

  // Whether the entry `name` of directory `dir_fd` must be hidden. Only a name that some
  // guarded entry has costs an fstat of the directory; any other is answered at once.
  bool hides(int dir_fd, std::string_view name) const noexcept;

 private:
  struct Guarded {
    dev_t dev;
    ino_t ino;
    std::string name;
  };
  void add(const std::string& mountpoint);
  std::vector<Guarded> guarded_;
};

// Mountpoints of type fuse.encfsr in a mountinfo text (octal escapes decoded).
std::vector<std::string> encfsr_mountpoints(std::string_view mountinfo);

}  // namespace encfsr::fs
