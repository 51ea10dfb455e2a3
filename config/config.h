// config/config.h — the YAML configuration of a reverse view (the only user of yaml-cpp).
//
// load_config reads and validates a file completely. Every problem found is reported, one
// line each, as "FILE:LINE:COL: KEY: message" (LINE/COL 1-based; the whole file's position
// is used for problems of the file itself).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "crypto/name_cipher.h"

namespace encfsr::config {

struct Source {
  std::string name;                          // the root entry's plaintext name
  std::vector<std::filesystem::path> paths;  // tiers, first wins; absolute, existing dirs
  std::vector<std::string> exclude;          // gitignore-style patterns
  bool exclude_caches = false;               // skip directories holding a valid CACHEDIR.TAG
};

struct MountOptions {
  double entry_timeout = 1.0;  // seconds the kernel caches names (mount.entry_timeout)
  double attr_timeout = 1.0;   // seconds the kernel caches attributes (mount.attr_timeout)
  bool allow_other = false;    // mount.allow_other
  unsigned threads = 0;        // mount.threads: 0 = two per usable CPU, 4 to 16
};

struct Config {
  std::filesystem::path file;  // the configuration file itself (absolute)
  std::filesystem::path key;   // key file, required, absolute (relative paths resolve
                               // against the config file's directory)
  std::optional<std::filesystem::path> password_file;
  std::optional<std::string> password_command;
  // Seconds password_command may take before it is killed (its process group) and the
  // command fails ("password_command_timeout", default 60).
  double password_command_timeout = 60.0;
  crypto::NameEncoding names = crypto::NameEncoding::kBase64Url;
  std::vector<Source> sources;
  bool one_file_system = false;
  bool key_in_view = true;
  // A sealed manifest per directory (encfsr.dir): completeness, metadata, xattrs, hard links.
  bool manifests = true;
  MountOptions mount;
};

// Thrown by load_config with every problem, one per line (no trailing newline).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Config load_config(const std::filesystem::path& file);

}  // namespace encfsr::config
