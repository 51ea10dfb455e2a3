// crypto/keys.cc — master key generation/import and subkey derivation (crypto_kdf, "encfsr01").
#include "crypto/keys.h"

#include <sodium.h>

#include <cstring>
#include <string_view>

namespace encfsr::crypto {
namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES] = {'e', 'n', 'c', 'f', 's', 'r', '0', '1'};
constexpr std::uint64_t kSubkeyCount = 12;
constexpr std::string_view kKeyCheckText = "encfsr key check";

static_assert(crypto_kdf_KEYBYTES == kMasterKeyBytes);
static_assert(kSubkeyBytes >= crypto_kdf_BYTES_MIN && kSubkeyBytes <= crypto_kdf_BYTES_MAX);

// Keyed BLAKE2b-256 of `text` with a 32-byte subkey.
std::array<std::uint8_t, 32> keyed_hash256(std::span<const std::uint8_t> key,
                                           std::string_view text) {
  static constexpr unsigned char kEmpty[1] = {0};  // libsodium wants non-null input pointers
  std::array<std::uint8_t, 32> out{};
  crypto_generichash(out.data(), out.size(),
                     text.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), key.data(), key.size());
  return out;
}

}  // namespace

MasterKey MasterKey::generate() {
  MasterKey key;
  randombytes_buf(key.bytes_.data(), key.bytes_.size());
  return key;
}

Status MasterKey::from_bytes(std::span<const std::uint8_t> bytes, MasterKey& out) {
  if (bytes.size() != kMasterKeyBytes) return Status::kBadSize;
  std::memcpy(out.bytes_.data(), bytes.data(), kMasterKeyBytes);
  return Status::kOk;
}

MasterKey MasterKey::zero() { return MasterKey(); }

KeySet::KeySet(const MasterKey& master) : keys_(kSubkeyCount * kSubkeyBytes) {
  for (std::uint64_t id = 1; id <= kSubkeyCount; ++id) {
    crypto_kdf_derive_from_key(keys_.data() + (id - 1) * kSubkeyBytes, kSubkeyBytes, id,
                               kKdfContext, master.bytes().data());
  }
}

std::span<const std::uint8_t> KeySet::get(Subkey id) const noexcept {
  const auto n = static_cast<std::uint64_t>(id);
  if (n < 1 || n > kSubkeyCount) return {};
  return keys_.span().subspan((n - 1) * kSubkeyBytes, kSubkeyBytes);
}

std::array<std::uint8_t, 32> key_check(const KeySet& keys) {
  return keyed_hash256(keys.get(Subkey::kKeyCheck), kKeyCheckText);
}

std::array<std::uint8_t, 32> view_params_tag(const KeySet& keys, std::string_view section) {
  return keyed_hash256(keys.get(Subkey::kViewParams), section);
}

}  // namespace encfsr::crypto
