// src/cli/kdf_options.h — the --kdf-ops / --kdf-mem-mib / --insecure-kdf options of `init` and
// `passwd` (Argon2id passes and memory). Out-of-range values are usage errors (exit 2); so are
// costs below libsodium's INTERACTIVE level without --insecure-kdf.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "crypto/password_wrap.h"
#include "src/cli/cli_error.h"
#include "src/util/exit_codes.h"

namespace encfsr::cli {

// What a key file may ask for when it is unlocked (crypto::kdf_params_affordable): init and
// passwd never write a key file that this encfsr would refuse to open.
inline constexpr std::uint64_t kMaxKdfOps = crypto::kMaxAffordableOps;
inline constexpr std::uint64_t kMaxKdfMemMib = crypto::kMaxAffordableMem >> 20;

struct KdfOptions {
  std::optional<std::uint64_t> ops;
  std::optional<std::uint64_t> mem_mib;
  bool insecure = false;  // --insecure-kdf: allow costs below the INTERACTIVE level

  // `defaults` with the given options applied; CliError kExitUsage if out of range, or below
  // the INTERACTIVE level without --insecure-kdf.
  [[nodiscard]] crypto::KdfParams params(crypto::KdfParams defaults) const {
    if (ops) defaults.ops = *ops;
    if (mem_mib) defaults.mem = *mem_mib * 1024 * 1024;
    if (!crypto::kdf_params_affordable(defaults)) {
      throw CliError(util::kExitUsage, "key derivation costs out of range: " + describe(defaults) +
                                           " (--kdf-ops 1.." + std::to_string(kMaxKdfOps) +
                                           ", --kdf-mem-mib 1.." + std::to_string(kMaxKdfMemMib) +
                                           ")");
    }
    if (!insecure && crypto::kdf_params_below_interactive(defaults)) {
      throw CliError(util::kExitUsage,
                     "key derivation costs too low: " + describe(defaults) +
                         " is below libsodium's INTERACTIVE level (" +
                         std::to_string(crypto::kdf_interactive_ops()) + " passes, " +
                         std::to_string(crypto::kdf_interactive_mem() >> 20) +
                         " MiB); a stolen copy's password could be guessed cheaply. Give "
                         "--insecure-kdf to allow it (tests only)");
    }
    return defaults;
  }

  // "N passes over M MiB" (M in KiB below 1 MiB).
  static std::string describe(const crypto::KdfParams& kdf) {
    const std::string memory = kdf.mem >= (1u << 20) ? std::to_string(kdf.mem >> 20) + " MiB"
                                                     : std::to_string(kdf.mem >> 10) + " KiB";
    return std::to_string(kdf.ops) + " passes over " + memory;
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
  command.add_flag("--insecure-kdf", options.insecure,
                   "allow costs below libsodium's INTERACTIVE level (2 passes, 64 MiB): for "
                   "tests only, the key file then protects the master key poorly");
}

}  // namespace encfsr::cli
