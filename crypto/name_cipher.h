// crypto/name_cipher.h — encryption of entry names and symlink targets.
//
// Names: padded with NUL bytes to a multiple of 16, then SIV as for content with the
// directory's ID as tweak:
//   tag = BLAKE2b-128(key = K_nmac, dir_id || padded), ct = XChaCha20(K_nstr, tag || 0^8, padded)
//   name = encode(tag || ct)
// An encoded name longer than 255 bytes is replaced by its long form
//   "encfsr.long." + encode(BLAKE2b-256(full encoded name))
// and the full encoded name is stored in the side file "<long form>.name".
// Symlink targets: tag = BLAKE2b-128(K_lmac, link_id || target), unpadded, always base64url.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/keys.h"
#include "crypto/node_id.h"
#include "crypto/status.h"

namespace encfsr::crypto {

enum class NameEncoding { kBase64Url, kBase32 };

inline constexpr std::size_t kMaxNameBytes = 255;
inline constexpr std::string_view kLongNamePrefix = "encfsr.long.";
inline constexpr std::string_view kSideFileSuffix = ".name";
inline constexpr std::string_view kKeyFileName = "encfsr.key";
// Longest symlink target that still encodes within PATH_MAX - 1 bytes.
std::size_t max_link_target() noexcept;
// Length of the encrypted form of a symlink target of `target_size` bytes (base64url of the
// tag and the target): what st_size of a link in the view is, without encrypting it.
std::size_t encrypted_link_size(std::size_t target_size) noexcept;

// Plaintext names longer than this get the long form (160 for base64url, 128 for base32).
std::size_t longest_short_name(NameEncoding encoding) noexcept;

struct EncryptedName {
  std::string name;       // what appears in the directory (<= 255 bytes)
  std::string full;       // the full encoded name; equal to name unless is_long
  bool is_long = false;   // name is a long form; full goes into its side file
};

class NameCipher {
 public:
  NameCipher(const KeySet& keys, NameEncoding encoding);
  NameEncoding encoding() const noexcept { return encoding_; }

  // plain: 1..255 bytes, no '/' or NUL (not checked beyond length; callers pass real names).
  EncryptedName encrypt(const NodeId& dir, std::string_view plain) const;
  // Decrypts a full encoded name (a short name or a side file's content).
  Status decrypt(const NodeId& dir, std::string_view full, std::string& plain) const;

  // Whether a directory entry name is a long form / a side file.
  static bool is_long_form(std::string_view name) noexcept;
  static bool is_side_file(std::string_view name) noexcept;
  // The long form a full encoded name hashes to.
  std::string long_form_of(std::string_view full) const;
  // kOk if side-file content `full` belongs to long form `long_name`, is longer than 255 bytes,
  // and is well-formed; else kBadFormat / kBadEncoding.
  Status check_long_name(std::string_view long_name, std::string_view full) const;

  std::string encrypt_link(const NodeId& link, std::string_view target) const;
  Status decrypt_link(const NodeId& link, std::string_view encoded, std::string& target) const;

 private:
  const KeySet& keys_;
  NameEncoding encoding_;
};

}  // namespace encfsr::crypto
