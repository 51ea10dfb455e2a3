// src/cli/kdf_options.h — the --kdf-ops / --kdf-mem-mib options of `init` and `passwd`
// (Argon2id passes and memory). Out-of-range values are usage errors (exit 2).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "crypto/password_wrap.h"
#include "src/cli/cli_error.h"
#include "src/util/exit_codes.h"

namespace encfsr::cli {

inline constexpr std::uint64_t kMaxKdfOps = 64;
inline constexpr std::uint64_t kMaxKdfMemMib = 4096;

struct KdfOptions {
  std::optional<std::uint64_t> ops;
  std::optional<std::uint64_t> mem_mib;

  // `defaults` with the given options applied; CliError kExitUsage if out of range.
  [[nodiscard]] crypto::KdfParams params(crypto::KdfParams defaults) const {
    if (ops) defaults.ops = *ops;
    if (mem_mib) defaults.mem = *mem_mib * 1024 * 1024;
    if (!crypto::kdf_params_valid(defaults)) {
      throw CliError(util::kExitUsage, "key derivation costs out of range (--kdf-ops 1.." +
                                           std::to_string(kMaxKdfOps) + ", --kdf-mem-mib 1.." +
                                           std::to_string(kMaxKdfMemMib) + ")");
    }
    return defaults;
  }
};

// `keep_existing`: the defaults are the key file's current costs (passwd), else 3 / 256 MiB.
inline void add_kdf_options(CLI::App& command, KdfOptions& options, bool keep_existing) {
  const std::string ops_default = keep_existing ? " (default: unchanged)" : " (default 3)";
  const std::string mem_default = keep_existing ? " (default: unchanged)" : " (default 256)";
  command
      .add_option_function<std::uint64_t>(
          "--kdf-ops", [&options](const std::uint64_t& value) { options.ops = value; },
          "Argon2id passes, 1.." + std::to_string(kMaxKdfOps) + ops_default)
      ->type_name("N")
      ->check(CLI::Range(std::uint64_t{1}, kMaxKdfOps));
  command
      .add_option_function<std::uint64_t>(
          "--kdf-mem-mib", [&options](const std::uint64_t& value) { options.mem_mib = value; },
          "Argon2id memory in MiB, 1.." + std::to_string(kMaxKdfMemMib) + mem_default)
      ->type_name("N")
      ->check(CLI::Range(std::uint64_t{1}, kMaxKdfMemMib));
}

}  // namespace encfsr::cli
