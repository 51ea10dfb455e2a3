// crypto/paper_key.cc — the master key as upper-case base32 text with a 3-byte checksum.
//
// Everything that holds key bits (the 35 bytes, the 56 symbols, the text) lives in a
// SecureBuffer.
#include "crypto/paper_key.h"

#include <sodium.h>

#include <cstring>
#include <new>

namespace encfsr::crypto {
namespace {

constexpr std::string_view kCheckPrefix = "encfsr paper key";
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::size_t kCheckBytes = 3;
constexpr std::size_t kPayloadBytes = kMasterKeyBytes + kCheckBytes;  // 35 bytes = 280 bits
constexpr std::size_t kSymbols = kPayloadBytes * 8 / 5;               // 56
constexpr std::size_t kGroup = 4;
static_assert(kPayloadBytes * 8 % 5 == 0);

// The first 3 bytes of BLAKE2b-256("encfsr paper key" || key).
void checksum(std::span<const std::uint8_t> key, std::uint8_t* out) {
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init(&st, nullptr, 0, 32);
  crypto_generichash_blake2b_update(
      &st, reinterpret_cast<const unsigned char*>(kCheckPrefix.data()), kCheckPrefix.size());
  crypto_generichash_blake2b_update(&st, key.data(), key.size());
  std::uint8_t hash[32];
  crypto_generichash_blake2b_final(&st, hash, sizeof hash);
  std::memcpy(out, hash, kCheckBytes);
  sodium_memzero(hash, sizeof hash);
  sodium_memzero(&st, sizeof st);
}

// Value of a paper-key character (either case), -1 for a separator, -2 for anything else.
int symbol_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  if (c == ' ' || c == '-' || c == '\n' || c == '\r' || c == '\t') return -1;
  return -2;
}

}  // namespace

SecureBuffer format_paper_key(const MasterKey& key) {
  SecureBuffer payload(kPayloadBytes);
  std::memcpy(payload.data(), key.bytes().data(), kMasterKeyBytes);
  checksum(key.bytes(), payload.data() + kMasterKeyBytes);
  SecureBuffer text(kSymbols + kSymbols / kGroup - 1);
  std::size_t pos = 0;
  for (std::size_t i = 0; i < kSymbols; ++i) {
    // Symbol i holds payload bits [5i, 5i + 5), most significant bit first.
    std::uint32_t v = 0;
    for (std::size_t b = 5 * i; b < 5 * i + 5; ++b) {
      const unsigned byte = payload.data()[b / 8];
      v = (v << 1) | ((byte >> (7 - b % 8)) & 1u);
    }
    if (i > 0 && i % kGroup == 0) text.data()[pos++] = '-';
    text.data()[pos++] = static_cast<std::uint8_t>(kAlphabet[v]);
  }
  return text;
}

Status parse_paper_key(std::string_view text, MasterKey& out) {
  try {
    // Check the text before allocating guarded memory.
    std::size_t count = 0;
    for (char c : text) {
      const int v = symbol_value(c);
      if (v == -2) return Status::kBadEncoding;
      if (v >= 0) ++count;
    }
    if (count != kSymbols) return Status::kBadEncoding;
    SecureBuffer symbols(kSymbols);
    count = 0;
    for (char c : text) {
      const int v = symbol_value(c);
      if (v >= 0) symbols.data()[count++] = static_cast<std::uint8_t>(v);
    }
    SecureBuffer payload(kPayloadBytes);
    for (std::size_t b = 0; b < kPayloadBytes * 8; ++b) {
      const unsigned symbol = symbols.data()[b / 5];
      const unsigned bit = (symbol >> (4 - b % 5)) & 1u;
      const unsigned byte = payload.data()[b / 8];
      payload.data()[b / 8] = static_cast<std::uint8_t>(byte | (bit << (7 - b % 8)));
    }
    std::uint8_t check[kCheckBytes];
    checksum(payload.span().first(kMasterKeyBytes), check);
    if (sodium_memcmp(check, payload.data() + kMasterKeyBytes, kCheckBytes) != 0) {
      return Status::kAuthFailed;
    }
    return MasterKey::from_bytes(payload.span().first(kMasterKeyBytes), out);
  } catch (const std::bad_alloc&) {
    return Status::kInternal;
  }
}

}  // namespace encfsr::crypto
