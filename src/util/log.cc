#include "src/util/log.h"

#include <sodium.h>
#include <syslog.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <mutex>

namespace encfsr::util::log {
namespace {

std::atomic<bool> g_syslog{false};
std::atomic<bool> g_debug{false};
std::atomic<bool> g_verbose{false};
std::atomic<bool> g_show_names{false};

const char* level_text(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "?";
}

int level_priority(Level level) {
  switch (level) {
    case Level::kDebug:
      return LOG_DEBUG;
    case Level::kInfo:
      return LOG_INFO;
    case Level::kWarning:
      return LOG_WARNING;
    case Level::kError:
      return LOG_ERR;
  }
  return LOG_ERR;
}

const std::array<unsigned char, crypto_shorthash_KEYBYTES>& fingerprint_key() {
  static const auto key = [] {
    std::array<unsigned char, crypto_shorthash_KEYBYTES> k{};
    randombytes_buf(k.data(), k.size());
    return k;
  }();
  return key;
}

}  // namespace

void to_syslog(bool enable) {
  if (enable && !g_syslog.load()) openlog("encfsr", LOG_PID, LOG_DAEMON);
  g_syslog = enable;
}
void set_debug(bool enable) { g_debug = enable; }
bool debug_enabled() noexcept { return g_debug.load(std::memory_order_relaxed); }
void set_verbose(bool enable) { g_verbose = enable; }
bool verbose() noexcept { return g_verbose.load() || g_debug.load(); }
void set_show_names(bool enable) { g_show_names = enable; }

void write(Level level, std::string_view message) {
  if (g_syslog.load()) {
    syslog(level_priority(level), "%.*s", static_cast<int>(message.size()), message.data());
    return;
  }
  if (level == Level::kInfo && !verbose()) return;
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fprintf(stderr, "encfsr: %s: %.*s\n", level_text(level), static_cast<int>(message.size()),
               message.data());
}

std::string name(std::string_view plain) {
  if (g_show_names.load()) return std::string(plain);
  std::array<unsigned char, crypto_shorthash_BYTES> h{};
  crypto_shorthash(h.data(), reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                   fingerprint_key().data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "name#";
  for (std::size_t i = 0; i < 4; ++i) {
    out += kHex[h[i] >> 4];
    out += kHex[h[i] & 15];
  }
  return out;
}

}  // namespace encfsr::util::log
