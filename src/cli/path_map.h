// src/cli/path_map.h — mapping plaintext view paths to ciphertext paths and back, component by
// component (directory IDs from crypto::child_id, names with crypto::NameCipher): the core of
// `encfsr path encrypt|decrypt`, without the key and the copy around it.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "crypto/keys.h"
#include "crypto/name_cipher.h"

namespace encfsr::cli {

// The components of a relative '/'-separated path (empty components and a leading '/' are
// skipped). Throws CliError (usage) for "." or "..", a name over 255 bytes, or no component;
// `shown` is the path as the user gave it, for the message.
std::vector<std::string> path_components(const std::filesystem::path& relative,
                                         const std::string& shown);

// `path` relative to `base` if it lies inside it (or is it), else nullopt. Lexical.
std::optional<std::filesystem::path> path_inside(const std::filesystem::path& path,
                                                 const std::filesystem::path& base);

// The view path ("source/rel/...") of an absolute path inside one of the config's sources:
// first lexically, then with symlinks resolved.
std::optional<std::vector<std::string>> view_path_of_absolute(const config::Config& config,
                                                              const std::filesystem::path& path);

// The ciphertext path (relative to the view root) of a plaintext view path's components.
std::string encrypt_view_path(const crypto::KeySet& keys, const crypto::NameCipher& cipher,
                              const std::vector<std::string>& parts);

// Reads the full encoded name behind long form `name` in the copy's directory `dir` (a
// ciphertext path, "" for the root); throws CliError if it cannot.
using SideFileReader = std::function<std::string(const std::string& dir, const std::string& name)>;

// The plaintext view path of a ciphertext path's components. Throws CliError for the key file,
// a side file, a long form whose side file does not belong to it, or a name that does not
// decrypt.
std::string decrypt_cipher_path(const crypto::KeySet& keys, const crypto::NameCipher& cipher,
                                const std::vector<std::string>& parts,
                                const SideFileReader& read_side_file);

}  // namespace encfsr::cli
