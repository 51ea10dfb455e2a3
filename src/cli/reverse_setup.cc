// src/cli/reverse_setup.cc — the steps before a reverse view exists: load the config, unlock its
// key file (the config's password_file / password_command fill in for missing key options), and
// build the key file text served at the view's root (canonical text plus the view section).
#include "src/cli/reverse_setup.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "config/key_file.h"
#include "src/cli/cli_error.h"
#include "src/fs/reverse_view.h"
#include "src/util/exit_codes.h"

namespace encfsr::cli {

ReverseSetup prepare_reverse(const std::filesystem::path& config_file, const KeyOptions& options,
                             bool need_key) {
  // ConfigError propagates: main() prints every line and exits with kExitConfig.
  config::Config config = config::load_config(config_file);
  if (!need_key) {
    return ReverseSetup{std::move(config), crypto::MasterKey::zero(), std::string(), 0, 0};
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
  if (!effective.password_command_timeout) {
    effective.password_command_timeout = config.password_command_timeout;
  }

  config::KeyFile key_file;
  try {
    key_file = config::read_key_file(config.key);
  } catch (const config::KeyFileError& e) {
    throw CliError(util::kExitKeyFile, std::string("key file ") + e.what());
  }
  crypto::MasterKey master = unlock(key_file, config.key.string(), effective);
  std::string text = config::serialize_key_file_with_view(key_file, config.names, config.manifests,
                                                          crypto::KeySet(master));
  struct stat key_stat {};
  if (::stat(config.key.c_str(), &key_stat) != 0) {
    throw CliError(util::kExitKeyFile,
                   "key file " + config.key.string() + ": " + std::strerror(errno));
  }
  return ReverseSetup{std::move(config), std::move(master), std::move(text), key_stat.st_uid,
                      key_stat.st_gid};
}

ViewFactory reverse_view_factory(const ReverseSetup& setup, bool plain) {
  return [&setup, plain](const std::string& mountpoint) -> std::unique_ptr<fs::View> {
    fs::ReverseOptions options;
    options.plain = plain;
    options.key_file_text = setup.key_file_text;
    options.key_uid = setup.key_uid;
    options.key_gid = setup.key_gid;
    options.mountpoint = mountpoint;
    try {
      return fs::make_reverse_view(setup.config, setup.master, std::move(options));
    } catch (const std::runtime_error& e) {
      throw CliError(util::kExitIo, e.what());
    }
  };
}

}  // namespace encfsr::cli
