// crypto/content_cipher.cc — SIV encryption of content blocks (keyed BLAKE2b-128 + XChaCha20).
//
// The BLAKE2b state keyed with K_cmac is computed once in the constructor and copied per block,
// which saves one compression of the key block per call.
#include "crypto/content_cipher.h"

#include <sodium.h>

#include <cstring>

#include "crypto/size_math.h"

namespace encfsr::crypto {
namespace {

using State = crypto_generichash_blake2b_state;
constexpr std::size_t kHeaderBytes = 16 + 8 + 1;  // file_id || LE64(index) || last

void fill_header(const NodeId& file, std::uint64_t index, bool last,
                 std::uint8_t (&header)[kHeaderBytes]) noexcept {
  std::memcpy(header, file.data(), file.size());
  for (std::size_t i = 0; i < 8; ++i) header[16 + i] = static_cast<std::uint8_t>(index >> (8 * i));
  header[24] = last ? 1 : 0;
}

}  // namespace

ContentCipher::ContentCipher(const KeySet& keys) : keys_(keys), mac_state_(sizeof(State)) {
  State st;
  const auto key = keys_.get(Subkey::kContentMac);
  crypto_generichash_blake2b_init(&st, key.data(), key.size(), kTagSize);
  std::memcpy(mac_state_.data(), &st, sizeof st);
  sodium_memzero(&st, sizeof st);
}

void ContentCipher::seal(const NodeId& file, std::uint64_t index, bool last,
                         std::span<const std::uint8_t> plain,
                         std::span<std::uint8_t> out) const noexcept {
  if (plain.size() > kBlockSize || out.size() != plain.size() + kTagSize) {
    if (!out.empty()) sodium_memzero(out.data(), out.size());
    return;
  }
  std::uint8_t header[kHeaderBytes];
  fill_header(file, index, last, header);
  State st;
  std::memcpy(&st, mac_state_.data(), sizeof st);
  crypto_generichash_blake2b_update(&st, header, sizeof header);
  // Empty spans may hold null pointers, which libsodium's declarations do not allow.
  if (!plain.empty()) crypto_generichash_blake2b_update(&st, plain.data(), plain.size());
  std::uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES] = {};
  crypto_generichash_blake2b_final(&st, nonce, kTagSize);
  sodium_memzero(&st, sizeof st);
  if (!plain.empty()) {
    crypto_stream_xchacha20_xor(out.data() + kTagSize, plain.data(), plain.size(), nonce,
                                keys_.get(Subkey::kContentStream).data());
  }
  std::memcpy(out.data(), nonce, kTagSize);
}

Status ContentCipher::open(const NodeId& file, std::uint64_t index, bool last,
                           std::span<const std::uint8_t> cipher,
                           std::span<std::uint8_t> out) const noexcept {
  if (cipher.size() < kTagSize || cipher.size() > kCipherBlockSize) return Status::kBadSize;
  if (out.size() != cipher.size() - kTagSize) return Status::kBadSize;
  std::uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES] = {};
  std::memcpy(nonce, cipher.data(), kTagSize);
  if (!out.empty()) {
    crypto_stream_xchacha20_xor(out.data(), cipher.data() + kTagSize, out.size(), nonce,
                                keys_.get(Subkey::kContentStream).data());
  }
  std::uint8_t header[kHeaderBytes];
  fill_header(file, index, last, header);
  State st;
  std::memcpy(&st, mac_state_.data(), sizeof st);
  crypto_generichash_blake2b_update(&st, header, sizeof header);
  if (!out.empty()) crypto_generichash_blake2b_update(&st, out.data(), out.size());
  std::uint8_t tag[kTagSize];
  crypto_generichash_blake2b_final(&st, tag, sizeof tag);
  sodium_memzero(&st, sizeof st);
  if (sodium_memcmp(tag, nonce, kTagSize) != 0) {
    if (!out.empty()) sodium_memzero(out.data(), out.size());
    return Status::kAuthFailed;
  }
  return Status::kOk;
}

}  // namespace encfsr::crypto
