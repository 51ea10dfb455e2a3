#include "src/fs/served_blocks.h"

#include <algorithm>
#include <cstring>

#include "crypto/size_math.h"

namespace encfsr::fs {
namespace {

// The first four bytes of a block's tag, never 0 (0 marks "nothing handed out").
std::uint32_t fingerprint(std::span<const std::uint8_t> sealed_block) {
  std::uint32_t v = 0;
  std::memcpy(&v, sealed_block.data(), sizeof v);
  return v == 0 ? 1 : v;
}

}  // namespace

bool ServedBlocks::reconcile(std::uint64_t first, std::span<std::uint8_t> sealed, std::size_t skip,
                             std::size_t end, const std::function<bool()>& changed) {
  std::lock_guard lock(mutex_);
  const std::size_t count =
      (sealed.size() + crypto::kCipherBlockSize - 1) / crypto::kCipherBlockSize;
  bool unproven = false;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t at = i * crypto::kCipherBlockSize;
    const auto block =
        sealed.subspan(at, std::min<std::size_t>(crypto::kCipherBlockSize, sealed.size() - at));
    if (const auto* earlier = edge(first + i); earlier != nullptr) {
      if (earlier->size() != block.size()) return false;
      std::memcpy(block.data(), earlier->data(), block.size());
      continue;
    }
    const std::uint32_t* seen = fingerprint_slot(first + i, false);
    if (seen != nullptr && *seen != 0) {
      if (*seen != fingerprint(block)) return false;
    } else if (forgotten(first + i)) {
      unproven = true;
    }
  }
  if (unproven && changed()) return false;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t at = i * crypto::kCipherBlockSize;
    const std::size_t size = std::min<std::size_t>(crypto::kCipherBlockSize, sealed.size() - at);
    const auto block = sealed.subspan(at, size);
    if (std::uint32_t* slot = fingerprint_slot(first + i, true); slot != nullptr) {
      *slot = fingerprint(block);
    }
    const bool cut = at < skip || at + size > end;
    if (cut && edge(first + i) == nullptr) remember_edge(first + i, block);
  }
  return true;
}

const std::vector<std::uint8_t>* ServedBlocks::edge(std::uint64_t block) const {
  for (const Edge& e : edges_) {
    if (e.block == block) return &e.sealed;
  }
  return nullptr;
}

void ServedBlocks::remember_edge(std::uint64_t block, std::span<const std::uint8_t> sealed) {
  if (edges_.size() == kMaxEdges) edges_.pop_front();
  edges_.push_back(Edge{block, std::vector<std::uint8_t>(sealed.begin(), sealed.end())});
}

std::uint32_t* ServedBlocks::fingerprint_slot(std::uint64_t block, bool create) {
  const std::uint64_t chunk = block / kChunkBlocks;
  auto it = chunks_.find(chunk);
  if (it == chunks_.end()) {
    if (!create) return nullptr;
    if (chunks_.size() == kMaxChunks) {
      forget_chunk(chunk_order_.front());
      chunk_order_.pop_front();
    }
    it = chunks_.emplace(chunk, std::make_unique<Chunk>()).first;
    it->second->fill(0);
    chunk_order_.push_back(chunk);
  }
  return &(*it->second)[block % kChunkBlocks];
}

bool ServedBlocks::forgotten(std::uint64_t block) const {
  const std::uint64_t chunk = block / kChunkBlocks;
  auto it = forgotten_.upper_bound(chunk);
  if (it == forgotten_.begin()) return false;
  --it;
  return chunk <= it->second;
}

void ServedBlocks::forget_chunk(std::uint64_t chunk) {
  chunks_.erase(chunk);
  // Add [chunk, chunk] to the ranges, merging neighbours.
  std::uint64_t lo = chunk, hi = chunk;
  auto next = forgotten_.upper_bound(chunk);
  if (next != forgotten_.begin()) {
    auto prev = std::prev(next);
    if (prev->second + 1 >= chunk) {
      lo = prev->first;
      hi = std::max(hi, prev->second);
      forgotten_.erase(prev);
    }
  }
  next = forgotten_.upper_bound(hi);
  while (next != forgotten_.end() && next->first <= hi + 1) {
    hi = std::max(hi, next->second);
    next = forgotten_.erase(next);
  }
  forgotten_[lo] = hi;
  if (forgotten_.size() > kMaxForgottenRanges) {
    // Bounded memory: one range covering them all (only ever more cautious).
    const std::uint64_t all_lo = forgotten_.begin()->first;
    const std::uint64_t all_hi = std::prev(forgotten_.end())->second;
    forgotten_.clear();
    forgotten_[all_lo] = all_hi;
  }
}

}  // namespace encfsr::fs
