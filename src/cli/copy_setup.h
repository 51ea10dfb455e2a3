// src/cli/copy_setup.h — opening a ciphertext copy: its key and its names encoding.
// Shared by `mount --decrypt`, `restore`, `verify` and `path decrypt`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "crypto/keys.h"
#include "crypto/name_cipher.h"
#include "src/cli/key_source.h"
#include "src/util/unique_fd.h"

namespace encfsr::cli {

struct CopyOptions {
  std::optional<std::string> key;    // --key FILE; default CIPHERDIR/encfsr.key
  std::optional<std::string> names;  // --names base64url|base32; default from the key file's
                                     // view section, else detected from the root entries
  KeyOptions key_options;
  bool keep_password = false;  // keep the password in OpenedCopy::password (verify)
};
// Adds --key, --names and the key options (with --master-key-file).
void add_copy_options(CLI::App& command, CopyOptions& options);

struct OpenedCopy {
  util::UniqueFd root;  // O_DIRECTORY fd of CIPHERDIR
  crypto::MasterKey master;
  crypto::NameEncoding names = crypto::NameEncoding::kBase64Url;
  // Whether the copy has directory manifests: as the authenticated view section of its key
  // file says (the copy's own encfsr.key when --key named another file), else whether its root
  // holds encfsr.dir.
  bool manifests = false;
  // With CopyOptions::keep_password: the password that unlocked the key (empty when the paper
  // key did).
  crypto::SecureBuffer password;
};
// Throws CliError: kExitIo (CIPHERDIR unreadable / not a directory), kExitKeyFile (no key file
// or damaged), kExitPassword.
OpenedCopy open_copy(const std::filesystem::path& cipher_dir, const CopyOptions& options);

}  // namespace encfsr::cli
