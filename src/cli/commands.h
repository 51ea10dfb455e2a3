// src/cli/commands.h — the subcommands of `encfsr`. Each add_* registers its subcommand (with
// --help text and options) on the app and returns the function main() calls when the user chose
// it. Runners return an exit code (src/util/exit_codes.h) or throw CliError.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace encfsr::cli {

using CommandRunner = std::function<int()>;

CommandRunner add_init(CLI::App& app);
CommandRunner add_passwd(CLI::App& app);
CommandRunner add_mount(CLI::App& app);
CommandRunner add_run(CLI::App& app);
CommandRunner add_umount(CLI::App& app);
CommandRunner add_restore(CLI::App& app);
CommandRunner add_verify(CLI::App& app);
CommandRunner add_path(CLI::App& app);
CommandRunner add_check(CLI::App& app);

}  // namespace encfsr::cli
