// src/cli/copy_setup.cc — opening a ciphertext copy: its directory, its key file (CIPHERDIR/
// encfsr.key or --key), the master key, and the names encoding (--names, else the key file's
// authenticated view section, else detected from the root entries).
#include "src/cli/copy_setup.h"

#include <dirent.h>
#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "config/key_file.h"
#include "crypto/node_id.h"
#include "src/cli/cli_error.h"
#include "src/fs/backing_io.h"
#include "src/fs/decrypt_view.h"
#include "src/util/exit_codes.h"

namespace encfsr::cli {
namespace {

// At most this many root entries are tried when detecting the encoding.
constexpr std::size_t kMaxProbes = 256;

crypto::NameEncoding parse_names(const std::string& text) {
  if (text == "base64url") return crypto::NameEncoding::kBase64Url;
  if (text == "base32") return crypto::NameEncoding::kBase32;
  throw CliError(util::kExitUsage, "--names must be base64url or base32, not " + text);
}

// Root entry names that could be encrypted names (not the key file, long forms, side files).
std::vector<std::string> candidate_root_names(int root_fd) {
  std::vector<std::string> names;
  int fd = ::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return names;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), ::closedir);
  if (!dir) {
    ::close(fd);
    return names;
  }
  while (names.size() < kMaxProbes) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || name == crypto::kKeyFileName) continue;
    if (crypto::NameCipher::is_long_form(name) || crypto::NameCipher::is_side_file(name)) {
      continue;
    }
    names.emplace_back(name);
  }
  return names;
}

bool any_decrypts(const crypto::KeySet& keys, crypto::NameEncoding encoding,
                  const std::vector<std::string>& names) {
  crypto::NameCipher cipher(keys, encoding);
  const crypto::NodeId root = crypto::root_id(keys);
  std::string plain;
  for (const std::string& name : names) {
    if (cipher.decrypt(root, name, plain) == crypto::Status::kOk) return true;
  }
  return false;
}

crypto::NameEncoding detect_names(int root_fd, const crypto::KeySet& keys) {
  const std::vector<std::string> names = candidate_root_names(root_fd);
  if (any_decrypts(keys, crypto::NameEncoding::kBase64Url, names)) {
    return crypto::NameEncoding::kBase64Url;
  }
  if (any_decrypts(keys, crypto::NameEncoding::kBase32, names)) {
    return crypto::NameEncoding::kBase32;
  }
  return crypto::NameEncoding::kBase64Url;
}

}  // namespace

void add_copy_options(CLI::App& command, CopyOptions& options) {
  command
      .add_option_function<std::string>(
          "--key", [&options](const std::string& value) { options.key = value; },
          "key file (default: CIPHERDIR/encfsr.key)")
      ->type_name("FILE");
  command
      .add_option_function<std::string>(
          "--names", [&options](const std::string& value) { options.names = value; },
          "names encoding of the copy (default: from the key file, else detected)")
      ->type_name("ENCODING")
      ->check(CLI::IsMember({"base64url", "base32"}));
  add_key_options(command, options.key_options, true);
}

OpenedCopy open_copy(const std::filesystem::path& cipher_dir, const CopyOptions& options) {
  OpenedCopy copy;
  copy.root.reset(::open(cipher_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!copy.root) {
    throw CliError(util::kExitIo, "cannot open ciphertext directory " + cipher_dir.string() + ": " +
                                      std::strerror(errno));
  }
  const std::filesystem::path key_path =
      options.key ? std::filesystem::path(*options.key) : cipher_dir / crypto::kKeyFileName;
  config::KeyFile key_file;
  try {
    key_file = config::read_key_file(key_path);
  } catch (const config::KeyFileError& e) {
    std::string message = std::string("key file ") + e.what();
    if (!options.key) message += " (give the key file with --key FILE)";
    throw CliError(util::kExitKeyFile, message);
  }
  copy.master = unlock(key_file, key_path.string(), options.key_options,
                       options.keep_password ? &copy.password : nullptr);

  const crypto::KeySet keys(copy.master);
  if (key_file.names && !config::view_section_valid(key_file, keys)) {
    throw CliError(util::kExitKeyFile,
                   "view section of " + key_path.string() + " fails authentication");
  }
  // The view section: the given key file's, else (--key) the copy's own, if it authenticates.
  std::optional<config::KeyFile> view = key_file.names ? std::optional(key_file) : std::nullopt;
  if (!view && options.key) {
    auto own = fs::read_small_file(copy.root.get(), std::string(crypto::kKeyFileName),
                                   config::kMaxKeyFileBytes);
    config::KeyFile parsed;
    std::string ignored;
    if (own && config::parse_key_file(*own, parsed, ignored) && parsed.names &&
        config::view_section_valid(parsed, keys)) {
      view = parsed;
    }
  }
  copy.manifests = fs::copy_has_manifests(
      copy.root.get(), view ? std::optional(view->manifests.value_or(false)) : std::nullopt);
  if (options.names) {
    copy.names = parse_names(*options.names);
  } else if (view) {
    copy.names = *view->names;
  } else {
    copy.names = detect_names(copy.root.get(), keys);
  }
  return copy;
}

}  // namespace encfsr::cli
