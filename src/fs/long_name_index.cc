// src/fs/long_name_index.cc — see long_name_index.h.
#include "src/fs/long_name_index.h"

#include <algorithm>

namespace encfsr::fs {

LongNameIndex::LongNameIndex(std::size_t max_names) : max_names_(max_names) {}

std::optional<std::string> LongNameIndex::find(Ino dir, std::string_view form) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(dir);
  if (it == slots_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  const std::vector<Pair>& pairs = it->second.pairs;
  auto at = std::lower_bound(pairs.begin(), pairs.end(), form,
                             [](const Pair& p, std::string_view f) { return p.form < f; });
  if (at == pairs.end() || at->form != form) return std::nullopt;
  return at->plain;
}

void LongNameIndex::store(Ino dir, std::vector<Pair> pairs) {
  std::sort(pairs.begin(), pairs.end(),
            [](const Pair& a, const Pair& b) { return a.form < b.form; });
  std::lock_guard lock(mutex_);
  if (auto it = slots_.find(dir); it != slots_.end()) drop(it);
  if (pairs.empty() || pairs.size() > max_names_) return;
  while (names_ + pairs.size() > max_names_ && !lru_.empty()) drop(slots_.find(lru_.back()));
  lru_.push_front(dir);
  names_ += pairs.size();
  slots_.emplace(dir, Slot{std::move(pairs), lru_.begin()});
}

std::size_t LongNameIndex::names() const {
  std::lock_guard lock(mutex_);
  return names_;
}

void LongNameIndex::drop(std::unordered_map<Ino, Slot>::iterator it) {
  names_ -= it->second.pairs.size();
  lru_.erase(it->second.lru);
  slots_.erase(it);
}

}  // namespace encfsr::fs
