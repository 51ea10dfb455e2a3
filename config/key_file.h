// config/key_file.h — the key file: the password-wrapped master key and the format parameters.
//
// Text, one "field: value" per line, in this exact order (the canonical form):
//   encfsr-key: 1
//   format: siv-blake2b-xchacha20-4096
//   kdf: argon2id13
//   ops_limit: <decimal>
//   mem_limit: <decimal bytes>
//   salt: <32 hex>
//   nonce: <48 hex>
//   wrapped: <96 hex>
//   check: <64 hex>
// The first 6 lines (up to and including "salt:") plus the "check:" line are the associated
// data of the wrap; the nonce is chosen inside the wrap (after the associated data is fixed) and
// is authenticated by the AEAD itself, so changing any byte of the file is detected. A key file
// served at the root of a view adds a view section:
//   names: base64url|base32
//   view: <64 hex>   (crypto::view_params_tag over the "names: ...\n" line)
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/name_cipher.h"
#include "crypto/password_wrap.h"

namespace encfsr::config {

// The ciphertext format this build writes (docs/FORMAT.md, "version 2"; it reads version 1
// copies too), shown by --version, and the "format:" value of a key file. The key file's own
// "encfsr-key: 1" line did not change with format 2.
inline constexpr int kFormatVersion = 3;
inline constexpr std::string_view kFormatName = "siv-blake2b-xchacha20-4096";

// A key file is far smaller; readers refuse anything larger.
inline constexpr std::size_t kMaxKeyFileBytes = std::size_t{64} * 1024;

struct KeyFile {
  crypto::KdfParams kdf;
  crypto::WrappedKey wrapped;
  std::array<std::uint8_t, 32> check{};
  // The view section, present only in a key file taken from a view.
  std::optional<crypto::NameEncoding> names;
  // Whether the view has directory manifests (format 2: "manifests: yes|no"); absent in a view
  // section of format 1, which had none.
  std::optional<bool> manifests;
  std::array<std::uint8_t, 32> view_tag{};
};

// The canonical text without the view section.
std::string serialize_key_file(const KeyFile& key_file);
// The same plus the view section, its tag computed with `keys`.
std::string serialize_key_file_with_view(const KeyFile& key_file, crypto::NameEncoding names,
                                         bool manifests, const crypto::KeySet& keys);
// The associated data of the wrap (depend on kdf, salt and check; the AEAD covers the nonce).
std::vector<std::uint8_t> key_file_associated_data(const KeyFile& key_file);

// Parses text; on error returns false and sets `error` to "line N: message".
bool parse_key_file(std::string_view text, KeyFile& out, std::string& error);

// Reads and parses a file; on error throws KeyFileError "FILE: line N: message".
class KeyFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
KeyFile read_key_file(const std::filesystem::path& file);
// Writes atomically (temporary file in the same directory, mode 0600, fsync, rename, fsync of
// the directory). If must_not_exist, fails (KeyFileError) when `file` exists.
void write_key_file(const std::filesystem::path& file, std::string_view text, bool must_not_exist);

// A new key file for `master` wrapped with `password`.
crypto::Status make_key_file(const crypto::MasterKey& master, std::string_view password,
                             const crypto::KdfParams& kdf, KeyFile& out);
// Unwraps; kWrongPassword on a wrong password; kAuthFailed if the result does not match the
// check value (a file edited so that the box opens is impossible, this is defence in depth).
crypto::Status open_key_file(const KeyFile& key_file, std::string_view password,
                             crypto::MasterKey& out);
// Whether a master key (e.g. from a paper key) belongs to this key file.
bool master_key_matches(const KeyFile& key_file, const crypto::MasterKey& master);
// Checks the view section's tag; false if absent or wrong.
bool view_section_valid(const KeyFile& key_file, const crypto::KeySet& keys);

}  // namespace encfsr::config
