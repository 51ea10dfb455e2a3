// src/cli/cli_error.h — the one exception of the command line: a message and an exit code.
// main() prints "encfsr: error: <message>" on one line and exits with the code.
#pragma once

#include <stdexcept>
#include <string>

#include "src/util/exit_codes.h"

namespace encfsr::cli {

class CliError : public std::runtime_error {
 public:
  CliError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

}  // namespace encfsr::cli
