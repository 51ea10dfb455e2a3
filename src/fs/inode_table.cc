#include "src/fs/inode_table.h"

#include <sys/stat.h>
#include <ctime>

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

namespace encfsr::fs {
namespace {

constexpr std::uint32_t kSaturated = std::numeric_limits<std::uint32_t>::max();
// Deeper than any path the backing tree can be opened by (PATH_MAX / 2): a guard against a
// parent chain that does not end.
constexpr std::size_t kMaxDepth = 4096;

// --- a slot's names: [name length: 1 byte][extra length: 2 bytes LE][name][extra] -----------

std::unique_ptr<char[]> pack_names(std::string_view name, std::string_view extra) {
  if (name.empty() && extra.empty()) return nullptr;
  if (name.size() > 0xff || extra.size() > 0xffff) {
    throw std::length_error("inode table: name or extra data too long");
  }
  auto out = std::make_unique_for_overwrite<char[]>(3 + name.size() + extra.size());
  out[0] = static_cast<char>(name.size());
  out[1] = static_cast<char>(extra.size() & 0xff);
  out[2] = static_cast<char>(extra.size() >> 8);
  std::memcpy(out.get() + 3, name.data(), name.size());
  std::memcpy(out.get() + 3 + name.size(), extra.data(), extra.size());
  return out;
}

std::string_view name_of(const std::unique_ptr<char[]>& names) {
  if (!names) return {};
  return {names.get() + 3, static_cast<unsigned char>(names[0])};
}

std::string_view extra_of(const std::unique_ptr<char[]>& names) {
  if (!names) return {};
  const std::size_t size = static_cast<unsigned char>(names[1]) |
                           (std::size_t{static_cast<unsigned char>(names[2])} << 8);
  return {names.get() + 3 + static_cast<unsigned char>(names[0]), size};
}

std::string_view last_component(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// --- the version of an opened file, as a 64-bit digest ---------------------------------------

std::uint64_t mix(std::uint64_t h, std::uint64_t value) noexcept {
  // SplitMix64's finaliser over the running state and the next value.
  std::uint64_t z = h ^ (value + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Whether `t` is at or after `limit`, compared as (seconds, nanoseconds): no multiplication
// that a timestamp after 2262 (which a source may hold) could overflow.
bool at_or_after(const timespec& t, const timespec& limit) noexcept {
  return t.tv_sec != limit.tv_sec ? t.tv_sec > limit.tv_sec : t.tv_nsec >= limit.tv_nsec;
}

// Well above the kernel's timestamp tick (a jiffy, 1-10 ms); a filesystem with coarser
// timestamps (FAT's 2 s mtime) still moves ctime, or has none to confuse.
constexpr time_t kRacyWindowSeconds = 1;

bool racy(const struct stat& st) noexcept {
  timespec now{};
  if (::clock_gettime(CLOCK_REALTIME, &now) != 0) return true;
  const timespec limit{now.tv_sec - kRacyWindowSeconds, now.tv_nsec};
  return at_or_after(st.st_mtim, limit) || at_or_after(st.st_ctim, limit);
}

// Device, inode, size, mtime, ctime and the size it is sealed at: what, as far as stat can
// tell, identifies the served bytes. Never 0 (0 means "never opened").
std::uint64_t version_digest(const struct stat& st, std::uint64_t seal_size) noexcept {
  std::uint64_t h = 0x656e63667372ULL;
  h = mix(h, static_cast<std::uint64_t>(st.st_dev));
  h = mix(h, static_cast<std::uint64_t>(st.st_ino));
  h = mix(h, static_cast<std::uint64_t>(st.st_size));
  h = mix(h, static_cast<std::uint64_t>(st.st_mtim.tv_sec));
  h = mix(h, static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
  h = mix(h, static_cast<std::uint64_t>(st.st_ctim.tv_sec));
  h = mix(h, static_cast<std::uint64_t>(st.st_ctim.tv_nsec));
  h = mix(h, seal_size);
  return h == 0 ? 1 : h;
}

}  // namespace

InodeTable::InodeTable(const crypto::NodeId& root_id, ExtraKind extra) : extra_kind_(extra) {
  Slot root;
  root.kind = NodeKind::kRoot;
  root.type = S_IFDIR >> 12;
  root.id = root_id;
  root.lookups = kSaturated;
  slots_.emplace(kRootIno, std::move(root));
}

InodeTable::~InodeTable() = default;

Node InodeTable::node_of(const Slot& slot) const {
  Node n;
  n.kind = slot.kind;
  n.type = static_cast<mode_t>(slot.type) << 12;
  n.parent = slot.parent;
  n.id = slot.id;
  n.source = slot.source;
  n.tier = slot.tier;
  n.name = name_of(slot.names);
  if (slot.kind != NodeKind::kBacked) {
    n.extra = extra_of(slot.names);
    return n;
  }
  // Collect the backed ancestors' names, then join them root first.
  const bool joined = extra_kind_ == ExtraKind::kJoinedPath;
  std::size_t rel_size = 0;
  std::size_t extra_size = 0;
  std::vector<const Slot*> chain;
  chain.reserve(16);
  for (const Slot* s = &slot;;) {
    if (chain.size() == kMaxDepth) throw std::length_error("inode table: path too deep");
    chain.push_back(s);
    rel_size += name_of(s->names).size() + 1;
    if (joined) extra_size += extra_of(s->names).size() + 1;
    auto parent = slots_.find(s->parent);
    if (parent == slots_.end()) throw std::logic_error("inode table: parent missing");
    if (parent->second.kind != NodeKind::kBacked) break;
    s = &parent->second;
  }
  n.rel.reserve(rel_size);
  if (joined) n.extra.reserve(extra_size);
  for (std::size_t i = chain.size(); i-- > 0;) {
    if (!n.rel.empty()) n.rel += '/';
    n.rel += name_of(chain[i]->names);
    if (joined) {
      if (!n.extra.empty()) n.extra += '/';
      n.extra += extra_of(chain[i]->names);
    }
  }
  if (!joined) n.extra = extra_of(slot.names);
  return n;
}

util::Result<Node> InodeTable::find(Ino ino) const {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return util::Errno{ESTALE};
  it->second.used = ++clock_;
  return node_of(it->second);
}

std::optional<Ino> InodeTable::ref(const Node& node) {
  const Ino ino = node.kind == NodeKind::kRoot ? kRootIno : crypto::inode_of(node.id);
  if (node.source > std::numeric_limits<std::uint16_t>::max() ||
      node.tier > std::numeric_limits<std::uint16_t>::max()) {
    throw std::length_error("inode table: source or tier index too large");
  }
  const bool joined = node.kind == NodeKind::kBacked && extra_kind_ == ExtraKind::kJoinedPath;
  auto names = pack_names(node.name, joined ? last_component(node.extra) : node.extra);
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) {
    auto parent = slots_.find(node.parent);
    if (parent == slots_.end()) return std::nullopt;
    ++parent->second.children;
    it = slots_.try_emplace(ino).first;
    it->second.parent = node.parent;
    it->second.id = node.id;
  } else if (it->second.id != node.id || it->second.parent != node.parent) {
    return std::nullopt;
  }
  // Refresh what may have changed in the backing tree since the last lookup (type, tier).
  Slot& slot = it->second;
  slot.kind = node.kind;
  slot.type = static_cast<std::uint8_t>((node.type & S_IFMT) >> 12);
  slot.source = static_cast<std::uint16_t>(node.source);
  slot.tier = static_cast<std::uint16_t>(node.tier);
  slot.names = std::move(names);
  if (slot.lookups != kSaturated) ++slot.lookups;
  slot.used = ++clock_;
  return ino;
}

void InodeTable::erase_chain(Ino ino) noexcept {
  while (ino != kRootIno) {
    auto it = slots_.find(ino);
    if (it == slots_.end() || it->second.lookups != 0 || it->second.children != 0) return;
    const Ino parent = it->second.parent;
    slots_.erase(it);
    open_.erase(ino);
    auto p = slots_.find(parent);
    if (p == slots_.end() || p->second.children == 0) return;
    --p->second.children;
    ino = parent;
  }
}

void InodeTable::forget(Ino ino, std::uint64_t count) noexcept {
  if (ino == kRootIno) return;
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it == slots_.end() || it->second.lookups == kSaturated) return;
  if (it->second.lookups <= count) {
    it->second.lookups = 0;
    erase_chain(ino);
  } else {
    it->second.lookups -= static_cast<std::uint32_t>(count);
  }
}

std::optional<Node> InodeTable::get(Ino ino) const {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return std::nullopt;
  return node_of(it->second);
}

std::uint64_t InodeTable::reply_size(Ino ino, std::uint64_t current) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return current;
  auto open = open_.find(ino);
  const std::uint64_t shown =
      open != open_.end() && open->second.seal_size != kNoSize ? open->second.seal_size : current;
  it->second.reported_size = shown;
  return shown;
}

InodeTable::OpenPlan InodeTable::note_open(Ino ino, const struct stat& st) {
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return OpenPlan{size, false};
  Slot& slot = it->second;
  OpenPlan plan;
  plan.seal_size = slot.reported_size != kNoSize ? std::min(slot.reported_size, size) : size;
  const std::uint64_t version = version_digest(st, plan.seal_size);
  plan.keep_cache = slot.last_open == version;
  // A version is remembered only if it cannot be confused with a later one: timestamps come
  // from a coarse clock, so a file changed again (or deleted and recreated on a reused inode
  // number) within the same tick would stat the same. Changed in the last kRacyWindow: racy,
  // never matched (git's "racily clean" entries, same remedy).
  slot.last_open = racy(st) ? 0 : version;
  slot.reported_size = plan.seal_size;
  OpenState& open = open_[ino];
  open.seal_size = plan.seal_size;
  ++open.files;
  return plan;
}

void InodeTable::note_open_unsized(Ino ino) {
  std::lock_guard lock(mutex_);
  OpenState& open = open_[ino];
  if (open.files == 0) open.seal_size = kNoSize;
  ++open.files;
}

void InodeTable::note_close(Ino ino) noexcept {
  std::lock_guard lock(mutex_);
  auto it = open_.find(ino);
  if (it == open_.end()) return;
  if (--it->second.files == 0) open_.erase(it);
}

std::vector<Ino> InodeTable::least_recently_used(std::size_t count) const {
  std::vector<std::pair<std::uint32_t, Ino>> aged;  // (age, inode)
  std::lock_guard lock(mutex_);
  aged.reserve(slots_.size());
  for (const auto& [ino, slot] : slots_) {
    // Never a directory: the kernel unhashes an invalidated dentry even while it is in use, so
    // a shell or tool whose working directory it is would find getcwd() failing.
    if (ino == kRootIno || slot.type == (S_IFDIR >> 12) || slot.children != 0 ||
        open_.count(ino) != 0) {
      continue;
    }
    aged.emplace_back(clock_ - slot.used, ino);
  }
  count = std::min(count, aged.size());
  const auto older = [](const auto& a, const auto& b) { return a.first > b.first; };
  std::nth_element(aged.begin(), aged.begin() + static_cast<std::ptrdiff_t>(count), aged.end(),
                   older);
  aged.resize(count);
  std::sort(aged.begin(), aged.end(), older);
  std::vector<Ino> out;
  out.reserve(count);
  for (const auto& a : aged) out.push_back(a.second);
  return out;
}

std::size_t InodeTable::size() const {
  std::lock_guard lock(mutex_);
  return slots_.size();
}

}  // namespace encfsr::fs
