// src/cli/passwd.cc — `encfsr passwd`: unlock a key file with the old password (or the paper
// key) and rewrap the SAME master key with a new password and a fresh salt, replacing the file
// atomically. Ciphertext made with the key stays valid.
#include <cstdio>
#include <memory>
#include <string>

#include "config/key_file.h"
#include "crypto/keys.h"
#include "src/cli/cli_error.h"
#include "src/cli/commands.h"
#include "src/cli/kdf_options.h"
#include "src/cli/key_source.h"
#include "src/util/exit_codes.h"

namespace encfsr::cli {
namespace {

struct PasswdOptions {
  std::string key;
  KeyOptions old_key;
  KeyOptions new_key;  // only the password sources are used
  KdfOptions kdf;
};

int run_passwd(const PasswdOptions& options) {
  const std::filesystem::path path(options.key);
  config::KeyFile key_file;
  try {
    key_file = config::read_key_file(path);
  } catch (const config::KeyFileError& e) {
    throw CliError(util::kExitKeyFile, std::string("key file ") + e.what());
  }
  // Validate the costs before anything is asked.
  const crypto::KdfParams kdf = options.kdf.params(key_file.kdf);
  const crypto::MasterKey master = unlock(key_file, path.string(), options.old_key);

  const std::string prompt = "New password for " + path.string() + ": ";
  const crypto::SecureBuffer password =
      read_password(options.new_key, prompt.c_str(), /*confirm=*/true);
  config::KeyFile rewrapped;
  if (config::make_key_file(master, password.view(), kdf, rewrapped) != crypto::Status::kOk) {
    throw CliError(util::kExitInternal,
                   "cannot wrap the master key (not enough memory for the key derivation?)");
  }
  try {
    config::write_key_file(path, config::serialize_key_file(rewrapped), /*must_not_exist=*/false);
  } catch (const config::KeyFileError& e) {
    throw CliError(util::kExitKeyFile, std::string("key file ") + e.what());
  }
  std::printf("Changed the password of key file %s.\n", path.c_str());
  return util::kExitOk;
}

}  // namespace

CommandRunner add_passwd(CLI::App& app) {
  auto options = std::make_shared<PasswdOptions>();
  CLI::App* sub = app.add_subcommand(
      "passwd", "Change the password of a key file (the master key, and so the backups, stay)");
  sub->add_option("--key", options->key, "the key file")->type_name("FILE")->required();
  add_key_options(*sub, options->old_key, /*with_master_key=*/true);

  const std::string group = "New password";
  KeyOptions& fresh = options->new_key;
  auto* file = sub->add_option_function<std::string>(
                      "--new-password-file",
                      [&fresh](const std::string& value) { fresh.password_file = value; },
                      "read the new password from the first line of FILE")
                   ->type_name("FILE")
                   ->group(group);
  auto* cmd = sub->add_option_function<std::string>(
                     "--new-password-command",
                     [&fresh](const std::string& value) { fresh.password_command = value; },
                     "run CMD with /bin/sh -c; the new password is the first line of its output")
                  ->type_name("CMD")
                  ->group(group);
  auto* in = sub->add_flag("--new-password-stdin", fresh.password_stdin,
                           "read the new password from standard input (after the old one if "
                           "--password-stdin is given too)")
                 ->group(group);
  file->excludes(cmd)->excludes(in);
  cmd->excludes(in);
  add_kdf_options(*sub, options->kdf, /*keep_existing=*/true);
  return [options]() { return run_passwd(*options); };
}

}  // namespace encfsr::cli
