// src/fs/inode_table.h — the inodes the kernel (or an offline walk) has looked up.
//
// One entry per looked-up inode: its parent, where it lives in the backing tree (a relative
// path, never an open fd) and its lookup count. Inode numbers come from node IDs, so they are
// the same at every mount. Thread-safe; callers get copies.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "crypto/node_id.h"
#include "src/fs/view.h"
#include "src/util/result.h"

namespace encfsr::fs {

enum class NodeKind : std::uint8_t {
  kRoot,      // the view's root directory
  kSource,    // reverse view: a source's root directory (merged over its tiers)
  kBacked,    // an entry of a backing tree (source or ciphertext copy)
  kKeyFile,   // reverse view: the virtual encfsr.key
  kSideFile,  // reverse view: the virtual side file of a long name
  kManifest,  // reverse view: the virtual manifest (encfsr.dir) of directory `parent`
};

struct Node {
  NodeKind kind = NodeKind::kBacked;
  mode_t type = 0;  // S_IFDIR, S_IFREG or S_IFLNK
  Ino parent = 0;
  crypto::NodeId id{};
  std::uint32_t source = 0;  // reverse view: index of the source
  std::uint32_t tier = 0;    // reverse view: tier the entry was found in
  std::string rel;           // path in the backing tree relative to its root ("" = the root)
  std::string name;          // the entry's name in the backing tree (last component of rel)
  std::string extra;         // reverse: side file contents; decrypt: plaintext path in the view
};

class InodeTable {
 public:
  // A table holding the view's root (inode kRootIno, never forgotten) with ID `root_id`.
  explicit InodeTable(const crypto::NodeId& root_id);

  // Adds one lookup of `node` (inserted if new) and returns its inode number, or nullopt when
  // another node already holds the number (a 64-bit collision: the caller answers EIO).
  std::optional<Ino> ref(const Node& node);
  void forget(Ino ino, std::uint64_t count) noexcept;
  std::optional<Node> get(Ino ino) const;
  // The node of a looked-up inode, or ESTALE for one the kernel has forgotten.
  util::Result<Node> find(Ino ino) const;
  // The size an attribute reply for regular file `ino` shows, `current` being its size in the
  // backing tree now: while the file is open, the size its open files are sealed at (so the
  // kernel never cuts a read inside a sealed block), else `current`. Remembered as reported.
  std::uint64_t reply_size(Ino ino, std::uint64_t current);

  // What an open of regular file `ino`, whose fstat is `st`, serves: the size it is sealed at
  // (the size last reported to the kernel, unless the file is smaller now: a file that grew
  // since the tool's stat is served whole at that size) and whether the kernel may keep its
  // page cache (same device, inode, size, mtime and ctime and sealed size as the last open).
  // Counts the open until note_close.
  struct OpenPlan {
    std::uint64_t seal_size = 0;
    bool keep_cache = false;
  };
  OpenPlan note_open(Ino ino, const struct stat& st);
  void note_close(Ino ino) noexcept;
  std::size_t size() const;

 private:
  // The identity of a backing file's contents, as far as stat can tell.
  struct Version {
    dev_t dev = 0;
    ino_t ino = 0;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    std::uint64_t seal_size = 0;
    bool operator==(const Version&) const = default;
  };
  struct Slot {
    Node node;
    std::uint64_t lookups = 0;
    std::optional<std::uint64_t> reported_size;
    std::uint32_t open_files = 0;
    std::uint64_t open_seal_size = 0;
    std::optional<Version> last_open;
  };
  mutable std::mutex mutex_;
  std::unordered_map<Ino, Slot> slots_;
};

}  // namespace encfsr::fs
