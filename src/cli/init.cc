// src/cli/init.cc — `encfsr init`: create a new random master key, wrap it with a password
// (Argon2id) into a new key file (mode 0600, written atomically, never over an existing file)
// and print the master key once as a paper key unless --quiet.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "config/key_file.h"
#include "crypto/keys.h"
#include "crypto/paper_key.h"
#include "crypto/password_wrap.h"
#include "src/cli/cli_error.h"
#include "src/cli/commands.h"
#include "src/cli/kdf_options.h"
#include "src/cli/key_source.h"
#include "src/util/exit_codes.h"

namespace encfsr::cli {
namespace {

struct InitOptions {
  std::string key;
  KeyOptions key_options;
  bool quiet = false;
  KdfOptions kdf;
};

// Refuses an existing key file (also a dangling symlink) and a missing parent directory before
// any password is asked for.
void check_new_key_path(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    throw CliError(util::kExitKeyFile,
                   "key file " + path.string() + " already exists; refusing to overwrite it");
  }
  if (errno != ENOENT) {
    throw CliError(util::kExitKeyFile,
                   "cannot check key file " + path.string() + ": " + std::strerror(errno));
  }
  std::filesystem::path parent = path.parent_path();
  if (parent.empty()) parent = ".";
  if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw CliError(util::kExitKeyFile, "cannot create key file " + path.string() + ": directory " +
                                           parent.string() + " does not exist");
  }
}

void print_paper_key(const crypto::MasterKey& master, const std::filesystem::path& path) {
  const crypto::SecureBuffer paper = crypto::format_paper_key(master);
  std::printf("Created key file %s.\n", path.c_str());
  std::printf(
      "Paper key (the master key itself): write it down and keep it in a safe place, apart from "
      "the backups. With it, `encfsr ... --master-key-file FILE` unlocks the key file without "
      "the password:\n");
  std::fflush(stdout);
  // Straight from secure memory to the fd: no copy of the key in stdio's buffer.
  std::span<const std::uint8_t> rest = paper.span();
  while (!rest.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw CliError(util::kExitIo,
                     "cannot print the paper key: " + std::string(std::strerror(errno)));
    rest = rest.subspan(static_cast<std::size_t>(n));
  }
  std::printf("\n");
  std::fflush(stdout);
}

int run_init(const InitOptions& options) {
  const crypto::KdfParams kdf = options.kdf.params(crypto::KdfParams{});
  const std::filesystem::path path(options.key);
  check_new_key_path(path);

  const std::string prompt = "New password for " + path.string() + ": ";
  const crypto::SecureBuffer password =
      read_password(options.key_options, prompt.c_str(), /*confirm=*/true);

  const crypto::MasterKey master = crypto::MasterKey::generate();
  config::KeyFile key_file;
  if (config::make_key_file(master, password.view(), kdf, key_file) != crypto::Status::kOk) {
    throw CliError(util::kExitInternal,
                   "cannot wrap the master key (not enough memory for the key derivation?)");
  }
  try {
    config::write_key_file(path, config::serialize_key_file(key_file), /*must_not_exist=*/true);
  } catch (const config::KeyFileError& e) {
    throw CliError(util::kExitKeyFile, std::string("key file ") + e.what());
  }
  if (!options.quiet) print_paper_key(master, path);
  return util::kExitOk;
}

}  // namespace

CommandRunner add_init(CLI::App& app) {
  auto options = std::make_shared<InitOptions>();
  CLI::App* sub = app.add_subcommand(
      "init",
      "Create a new master key in a password-protected key file and print it once as a paper "
      "key");
  sub->add_option("--key", options->key, "the key file to create (must not exist)")
      ->type_name("FILE")
      ->required();
  add_key_options(*sub, options->key_options, /*with_master_key=*/false);
  sub->add_flag("-q,--quiet", options->quiet, "do not print the paper key");
  add_kdf_options(*sub, options->kdf, /*keep_existing=*/false);
  return [options]() { return run_init(*options); };
}

}  // namespace encfsr::cli
