// src/cli/main.cc — the entry point of `encfsr`: registers the subcommands (commands.h), parses
// the command line with CLI11, runs the chosen command and turns every error into one line
// "encfsr: error: <message>" on stderr plus a documented exit code (src/util/exit_codes.h).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
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
#include "src/util/exit_codes.h"

namespace {

using encfsr::cli::CommandRunner;

void print_error(std::string_view message) { std::cerr << "encfsr: error: " << message << '\n'; }

// `encfsr [opts] --decrypt X Y` is `encfsr mount --decrypt X Y`: when "--decrypt" comes before
// any subcommand name, "mount" is inserted as the first argument.
std::vector<std::string> rewrite_arguments(int argc, char** argv,
                                           const std::vector<std::string>& subcommands) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& arg : args) {
    if (arg == "--") break;
    for (const std::string& name : subcommands) {
      if (arg == name) return args;
    }
    if (arg == "--decrypt") {
      args.insert(args.begin(), "mount");
      return args;
    }
  }
  return args;
}

int run(int argc, char** argv) {
  CLI::App app(
      "encfsr: an encrypting reverse-mode backup filesystem. It shows an encrypted, "
      "read-only, deterministic view of your directories for any backup tool, and "
      "decrypts copies of that view.",
      "encfsr");
  app.set_version_flag("--version", "encfsr " ENCFSR_VERSION, "print the version and exit");
  app.footer(encfsr::util::exit_code_table());
  app.require_subcommand(1, 1);

  using Adder = CommandRunner (*)(CLI::App&);
  const std::vector<Adder> adders = {
      encfsr::cli::add_init,   encfsr::cli::add_passwd, encfsr::cli::add_mount,
      encfsr::cli::add_run,    encfsr::cli::add_umount, encfsr::cli::add_restore,
      encfsr::cli::add_verify, encfsr::cli::add_path,
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
