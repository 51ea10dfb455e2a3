#include "src/fs/inode_table.h"

#include <sys/stat.h>

#include <algorithm>

namespace encfsr::fs {

InodeTable::InodeTable(const crypto::NodeId& root_id) {
  Node root;
  root.kind = NodeKind::kRoot;
  root.type = S_IFDIR;
  root.id = root_id;
  Slot slot;
  slot.node = std::move(root);
  slot.lookups = 1;
  slots_.emplace(kRootIno, std::move(slot));
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

namespace {
std::int64_t nanoseconds(const timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}
}  // namespace

std::uint64_t InodeTable::reply_size(Ino ino, std::uint64_t current) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return current;
  Slot& slot = it->second;
  const std::uint64_t shown = slot.open_files > 0 ? slot.open_seal_size : current;
  slot.reported_size = shown;
  return shown;
}

InodeTable::OpenPlan InodeTable::note_open(Ino ino, const struct stat& st) {
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return OpenPlan{size, false};
  Slot& slot = it->second;
  OpenPlan plan;
  plan.seal_size = slot.reported_size ? std::min(*slot.reported_size, size) : size;
  const Version now{
      st.st_dev, st.st_ino, size, nanoseconds(st.st_mtim), nanoseconds(st.st_ctim), plan.seal_size};
  plan.keep_cache = slot.last_open && *slot.last_open == now;
  slot.last_open = now;
  slot.reported_size = plan.seal_size;
  slot.open_seal_size = plan.seal_size;
  ++slot.open_files;
  return plan;
}

void InodeTable::note_close(Ino ino) noexcept {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it != slots_.end() && it->second.open_files > 0) --it->second.open_files;
}

std::size_t InodeTable::size() const {
  std::lock_guard lock(mutex_);
  return slots_.size();
}

}  // namespace encfsr::fs
