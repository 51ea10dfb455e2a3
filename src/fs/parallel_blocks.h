// src/fs/parallel_blocks.h — the blocks of one read request, sealed or opened in parallel.
//
// A 1 MiB request holds 255 content blocks; sealing them one after the other keeps one core
// busy while the others idle. for_block_ranges() cuts the request into ranges of consecutive
// blocks and hands them to a util::WorkerPool, whose helpers and the requesting thread work on
// them together. Small requests (fewer than kParallelMinBlocks blocks) stay on the requesting
// thread: handing them out would cost more than it saves.
#pragma once

#include <algorithm>
#include <cstddef>

#include "src/util/worker_pool.h"

namespace encfsr::fs {

inline constexpr std::size_t kParallelMinBlocks = 8;
// No range is shorter than this (unless the request is): about 25 microseconds of crypto.
inline constexpr std::size_t kMinRangeBlocks = 4;

// Calls range(begin, end) for consecutive ranges [begin, end) covering [0, blocks) — on the
// pool's threads too when `pool` has helpers and the request is large enough — and returns
// when all have returned. Ranges never overlap, so they may write to disjoint parts of one
// buffer. False if a call threw (on the pool) or `range` threw (alone: rethrown).
template <typename Range>
bool for_block_ranges(util::WorkerPool* pool, std::size_t blocks, Range&& range) {
  if (pool == nullptr || pool->helpers() == 0 || blocks < kParallelMinBlocks) {
    range(std::size_t{0}, blocks);
    return true;
  }
  // About two ranges per thread, so that a thread held up elsewhere delays only a small part.
  const std::size_t threads = pool->helpers() + std::size_t{1};
  const std::size_t per = std::max(kMinRangeBlocks, (blocks + 2 * threads - 1) / (2 * threads));
  const std::size_t parts = (blocks + per - 1) / per;
  return pool->run(
      parts, [&](std::size_t part) { range(part * per, std::min(blocks, (part + 1) * per)); });
}

}  // namespace encfsr::fs
