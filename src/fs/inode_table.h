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
  // Records the size and mtime a file had when opened; true if they equal the previous open's
  // (the kernel may then keep its page cache: keep_cache).
  bool note_open(Ino ino, std::uint64_t size, std::int64_t mtime_ns);
  std::size_t size() const;

 private:
  struct Slot {
    Node node;
    std::uint64_t lookups = 0;
    bool opened = false;
    std::uint64_t open_size = 0;
    std::int64_t open_mtime_ns = 0;
  };
  mutable std::mutex mutex_;
  std::unordered_map<Ino, Slot> slots_;
};

}  // namespace encfsr::fs
