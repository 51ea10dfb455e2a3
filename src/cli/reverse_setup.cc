// src/cli/reverse_setup.cc — the steps before a reverse view exists: load the config, unlock its
// key file (the config's password_file / password_command fill in for missing key options), and
// build the key file text served at the view's root (canonical text plus the view section).
#include "src/cli/reverse_setup.h"

#include <string>
#include <utility>

#include "config/key_file.h"
#include "src/cli/cli_error.h"
#include "src/util/exit_codes.h"

namespace encfsr::cli {

ReverseSetup prepare_reverse(const std::filesystem::path& config_file, const KeyOptions& options,
                             bool need_key) {
  // ConfigError propagates: main() prints every line and exits with kExitConfig.
  config::Config config = config::load_config(config_file);
  if (!need_key) {
    return ReverseSetup{std::move(config), crypto::MasterKey::zero(), std::string()};
  }

  KeyOptions effective = options;
  const bool user_chose = options.password_file || options.password_command ||
                          options.password_stdin || options.master_key_file;
  if (!user_chose) {
    if (config.password_file) {
      effective.password_file = config.password_file->string();
    } else if (config.password_command) {
      effective.password_command = *config.password_command;
    }
  }

  config::KeyFile key_file;
  try {
    key_file = config::read_key_file(config.key);
  } catch (const config::KeyFileError& e) {
    throw CliError(util::kExitKeyFile, std::string("key file ") + e.what());
  }
  crypto::MasterKey master = unlock(key_file, config.key.string(), effective);
  std::string text =
      config::serialize_key_file_with_view(key_file, config.names, crypto::KeySet(master));
  return ReverseSetup{std::move(config), std::move(master), std::move(text)};
}

}  // namespace encfsr::cli
