// src/fs/inode_table.h — the inodes the kernel (or an offline walk) has looked up.
//
// One entry per looked-up inode: its parent, its name in the backing tree (never an open fd)
// and its lookup count. Inode numbers come from node IDs, so they are the same at every mount.
// Thread-safe; callers get copies of whole Nodes.
//
// Memory: a walk of a million-entry tree leaves a million inodes looked up, so an entry keeps
// only its own name and rebuilds the paths (Node::rel, and a joined Node::extra) from its
// parents' names when asked; an entry outlives its lookups while children refer to it. Open
// files' state lives apart, and a file's last opened version is kept as a 64-bit digest.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

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

// What Node::extra of a backed node holds: kept as given (reverse view: nothing, or a side
// file's contents), or a path whose last component is the node's own (decrypt view: the
// plaintext path), rebuilt from the parents' as Node::rel is.
enum class ExtraKind : std::uint8_t { kOpaque, kJoinedPath };

class InodeTable {
 public:
  // A table holding the view's root (inode kRootIno, never forgotten) with ID `root_id`.
  explicit InodeTable(const crypto::NodeId& root_id, ExtraKind extra = ExtraKind::kOpaque);
  ~InodeTable();
  InodeTable(const InodeTable&) = delete;
  InodeTable& operator=(const InodeTable&) = delete;

  // Adds one lookup of `node` (inserted if new) and returns its inode number, or nullopt when
  // another node already holds the number (a 64-bit collision: the caller answers EIO) or a
  // backed node's parent is not in the table (ESTALE's case: the caller answers EIO too).
  std::optional<Ino> ref(const Node& node);
  void forget(Ino ino, std::uint64_t count) noexcept;
  // The node of a looked-up inode, without counting a use (see least_recently_used).
  std::optional<Node> get(Ino ino) const;
  // The node of a looked-up inode, counted as a use, or ESTALE for one the kernel has forgotten.
  util::Result<Node> find(Ino ino) const;
  // The size an attribute reply for regular file `ino` shows, `current` being its size in the
  // backing tree now: while the file is open, the size its open files are sealed at (so the
  // kernel never cuts a read inside a sealed block), else `current`. Remembered as reported.
  std::uint64_t reply_size(Ino ino, std::uint64_t current);

  // What an open of regular file `ino`, whose fstat is `st`, serves: the size it is sealed at
  // (the size last reported to the kernel, unless the file is smaller now: a file that grew
  // since the tool's stat is served whole at that size) and whether the kernel may keep its
  // page cache (same device, inode, size, mtime and ctime and sealed size as the last open,
  // and that open's file not changed within a few seconds before it: see racy()).
  // Counts the open until note_close.
  struct OpenPlan {
    std::uint64_t seal_size = 0;
    bool keep_cache = false;
  };
  OpenPlan note_open(Ino ino, const struct stat& st);
  // Counts an open that fixes no size (the decrypt view's): until note_close, `ino` is not
  // offered by least_recently_used, and reply_size shows `current`.
  void note_open_unsized(Ino ino);
  void note_close(Ino ino) noexcept;
  std::size_t size() const;

  // Up to `count` inodes the kernel could drop from its cache, least recently used (looked up
  // or asked about) first: files and symlinks only (never a directory: it may be a process's
  // working directory), and none that is open.
  std::vector<Ino> least_recently_used(std::size_t count) const;

 private:
  // 64 bytes, plus one allocation for the names.
  struct Slot {
    Ino parent = 0;
    crypto::NodeId id{};
    std::uint64_t reported_size = kNoSize;
    std::uint64_t last_open = 0;  // digest of what the last open saw (see note_open), 0 = none
    // [name length: 1 byte][extra length: 2 bytes LE][name][extra]; null when both are empty.
    std::unique_ptr<char[]> names;
    std::uint32_t lookups = 0;       // saturates: a slot counted 2^32-1 times is never forgotten
    std::uint32_t children = 0;      // slots whose parent this is
    mutable std::uint32_t used = 0;  // clock_ at the last use (ages compare modulo 2^32)
    std::uint16_t source = 0;
    std::uint16_t tier = 0;
    NodeKind kind = NodeKind::kBacked;
    std::uint8_t type = 0;  // mode_t type >> 12
  };
  static constexpr std::uint64_t kNoSize = ~std::uint64_t{0};
  struct OpenState {
    std::uint32_t files = 0;
    std::uint64_t seal_size = 0;
  };
  // The node of `slot`, its paths rebuilt from its parents' names (mutex_ held).
  Node node_of(const Slot& slot) const;
  // Removes `ino`'s slot, then each parent left without lookups or children (mutex_ held).
  void erase_chain(Ino ino) noexcept;

  ExtraKind extra_kind_;
  mutable std::mutex mutex_;
  mutable std::uint32_t clock_ = 0;  // counts uses
  std::unordered_map<Ino, Slot> slots_;
  std::unordered_map<Ino, OpenState> open_;  // inodes with open files only
};

}  // namespace encfsr::fs
