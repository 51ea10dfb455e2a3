// src/fs/manifest_cache.cc — see manifest_cache.h.
#include "src/fs/manifest_cache.h"

#include <cerrno>

namespace encfsr::fs {
namespace {

std::size_t weight(const SnapshotPtr& s) {
  if (!s) return 0;
  std::size_t n = s->manifest.size();
  for (const DirEntry& e : s->entries) n += e.name.size() + sizeof(DirEntry);
  for (const ListedChild& c : s->children) {
    n += sizeof(ListedChild) + c.name.size() + c.shown.name.size() + c.shown.full.size();
    for (const crypto::Xattr& x : c.xattrs) n += sizeof x + x.name.size() + x.value.size();
  }
  n += s->child_of.size() * sizeof(std::uint32_t) + s->tier_dirs.size() * sizeof(TierDirStamp);
  return n;
}

}  // namespace

bool TierDirStamp::operator==(const TierDirStamp& o) const noexcept {
  return present == o.present && dev == o.dev && ino == o.ino && uid == o.uid && gid == o.gid &&
         mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec &&
         ctime.tv_sec == o.ctime.tv_sec && ctime.tv_nsec == o.ctime.tv_nsec;
}

ManifestCache::ManifestCache(std::chrono::steady_clock::duration ttl, std::size_t max_dirs,
                             std::size_t max_bytes)
    : ttl_(ttl), max_dirs_(max_dirs), max_bytes_(max_bytes) {}

bool ManifestCache::fresh(const Slot& slot) const {
  return slot.latest && std::chrono::steady_clock::now() - slot.made < ttl_;
}

ManifestCache::Slot& ManifestCache::touch(Ino dir) {
  auto [it, inserted] = slots_.try_emplace(dir);
  if (inserted) {
    lru_.push_front(dir);
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  it->second.lru = lru_.begin();
  return it->second;
}

void ManifestCache::recount(Slot& slot) {
  bytes_ -= slot.bytes;
  slot.bytes = weight(slot.latest) + (slot.reported != slot.latest ? weight(slot.reported) : 0);
  bytes_ += slot.bytes;
}

void ManifestCache::evict(Ino keep) {
  auto it = lru_.end();
  while (it != lru_.begin() && (slots_.size() > max_dirs_ || bytes_ > max_bytes_)) {
    --it;
    auto victim = slots_.find(*it);
    if (victim->first == keep || victim->second.opens > 0) continue;
    bytes_ -= victim->second.bytes;
    slots_.erase(victim);
    it = lru_.erase(it);
  }
}

util::Result<SnapshotPtr> ManifestCache::for_listing(Ino dir, const SnapshotBuilder& build,
                                                     bool* first) {
  const auto served = [first](Slot& slot) {  // locked
    if (first != nullptr) *first = !slot.listed;
    slot.listed = true;
    return slot.latest;
  };
  {
    std::unique_lock lock(mutex_);
    for (;;) {
      auto it = slots_.find(dir);
      if (it != slots_.end() && fresh(it->second)) return served(it->second);
      if (building_.count(dir) == 0) break;
      built_.wait(lock);  // then fresh, unless that build failed: then this one builds
    }
    building_.insert(dir);
  }
  if (first != nullptr) *first = true;
  return build_and_store(dir, build, true);
}

void ManifestCache::make_ahead(Ino dir, const SnapshotBuilder& build) {
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(dir);
    if ((it != slots_.end() && fresh(it->second)) || building_.count(dir) != 0) return;
    building_.insert(dir);
  }
  (void)build_and_store(dir, build, false);
}

bool ManifestCache::fresh_or_building(Ino dir) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(dir);
  return (it != slots_.end() && fresh(it->second)) || building_.count(dir) != 0;
}

util::Result<SnapshotPtr> ManifestCache::build_and_store(Ino dir, const SnapshotBuilder& build,
                                                         bool listing) {
  const auto done = [this, dir] {  // locked
    building_.erase(dir);
    built_.notify_all();
  };
  util::Result<SnapshotPtr> made = util::Errno{EIO};
  try {
    made = build();
  } catch (...) {
    std::lock_guard lock(mutex_);
    done();
    throw;
  }
  std::lock_guard lock(mutex_);
  done();
  if (!made) return made;
  Slot& slot = touch(dir);
  slot.made = std::chrono::steady_clock::now();
  slot.listed = listing;
  if (slot.latest == *made) return made;  // the previous pass served again: same weight
  slot.latest = *made;
  recount(slot);
  evict(dir);
  return made;
}

util::Result<SnapshotPtr> ManifestCache::for_attr(Ino dir, const SnapshotBuilder& build) {
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(dir);
    if (it != slots_.end()) {
      Slot& slot = it->second;
      if (slot.opens > 0 && slot.reported) return slot.reported;
      if (slot.latest) {  // the last listing's, however old: the tool copies that listing
        slot.reported = slot.latest;
        recount(slot);
        return slot.reported;
      }
    }
  }
  auto made = build();
  if (!made) return made;
  std::lock_guard lock(mutex_);
  Slot& slot = touch(dir);
  if (slot.opens > 0 && slot.reported) return slot.reported;  // opened meanwhile: keep showing it
  slot.latest = *made;
  slot.made = std::chrono::steady_clock::now();
  slot.listed = false;
  slot.reported = slot.latest;
  recount(slot);
  evict(dir);
  return slot.reported;
}

util::Result<SnapshotPtr> ManifestCache::open(Ino dir, const SnapshotBuilder& build) {
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(dir);
    if (it != slots_.end() && it->second.reported) {
      Slot& slot = touch(dir);
      ++slot.opens;
      return slot.reported;
    }
  }
  auto shown = for_attr(dir, build);
  if (!shown) return shown;
  std::lock_guard lock(mutex_);
  Slot& slot = touch(dir);
  if (!slot.reported) {
    slot.reported = *shown;
    recount(slot);
  }
  ++slot.opens;
  return slot.reported;
}

SnapshotPtr ManifestCache::latest(Ino dir) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(dir);
  return it == slots_.end() ? nullptr : it->second.latest;
}

void ManifestCache::release(Ino dir) noexcept {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(dir);
  if (it != slots_.end() && it->second.opens > 0) --it->second.opens;
}

}  // namespace encfsr::fs
