// crypto/node_id.cc — path-bound node IDs (keyed BLAKE2b-128 with K_path) and inode numbers.
#include "crypto/node_id.h"

#include <sodium.h>

namespace encfsr::crypto {
namespace {

constexpr std::string_view kRootText = "encfsr root";

std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 8; i-- > 0;) v = (v << 8) | static_cast<std::uint64_t>(p[i]);
  return v;
}

}  // namespace

NodeId root_id(const KeySet& keys) {
  NodeId id{};
  const auto key = keys.get(Subkey::kPathId);
  crypto_generichash(id.data(), id.size(), reinterpret_cast<const unsigned char*>(kRootText.data()),
                     kRootText.size(), key.data(), key.size());
  return id;
}

NodeId child_id(const KeySet& keys, const NodeId& parent, std::string_view plain_name) {
  NodeId id{};
  const auto key = keys.get(Subkey::kPathId);
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init(&st, key.data(), key.size(), id.size());
  crypto_generichash_blake2b_update(&st, parent.data(), parent.size());
  if (!plain_name.empty()) {
    crypto_generichash_blake2b_update(
        &st, reinterpret_cast<const unsigned char*>(plain_name.data()), plain_name.size());
  }
  crypto_generichash_blake2b_final(&st, id.data(), id.size());
  sodium_memzero(&st, sizeof st);
  return id;
}

std::uint64_t inode_of(const NodeId& id) noexcept {
  std::uint64_t ino = load_le64(id.data());
  if (ino < 2) {
    // 0 is invalid and 1 is the FUSE root: take the second half instead, and if that is also
    // 0 or 1, add 2. Deterministic; the chance of ever reaching this is 2^-63.
    ino = load_le64(id.data() + 8);
    if (ino < 2) ino += 2;
  }
  return ino;
}

}  // namespace encfsr::crypto
