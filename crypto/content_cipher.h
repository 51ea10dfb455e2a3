// crypto/content_cipher.h — deterministic authenticated encryption of content blocks (SIV).
//
//   tag = BLAKE2b-128(key = K_cmac, file_id || LE64(index) || last || plaintext)
//   ciphertext block = tag || XChaCha20(key = K_cenc, nonce = tag || 0^8, plaintext)
// `last` is one byte, 1 for the final block of the file, else 0. Thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "crypto/keys.h"
#include "crypto/node_id.h"
#include "crypto/size_math.h"
#include "crypto/status.h"

namespace encfsr::crypto {

class ContentCipher {
 public:
  explicit ContentCipher(const KeySet& keys);

  // out.size() must be plain.size() + kTagSize; plain.size() <= kBlockSize.
  void seal(const NodeId& file, std::uint64_t index, bool last,
            std::span<const std::uint8_t> plain, std::span<std::uint8_t> out) const noexcept;
  // out.size() must be cipher.size() - kTagSize. kBadSize if cipher is shorter than a tag or
  // longer than a block; kAuthFailed if the tag does not verify (out is then wiped).
  Status open(const NodeId& file, std::uint64_t index, bool last,
              std::span<const std::uint8_t> cipher, std::span<std::uint8_t> out) const noexcept;

 private:
  const KeySet& keys_;
  SecureBuffer mac_state_;  // BLAKE2b state already keyed with K_cmac (copied per block)
};

}  // namespace encfsr::crypto
