#include "src/fs/inode_table.h"

#include <sys/stat.h>

namespace encfsr::fs {

InodeTable::InodeTable(const crypto::NodeId& root_id) {
  Node root;
  root.kind = NodeKind::kRoot;
  root.type = S_IFDIR;
  root.id = root_id;
  slots_.emplace(kRootIno, Slot{std::move(root), 1});
}

util::Result<Node> InodeTable::find(Ino ino) const {
  auto node = get(ino);
  if (!node) return util::Errno{ESTALE};
  return std::move(*node);
}

std::optional<Ino> InodeTable::ref(const Node& node) {
  const Ino ino = node.kind == NodeKind::kRoot ? kRootIno : crypto::inode_of(node.id);
  std::lock_guard lock(mutex_);
  auto [it, inserted] = slots_.try_emplace(ino);
  if (!inserted && it->second.node.id != node.id) return std::nullopt;
  // Refresh what may have changed in the backing tree since the last lookup (type, tier).
  it->second.node = node;
  ++it->second.lookups;
  return ino;
}

void InodeTable::forget(Ino ino, std::uint64_t count) noexcept {
  if (ino == kRootIno) return;
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return;
  if (it->second.lookups <= count) {
    slots_.erase(it);
  } else {
    it->second.lookups -= count;
  }
}

std::optional<Node> InodeTable::get(Ino ino) const {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return std::nullopt;
  return it->second.node;
}

bool InodeTable::note_open(Ino ino, std::uint64_t size, std::int64_t mtime_ns) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return false;
  Slot& slot = it->second;
  const bool same = slot.opened && slot.open_size == size && slot.open_mtime_ns == mtime_ns;
  slot.opened = true;
  slot.open_size = size;
  slot.open_mtime_ns = mtime_ns;
  return same;
}

std::size_t InodeTable::size() const {
  std::lock_guard lock(mutex_);
  return slots_.size();
}

}  // namespace encfsr::fs
