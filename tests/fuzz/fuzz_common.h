// tests/fuzz/fuzz_common.h — what every fuzz target shares: the fixed test key (derived from a
// fixed seed, so a crash input reproduces on any machine) and a few small helpers.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "crypto/keys.h"
#include "crypto/node_id.h"

namespace encfsr::fuzz {

// The master key of every target and of the seed corpora: BLAKE2b-256 of a fixed string.
inline const crypto::MasterKey& test_master() {
  static const crypto::MasterKey master = [] {
    if (sodium_init() < 0) std::abort();
    constexpr std::string_view seed = "encfsr fuzz test key, never used for real data";
    std::uint8_t bytes[crypto::kMasterKeyBytes];
    crypto_generichash(bytes, sizeof bytes, reinterpret_cast<const unsigned char*>(seed.data()),
                       seed.size(), nullptr, 0);
    crypto::MasterKey key;
    if (crypto::MasterKey::from_bytes(bytes, key) != crypto::Status::kOk) std::abort();
    sodium_memzero(bytes, sizeof bytes);
    return key;
  }();
  return master;
}

inline const crypto::KeySet& test_keys() {
  static const crypto::KeySet keys(test_master());
  return keys;
}

// The node IDs targets bind their data to: the root, and "dir" / "file" below it.
inline crypto::NodeId test_dir_id() {
  return crypto::child_id(test_keys(), crypto::root_id(test_keys()), "dir");
}
inline crypto::NodeId test_file_id() {
  return crypto::child_id(test_keys(), test_dir_id(), "file");
}

// The password of the key files of the key_file target's corpus.
inline constexpr std::string_view kTestPassword = "fuzz password";

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A broken invariant: abort, so that libFuzzer saves the input as a crash.
#define ENCFSR_FUZZ_CHECK(cond)                                                 \
  do {                                                                          \
    if (!(cond)) {                                                              \
      __builtin_printf("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

}  // namespace encfsr::fuzz
