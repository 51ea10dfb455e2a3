// src/cli/path.cc — `encfsr path encrypt|decrypt`: map a plaintext view path to its ciphertext
// path and back (src/cli/path_map.h). Decrypt reads the side files of long names from the
// ciphertext copy.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "crypto/keys.h"
#include "crypto/name_cipher.h"
#include "src/cli/cli_error.h"
#include "src/cli/commands.h"
#include "src/cli/copy_setup.h"
#include "src/cli/key_source.h"
#include "src/cli/path_map.h"
#include "src/cli/reverse_setup.h"
#include "src/fs/backing_io.h"
#include "src/util/exit_codes.h"
#include "src/util/unique_fd.h"

namespace encfsr::cli {
namespace {

namespace fs = std::filesystem;

struct EncryptOptions {
  KeyOptions key_options;
  std::string config;
  std::string plain_path;
};

struct DecryptOptions {
  CopyOptions copy;
  std::string cipher_dir;
  std::string cipher_path;
};

int run_encrypt(const EncryptOptions& options) {
  const ReverseSetup setup = prepare_reverse(options.config, options.key_options, true);
  std::vector<std::string> parts;
  const fs::path plain(options.plain_path);
  if (plain.is_absolute()) {
    const auto found = view_path_of_absolute(setup.config, plain);
    if (!found) {
      throw CliError(util::kExitUsage, "path " + options.plain_path +
                                           " is not inside any source of " +
                                           setup.config.file.string());
    }
    fs::path relative;
    for (const std::string& part : *found) relative /= part;
    parts = path_components(relative, options.plain_path);
  } else {
    parts = path_components(plain, options.plain_path);
    bool known = false;
    for (const config::Source& source : setup.config.sources) known |= source.name == parts[0];
    if (!known) {
      throw CliError(util::kExitUsage,
                     "no source named " + parts[0] + " in " + setup.config.file.string());
    }
  }

  const crypto::KeySet keys(setup.master);
  const crypto::NameCipher cipher(keys, setup.config.names);
  const std::string out = encrypt_view_path(keys, cipher, parts);
  std::printf("%s\n", out.c_str());
  return util::kExitOk;
}

// Reads the full encoded name of long form `name` from its side file `dir`/`name`.name.
std::string read_side_file(int root, const std::string& dir, const std::string& name) {
  const std::string long_form = (dir.empty() ? std::string() : dir + "/") + name;
  const std::string side = long_form + std::string(crypto::kSideFileSuffix);
  auto read = encfsr::fs::read_side_file(root, long_form);  // never blocks on a FIFO
  if (!read) {
    if (read.error() == EFBIG) {
      throw CliError(util::kExitDamage, "side file " + side + " is too large");
    }
    if (read.error() == EINVAL) {
      throw CliError(util::kExitDamage, "side file " + side + " is not a regular file");
    }
    throw CliError(util::kExitIo, "cannot read side file " + side +
                                      " of long name: " + std::strerror(read.error()));
  }
  return std::move(*read);
}

int run_decrypt(const DecryptOptions& options) {
  const OpenedCopy copy = open_copy(options.cipher_dir, options.copy);
  fs::path relative(options.cipher_path);
  if (relative.is_absolute()) {
    std::error_code ec;
    fs::path base = fs::absolute(options.cipher_dir, ec).lexically_normal();
    auto rest = path_inside(relative.lexically_normal(), base);
    if (!rest) {
      base = fs::weakly_canonical(options.cipher_dir, ec);
      rest = path_inside(fs::weakly_canonical(relative, ec), base);
    }
    if (!rest) {
      throw CliError(util::kExitUsage,
                     "path " + options.cipher_path + " is not inside " + options.cipher_dir);
    }
    relative = *rest;
  }
  const std::vector<std::string> parts = path_components(relative, options.cipher_path);

  const crypto::KeySet keys(copy.master);
  const crypto::NameCipher cipher(keys, copy.names);
  const std::string out = decrypt_cipher_path(
      keys, cipher, parts, [&copy](const std::string& dir, const std::string& name) {
        return read_side_file(copy.root.get(), dir, name);
      });
  std::printf("%s\n", out.c_str());
  return util::kExitOk;
}

}  // namespace

CommandRunner add_path(CLI::App& app) {
  auto encrypt = std::make_shared<EncryptOptions>();
  auto decrypt = std::make_shared<DecryptOptions>();
  CLI::App* path = app.add_subcommand(
      "path", "Map a plaintext path to its ciphertext path in the view, and back");
  path->require_subcommand(1, 1);

  CLI::App* enc = path->add_subcommand(
      "encrypt", "Print the ciphertext path (relative to the view root) of a plaintext path");
  add_key_options(*enc, encrypt->key_options, /*with_master_key=*/true);
  enc->add_option("CONFIG", encrypt->config, "the configuration file")->required();
  enc->add_option("PLAINPATH", encrypt->plain_path,
                  "a view path (\"home/a/b.txt\", first component = source name) or an "
                  "absolute path inside a source's directory")
      ->required();

  CLI::App* dec = path->add_subcommand(
      "decrypt", "Print the plaintext view path of a ciphertext path in a copy");
  add_copy_options(*dec, decrypt->copy);
  dec->add_option("CIPHERDIR", decrypt->cipher_dir, "the ciphertext copy")->required();
  dec->add_option("CIPHERPATH", decrypt->cipher_path,
                  "a path relative to CIPHERDIR, or absolute inside it")
      ->required();

  return [encrypt, decrypt, enc, dec]() {
    if (enc->parsed()) return run_encrypt(*encrypt);
    if (dec->parsed()) return run_decrypt(*decrypt);
    throw CliError(util::kExitUsage, "path: choose encrypt or decrypt");
  };
}

}  // namespace encfsr::cli
