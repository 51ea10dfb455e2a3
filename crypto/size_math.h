// crypto/size_math.h — pure size and offset maths of the content format.
//
// Plaintext is cut into 4,096-byte blocks, the last one shorter (an empty file is one empty
// last block); each ciphertext block is a 16-byte tag followed by as many bytes as its
// plaintext block. No file header.
#pragma once

#include <cstdint>
#include <optional>

namespace encfsr::crypto {

inline constexpr std::uint64_t kBlockSize = 4096;
inline constexpr std::uint64_t kTagSize = 16;
inline constexpr std::uint64_t kCipherBlockSize = kBlockSize + kTagSize;

// Number of blocks of a plaintext of this size (>= 1).
constexpr std::uint64_t block_count(std::uint64_t plain_size) noexcept {
  return plain_size == 0 ? 1 : (plain_size + kBlockSize - 1) / kBlockSize;
}
constexpr std::uint64_t cipher_size(std::uint64_t plain_size) noexcept {
  return plain_size + kTagSize * block_count(plain_size);
}
// The plaintext size of a ciphertext size, or nullopt for a size no encoder produces
// (0, or a last block of 1..16 bytes other than the empty file's single 16-byte block).
std::optional<std::uint64_t> plain_size(std::uint64_t cipher_size) noexcept;
// Like plain_size, but for a damaged size gives the plaintext of the whole blocks (reads of the
// broken tail then fail authentication).
std::uint64_t plain_size_lenient(std::uint64_t cipher_size) noexcept;

// Blocks [first, last] hold plaintext bytes [offset, offset + length); length must be > 0.
struct BlockRange {
  std::uint64_t first;
  std::uint64_t last;
};
constexpr BlockRange blocks_of_plain_range(std::uint64_t offset, std::uint64_t length) noexcept {
  return {offset / kBlockSize, (offset + length - 1) / kBlockSize};
}
constexpr BlockRange blocks_of_cipher_range(std::uint64_t offset, std::uint64_t length) noexcept {
  return {offset / kCipherBlockSize, (offset + length - 1) / kCipherBlockSize};
}

}  // namespace encfsr::crypto
