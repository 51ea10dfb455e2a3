// src/util/log.h — logging to stderr (foreground) or syslog (daemon).
//
// On stderr, info messages are shown only when verbose (-v) or debugging: a command that went
// well prints nothing. Syslog gets every level but debug (unless debugging).
//
// Plaintext names are never logged unless the user asked for it (--debug-names): call
// log::name(plain) which returns either the name or a short keyed fingerprint of it.
#pragma once

#include <string>
#include <string_view>

namespace encfsr::util::log {

enum class Level { kDebug, kInfo, kWarning, kError };

void to_syslog(bool enable);  // default: stderr
void set_debug(bool enable);  // enable kDebug messages (implies verbose)
bool debug_enabled() noexcept;
void set_verbose(bool enable);  // show kInfo messages on stderr
bool verbose() noexcept;
void set_show_names(bool enable);  // log plaintext names as they are
void write(Level level, std::string_view message);

inline void debug(std::string_view m) {
  if (debug_enabled()) write(Level::kDebug, m);
}
inline void info(std::string_view m) { write(Level::kInfo, m); }
inline void warning(std::string_view m) { write(Level::kWarning, m); }
inline void error(std::string_view m) { write(Level::kError, m); }

// The name itself with set_show_names(true), else "name#" + 8 hex chars of a keyed hash (the key
// is random per process, so fingerprints only correlate within one run).
std::string name(std::string_view plain);

}  // namespace encfsr::util::log
