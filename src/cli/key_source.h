// src/cli/key_source.h — where a command gets its password or master key.
//
// Passwords never come from argv: --password-file FILE (first line), --password-command CMD
// (first line of its stdout, run with /bin/sh -c), --password-stdin (first line), else a prompt
// on the terminal without echo. --master-key-file FILE holds the paper key instead.
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
  bool password_stdin = false;
  std::optional<std::string> master_key_file;  // paper key; unlock() only
};

// Adds --password-file, --password-command, --password-stdin (mutually exclusive) and, if
// with_master_key, --master-key-file.
void add_key_options(CLI::App& command, KeyOptions& options, bool with_master_key);

// Reads a password from the chosen source. `confirm`: a prompt asks twice and the two must
// match. Throws CliError (kExitPassword) when no password can be had (no terminal, empty
// password, command failed, mismatch).
crypto::SecureBuffer read_password(const KeyOptions& options, const char* prompt, bool confirm);

// Reads the key file (CliError kExitKeyFile on a missing or damaged file) and unlocks it with
// the paper key or a password (CliError kExitPassword: "wrong password for key file FILE").
// Config-provided password_file/password_command fill in when the options give none.
// A password is turned into the key (Argon2id) in a short-lived forked child, so its memory
// never counts in this process: call before starting any thread.
crypto::MasterKey unlock(const std::filesystem::path& key_file, const KeyOptions& options);
// The same from an already-parsed key file (e.g. a copy's encfsr.key); `where` names it.
crypto::MasterKey unlock(const config::KeyFile& key_file, const std::string& where,
                         const KeyOptions& options);

}  // namespace encfsr::cli
