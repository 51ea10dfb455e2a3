// src/fs/served_blocks.h — what one open file of the reverse view has handed out, so that
// every ciphertext block it serves comes from one seal.
//
// A ciphertext block is 4,112 bytes and the kernel asks for page-aligned ranges, so nearly
// every read request cuts a block in two, and the pages of one block may be fetched by
// several requests (readahead windows, or a page evicted and read again). Each request seals
// what the source holds at that moment; if the source changed in between, the two halves of a
// block would come from two seals and the copy would hold a block that fails authentication.
//
// ServedBlocks remembers, per open file:
// - the sealed bytes of the last few blocks a request cut (edge blocks): a later request for
//   the rest of such a block gets the same bytes again, whatever the source holds now;
// - a 32-bit fingerprint of every block's tag handed out, in chunks of 1,024 blocks, at most
//   kMaxChunks chunks (256 KiB, 256 MiB of file); a block sealed again differently from what
//   was handed out before is refused (EIO);
// - for blocks whose fingerprints were dropped to keep memory bounded, the ranges served:
//   serving one of those again is refused only when the source file has changed since the
//   open (the caller's check), since equality can no longer be proven.
// Thread-safe: requests of one open file may run in parallel.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

namespace encfsr::fs {

class ServedBlocks {
 public:
  static constexpr std::size_t kChunkBlocks = 1024;
  static constexpr std::size_t kMaxChunks = 64;
  static constexpr std::size_t kMaxEdges = 8;
  static constexpr std::size_t kMaxForgottenRanges = 256;

  // `sealed` holds blocks first, first+1, ... back to back, freshly sealed (each
  // kCipherBlockSize bytes but a shorter last block of the file). `skip` and `end` say which
  // of its bytes the request hands out: [skip, end) of `sealed`; a block only partly inside
  // that range is an edge. Blocks handed out before are made identical to what was handed
  // out (edges) or checked against it; `changed` is asked (at most once) whether the source
  // changed since the open when a block can no longer be checked. Returns false when the
  // request must fail with EIO.
  bool reconcile(std::uint64_t first, std::span<std::uint8_t> sealed, std::size_t skip,
                 std::size_t end, const std::function<bool()>& changed);

 private:
  using Chunk = std::array<std::uint32_t, kChunkBlocks>;  // 0: nothing handed out
  struct Edge {
    std::uint64_t block;
    std::vector<std::uint8_t> sealed;
  };

  const std::vector<std::uint8_t>* edge(std::uint64_t block) const;
  void remember_edge(std::uint64_t block, std::span<const std::uint8_t> sealed);
  std::uint32_t* fingerprint_slot(std::uint64_t block, bool create);
  bool forgotten(std::uint64_t block) const;
  void forget_chunk(std::uint64_t chunk);

  std::mutex mutex_;
  std::deque<Edge> edges_;  // oldest first
  std::unordered_map<std::uint64_t, std::unique_ptr<Chunk>> chunks_;
  std::deque<std::uint64_t> chunk_order_;             // oldest first
  std::map<std::uint64_t, std::uint64_t> forgotten_;  // chunk ranges [first, last]
};

}  // namespace encfsr::fs
