// src/cli/cli_error.cc — CliError is header-only; this unit keeps the source list stable.
#include "src/cli/cli_error.h"
