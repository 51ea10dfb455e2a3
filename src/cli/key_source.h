// src/cli/key_source.h — where a command gets its password or master key.
//
// Passwords never come from argv: --password-file FILE (first line), --password-command CMD
// (first line of its stdout, run with /bin/sh -c, in its own process group, killed with that
// group when it has not answered and exited within --password-command-timeout seconds, default
// 60), --password-stdin (first line), else a prompt on the terminal without echo.
// --master-key-file FILE holds the paper key instead.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "config/key_file.h"
#include "crypto/keys.h"
#include "crypto/secure_buffer.h"

namespace encfsr::cli {

struct KeyOptions {
  std::optional<std::string> password_file;
  std::optional<std::string> password_command;
  std::optional<double> password_command_timeout;  // seconds; default kDefaultCommandTimeout
  bool password_stdin = false;
  std::optional<std::string> master_key_file;  // paper key; unlock() only
};

inline constexpr double kDefaultCommandTimeout = 60.0;

// Adds --password-file, --password-command, --password-stdin (mutually exclusive),
// --password-command-timeout and, if with_master_key, --master-key-file.
void add_key_options(CLI::App& command, KeyOptions& options, bool with_master_key);

// Reads a password from the chosen source. `confirm`: a prompt asks twice and the two must
// match. Throws CliError (kExitPassword) when no password can be had (no terminal, empty
// password, command failed, mismatch).
crypto::SecureBuffer read_password(const KeyOptions& options, const char* prompt, bool confirm);

// Reads the key file (CliError kExitKeyFile on a missing or damaged file) and unlocks it with
// the paper key or a password (CliError kExitPassword: "wrong password for key file FILE").
// Config-provided password_file/password_command fill in when the options give none.
// A password is turned into the key (Argon2id) in a short-lived forked child, so its memory
// never counts in this process: call before starting any thread. A key file whose Argon2id costs
// are not crypto::kdf_params_affordable is refused (kExitKeyFile) before a password is asked.
crypto::MasterKey unlock(const std::filesystem::path& key_file, const KeyOptions& options);
// The same from an already-parsed key file (e.g. a copy's encfsr.key); `where` names it. With
// `password_out`, the password used (empty when the paper key unlocked) is moved there.
crypto::MasterKey unlock(const config::KeyFile& key_file, const std::string& where,
                         const KeyOptions& options, crypto::SecureBuffer* password_out = nullptr);

// Throws CliError kExitKeyFile naming `where` and the costs it asks for when they are not
// crypto::kdf_params_affordable.
void check_kdf_affordable(const config::KeyFile& key_file, const std::string& where);
// "key file WHERE asks for Argon2id with N passes over M MiB; ..." (the message of the above).
std::string unaffordable_kdf_message(const config::KeyFile& key_file, const std::string& where);

// config::open_key_file in a short-lived child (see unlock). kTooLong, without hashing, for
// unaffordable costs. Throws CliError only if the child cannot run or dies.
crypto::Status unwrap_in_child(const config::KeyFile& key_file, std::string_view password,
                               const std::string& where, crypto::MasterKey& out);

}  // namespace encfsr::cli
