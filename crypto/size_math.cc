// crypto/size_math.cc — plaintext size from ciphertext size (strict and lenient).
#include "crypto/size_math.h"

namespace encfsr::crypto {

std::optional<std::uint64_t> plain_size(std::uint64_t cipher) noexcept {
  const std::uint64_t full = cipher / kCipherBlockSize;
  const std::uint64_t rest = cipher % kCipherBlockSize;
  if (rest == 0) {
    if (full == 0) return std::nullopt;  // 0 bytes: even an empty file has one tag
    return full * kBlockSize;
  }
  if (rest == kTagSize && full == 0) return 0;  // the empty file
  if (rest <= kTagSize) return std::nullopt;    // a last block with no (or part of a) tag
  return full * kBlockSize + (rest - kTagSize);
}

std::uint64_t plain_size_lenient(std::uint64_t cipher) noexcept {
  if (auto exact = plain_size(cipher)) return *exact;
  return (cipher / kCipherBlockSize) * kBlockSize;
}

}  // namespace encfsr::crypto
