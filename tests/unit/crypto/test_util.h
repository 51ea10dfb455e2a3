// tests/unit/crypto/test_util.h — helpers shared by the crypto unit tests: fixed and random
// keys, random bytes, and whole-file encryption/decryption built from ContentCipher blocks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "crypto/content_cipher.h"
#include "crypto/keys.h"
#include "crypto/size_math.h"

namespace encfsr::crypto {
// Readable gtest output for status codes.
inline void PrintTo(Status status, std::ostream* os) { *os << describe(status); }
}  // namespace encfsr::crypto

namespace encfsr::crypto::test {

using Bytes = std::vector<std::uint8_t>;

// The master key of the test vectors: bytes 0x00..0x1f.
inline MasterKey vector_master_key() {
  std::uint8_t raw[32];
  for (int i = 0; i < 32; ++i) raw[i] = static_cast<std::uint8_t>(i);
  MasterKey key;
  if (MasterKey::from_bytes(raw, key) != Status::kOk) std::abort();
  return key;
}

inline Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

inline std::string random_string(std::mt19937_64& rng, std::size_t n, std::string_view alphabet) {
  std::string out(n, '\0');
  for (auto& c : out) c = alphabet[rng() % alphabet.size()];
  return out;
}

// Encrypts a whole file: plaintext cut into blocks, each sealed, concatenated.
inline Bytes encrypt_file(const ContentCipher& cipher, const NodeId& id,
                          std::span<const std::uint8_t> plain) {
  const std::uint64_t blocks = block_count(plain.size());
  Bytes out(cipher_size(plain.size()));
  for (std::uint64_t i = 0; i < blocks; ++i) {
    const std::size_t begin = i * kBlockSize;
    const std::size_t len = std::min<std::size_t>(kBlockSize, plain.size() - begin);
    cipher.seal(id, i, i + 1 == blocks, plain.subspan(begin, len),
                std::span(out).subspan(i * kCipherBlockSize, len + kTagSize));
  }
  return out;
}

// Decrypts a whole file; the first error (bad size or a failing block) is returned.
inline Status decrypt_file(const ContentCipher& cipher, const NodeId& id,
                           std::span<const std::uint8_t> ct, Bytes& plain) {
  const auto size = plain_size(ct.size());
  if (!size) return Status::kBadSize;
  plain.assign(*size, 0);
  const std::uint64_t blocks = block_count(*size);
  for (std::uint64_t i = 0; i < blocks; ++i) {
    const std::size_t begin = i * kCipherBlockSize;
    const std::size_t len = std::min<std::size_t>(kCipherBlockSize, ct.size() - begin);
    const Status s = cipher.open(id, i, i + 1 == blocks, ct.subspan(begin, len),
                                 std::span(plain).subspan(i * kBlockSize, len - kTagSize));
    if (s != Status::kOk) return s;
  }
  return Status::kOk;
}

// Cipher block i of a whole-file ciphertext.
inline Bytes cipher_block(const Bytes& ct, std::size_t i) {
  const std::size_t begin = i * kCipherBlockSize;
  const std::size_t end = std::min<std::size_t>(ct.size(), begin + kCipherBlockSize);
  return Bytes(ct.begin() + static_cast<std::ptrdiff_t>(begin),
               ct.begin() + static_cast<std::ptrdiff_t>(end));
}

}  // namespace encfsr::crypto::test
