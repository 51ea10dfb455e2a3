// src/cli/reverse_setup.h — everything `mount`, `run` and `path encrypt` do before a reverse
// view exists: load the config (CliError kExitConfig), read and unlock its key file (or the
// key options), and build the key file text served at the view's root (with view section).
#pragma once

#include <filesystem>
#include <string>

#include "config/config.h"
#include "crypto/keys.h"
#include "src/cli/key_source.h"
#include "src/cli/mountpoint.h"

namespace encfsr::cli {

struct ReverseSetup {
  config::Config config;
  crypto::MasterKey master;
  std::string key_file_text;  // canonical key file + view section
  uid_t key_uid = 0;          // owner of the config's key file: encfsr.key is served as theirs
  gid_t key_gid = 0;
};

// The factory of the reverse view over `setup` (which must outlive it); `plain` for --plain.
// A source that cannot be opened becomes CliError kExitIo.
ViewFactory reverse_view_factory(const ReverseSetup& setup, bool plain);

// `need_key` false (for --plain) skips the key entirely (master stays all-zero).
ReverseSetup prepare_reverse(const std::filesystem::path& config_file, const KeyOptions& options,
                             bool need_key);

}  // namespace encfsr::cli
