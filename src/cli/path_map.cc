// src/cli/path_map.cc — see path_map.h.
#include "src/cli/path_map.h"

#include <algorithm>
#include <iterator>

#include "crypto/node_id.h"
#include "src/cli/cli_error.h"
#include "src/util/exit_codes.h"

namespace encfsr::cli {

namespace fs = std::filesystem;

std::vector<std::string> path_components(const fs::path& relative, const std::string& shown) {
  std::vector<std::string> parts;
  for (const fs::path& part : relative) {
    const std::string name = part.string();
    // The root directory; libstdc++ gives a path of only slashes ("//") as one such element.
    if (name.find_first_not_of('/') == std::string::npos) continue;
    if (name == "." || name == "..") {
      throw CliError(util::kExitUsage, "path " + shown + " must not contain '.' or '..'");
    }
    if (name.size() > crypto::kMaxNameBytes) {
      throw CliError(util::kExitUsage, "path " + shown + " has a name longer than 255 bytes");
    }
    parts.push_back(name);
  }
  if (parts.empty()) throw CliError(util::kExitUsage, "empty path " + shown);
  return parts;
}

std::optional<fs::path> path_inside(const fs::path& path, const fs::path& base) {
  auto [base_end, path_end] = std::mismatch(base.begin(), base.end(), path.begin(), path.end());
  // A trailing empty component of base ("dir/") matches anything.
  if (base_end != base.end() && !(std::next(base_end) == base.end() && base_end->empty())) {
    return std::nullopt;
  }
  fs::path rest;
  for (auto it = path_end; it != path.end(); ++it) rest /= *it;
  return rest;
}

std::optional<std::vector<std::string>> view_path_of_absolute(const config::Config& config,
                                                              const fs::path& path) {
  for (int pass = 0; pass < 2; ++pass) {
    std::error_code ec;
    const fs::path target =
        pass == 0 ? path.lexically_normal() : fs::weakly_canonical(path, ec).lexically_normal();
    if (ec) continue;
    for (const config::Source& source : config.sources) {
      for (const fs::path& tier : source.paths) {
        const fs::path base =
            pass == 0 ? tier.lexically_normal() : fs::weakly_canonical(tier, ec).lexically_normal();
        if (ec) continue;
        if (auto rest = path_inside(target, base)) {
          std::vector<std::string> parts{source.name};
          for (const fs::path& part : *rest) {
            if (!part.empty()) parts.push_back(part.string());
          }
          return parts;
        }
      }
    }
  }
  return std::nullopt;
}

std::string encrypt_view_path(const crypto::KeySet& keys, const crypto::NameCipher& cipher,
                              const std::vector<std::string>& parts) {
  crypto::NodeId dir = crypto::root_id(keys);
  std::string out;
  for (const std::string& name : parts) {
    const crypto::EncryptedName encrypted = cipher.encrypt(dir, name);
    if (!out.empty()) out += '/';
    out += encrypted.name;
    dir = crypto::child_id(keys, dir, name);
  }
  return out;
}

std::string decrypt_cipher_path(const crypto::KeySet& keys, const crypto::NameCipher& cipher,
                                const std::vector<std::string>& parts,
                                const SideFileReader& read_side_file) {
  crypto::NodeId dir = crypto::root_id(keys);
  std::string cipher_dir_so_far;
  std::string out;
  for (const std::string& name : parts) {
    if (cipher_dir_so_far.empty() && name == crypto::kKeyFileName) {
      throw CliError(util::kExitUsage, name + " is the key file, not an encrypted name");
    }
    if (crypto::NameCipher::is_side_file(name)) {
      throw CliError(util::kExitUsage,
                     name + " is the side file of a long name; give the long name itself");
    }
    std::string full = name;
    if (crypto::NameCipher::is_long_form(name)) {
      full = read_side_file(cipher_dir_so_far, name);
      if (cipher.check_long_name(name, full) != crypto::Status::kOk) {
        throw CliError(util::kExitDamage,
                       "side file of long name " + name + " does not belong to it (damaged)");
      }
    }
    std::string plain;
    const crypto::Status status = cipher.decrypt(dir, full, plain);
    if (status != crypto::Status::kOk) {
      std::string message = "cannot decrypt ";
      if (!cipher_dir_so_far.empty()) message += cipher_dir_so_far + '/';
      message += name;
      message += ": ";
      message += crypto::describe(status);
      throw CliError(util::kExitDamage, message);
    }
    if (!out.empty()) out += '/';
    out += plain;
    dir = crypto::child_id(keys, dir, plain);
    if (!cipher_dir_so_far.empty()) cipher_dir_so_far += '/';
    cipher_dir_so_far += name;
  }
  return out;
}

}  // namespace encfsr::cli
