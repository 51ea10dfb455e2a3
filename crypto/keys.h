// crypto/keys.h — the master key and the subkeys derived from it.
//
// A 32-byte random master key; subkeys by crypto_kdf_derive_from_key with the context
// "encfsr01" and one id per purpose (see docs/FORMAT.md, "Keys"). KeySet is immutable after
// construction and safe to share between threads.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "crypto/secure_buffer.h"
#include "crypto/status.h"

namespace encfsr::crypto {

inline constexpr std::size_t kMasterKeyBytes = 32;
inline constexpr std::size_t kSubkeyBytes = 32;

class MasterKey {
 public:
  // A fresh random key.
  static MasterKey generate();
  // Copies 32 bytes; kBadSize for any other length.
  static Status from_bytes(std::span<const std::uint8_t> bytes, MasterKey& out);
  // An all-zero key: only for the unencrypted --plain view, whose inode numbers use it.
  static MasterKey zero();

  MasterKey() : bytes_(kMasterKeyBytes) {}
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_.span(); }

 private:
  SecureBuffer bytes_;
};

// Subkey ids (part of the format; never renumber).
enum class Subkey : std::uint64_t {
  kContentMac = 1,     // BLAKE2b key of content block tags
  kContentStream = 2,  // XChaCha20 key of content blocks
  kNameMac = 3,        // BLAKE2b key of name tags
  kNameStream = 4,     // XChaCha20 key of names
  kPathId = 5,         // BLAKE2b key of node IDs (file IDs, directory tweaks)
  kLinkMac = 6,        // BLAKE2b key of symlink target tags
  kLinkStream = 7,     // XChaCha20 key of symlink targets
  kKeyCheck = 8,       // MAC proving a paper key matches a key file
  kViewParams = 9,     // MAC of the view section of the key file (names encoding)
  kManifestMac = 10,     // BLAKE2b key of directory manifest chunk tags and trailers
  kManifestStream = 11,  // XChaCha20 key of directory manifest chunks
  kManifestGroup = 12,   // BLAKE2b key of hard-link groups and manifest chunk cuts
};

class KeySet {
 public:
  explicit KeySet(const MasterKey& master);
  std::span<const std::uint8_t> get(Subkey id) const noexcept;

 private:
  SecureBuffer keys_;  // 12 subkeys of 32 bytes, in id order
};

// 32-byte value stored in the key file: keyed BLAKE2b(kKeyCheck, "encfsr key check").
std::array<std::uint8_t, 32> key_check(const KeySet& keys);

// 32-byte MAC over the view section text (e.g. "names: base64url\n"), key kViewParams.
std::array<std::uint8_t, 32> view_params_tag(const KeySet& keys, std::string_view section);

}  // namespace encfsr::crypto
