// src/cli/main.cc — the entry point of `encfsr`: registers the subcommands (commands.h), parses
// the command line with CLI11, runs the chosen command and turns every error into one line
// "encfsr: error: <message>" on stderr plus a documented exit code (src/util/exit_codes.h).
#include <sodium.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <new>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/key_file.h"
#include "crypto/secure_buffer.h"
#include "src/cli/cli_error.h"
#include "src/cli/commands.h"
#include "src/fuse/session.h"
#include "src/util/exit_codes.h"

namespace {

using encfsr::cli::CommandRunner;

void print_error(std::string_view message) { std::cerr << "encfsr: error: " << message << '\n'; }

bool is_command(const std::string& arg, const std::vector<std::string>& subcommands) {
  return std::find(subcommands.begin(), subcommands.end(), arg) != subcommands.end();
}

// Two shorthands for `encfsr mount ...`, recognised before CLI11 parses:
// - `encfsr [opts] --decrypt X Y`: "--decrypt" before any subcommand name;
// - `encfsr CONFIG MOUNTPOINT [-o OPTS]`, the form mount(8) runs through mount.fuse3 for a
//   `fuse.encfsr` fstab line: the first argument is not a command but names a file (it holds a
//   '/' or exists and is not a directory).
// Any other first word that is not a command is refused, naming it.
std::vector<std::string> rewrite_arguments(int argc, char** argv,
                                           const std::vector<std::string>& subcommands) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && !args.front().empty() && args.front()[0] != '-' &&
      !is_command(args.front(), subcommands)) {
    const std::string& first = args.front();
    std::error_code ec;
    const auto status = std::filesystem::status(first, ec);
    const bool names_a_file =
        first.find('/') != std::string::npos ||
        (!ec && std::filesystem::exists(status) && !std::filesystem::is_directory(status));
    if (!names_a_file) {
      throw encfsr::cli::CliError(encfsr::util::kExitUsage,
                                  "unknown command '" + first + "' (see encfsr --help)");
    }
    args.insert(args.begin(), "mount");
    return args;
  }
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (is_command(arg, subcommands)) return args;
    if (arg == "--decrypt") {
      args.insert(args.begin(), "mount");
      return args;
    }
  }
  return args;
}

// --version: encfsr's version, the ciphertext format and the libraries in use.
std::string version_text() {
  std::string text = "encfsr " ENCFSR_VERSION "\n";
  text += "format version " + std::to_string(encfsr::config::kFormatVersion) + " (" +
          std::string(encfsr::config::kFormatName) + ")\n";
  text += std::string("libfuse ") + encfsr::fuse::libfuse_version() + "\n";
  text += std::string("libsodium ") + sodium_version_string() + "\n";
  text += "yaml-cpp " ENCFSR_YAML_CPP_VERSION " (the version found at build time)";
  return text;
}

int run(int argc, char** argv) {
  CLI::App app(
      "encfsr: an encrypting reverse-mode backup filesystem. It shows an encrypted, "
      "read-only, deterministic view of your directories for any backup tool, and "
      "decrypts copies of that view. Quiet when all is well: mount, umount and run print "
      "nothing of their own on success unless -v. In /etc/fstab: 'CONFIG MOUNTPOINT "
      "fuse.encfsr noauto,ro 0 0' (see encfsr mount --help). Check a config with "
      "encfsr check CONFIG.",
      "encfsr");
  app.set_version_flag("--version", version_text,
                       "print the versions of encfsr, its format, libfuse, libsodium and "
                       "yaml-cpp, and exit");
  app.footer(encfsr::util::exit_code_table());
  app.require_subcommand(1, 1);

  using Adder = CommandRunner (*)(CLI::App&);
  const std::vector<Adder> adders = {
      encfsr::cli::add_init,   encfsr::cli::add_passwd, encfsr::cli::add_mount,
      encfsr::cli::add_run,    encfsr::cli::add_umount, encfsr::cli::add_restore,
      encfsr::cli::add_verify, encfsr::cli::add_path,   encfsr::cli::add_check,
  };
  std::vector<std::pair<CLI::App*, CommandRunner>> commands;
  std::vector<std::string> names;
  for (Adder add : adders) {
    CommandRunner runner = add(app);
    CLI::App* sub = app.get_subcommands([](CLI::App*) { return true; }).back();
    names.push_back(sub->get_name());
    commands.emplace_back(sub, std::move(runner));
  }

  std::vector<std::string> args = rewrite_arguments(argc, argv, names);
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version
      app.exit(e);
      return encfsr::util::kExitOk;
    }
    print_error(e.what());
    return encfsr::util::kExitUsage;
  }
  for (auto& [sub, runner] : commands) {
    if (sub->parsed()) return runner();
  }
  print_error("no command given (see encfsr --help)");
  return encfsr::util::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  if (!encfsr::crypto::ensure_sodium()) {
    print_error("libsodium cannot be initialised");
    return encfsr::util::kExitInternal;
  }
  try {
    return run(argc, argv);
  } catch (const encfsr::cli::CliError& e) {
    print_error(e.what());
    return e.exit_code();
  } catch (const encfsr::config::ConfigError& e) {
    std::istringstream lines(e.what());
    std::string line;
    while (std::getline(lines, line)) print_error(line);
    return encfsr::util::kExitConfig;
  } catch (const encfsr::config::KeyFileError& e) {
    print_error(std::string("key file ") + e.what());
    return encfsr::util::kExitKeyFile;
  } catch (const std::bad_alloc&) {
    print_error("internal error: out of memory");
    return encfsr::util::kExitInternal;
  } catch (const std::exception& e) {
    print_error(std::string("internal error: ") + e.what());
    return encfsr::util::kExitInternal;
  }
}
