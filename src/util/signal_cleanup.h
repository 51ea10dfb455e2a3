// src/util/signal_cleanup.h — temporary files that SIGINT, SIGTERM or SIGHUP remove before the
// process exits (with 128 + the signal's number, as `encfsr run` reports a signalled command).
//
// A TempRegistration names one temporary file (a directory fd and a name in it) for as long as
// it lives; while a SignalCleanup is installed, the handler unlinks every registered file with
// unlinkat(2), writes one line to stderr and calls _exit(2): only async-signal-safe calls, and
// the registry is a fixed array of slots published with lock-free atomics (no allocation, no
// lock). The handler may find a name already renamed into place or not yet created: unlinkat
// then fails with ENOENT, which is harmless. So a registration is made before the file is
// created and dropped after it is renamed to its final name. Threads that must not run the
// handler block the signals (util::WorkerPool's threads do).
#pragma once

#include <array>
#include <csignal>
#include <string_view>

namespace encfsr::util {

// Installs the handlers for SIGINT, SIGTERM and SIGHUP; restores the previous ones when
// destroyed. One at a time.
class SignalCleanup {
 public:
  SignalCleanup();
  ~SignalCleanup();
  SignalCleanup(const SignalCleanup&) = delete;
  SignalCleanup& operator=(const SignalCleanup&) = delete;

 private:
  std::array<struct sigaction, 3> old_{};
};

// Registers dir_fd/name until destroyed. dir_fd must stay open meanwhile. A name longer than
// 255 bytes or a full registry (8 slots) leaves the file unregistered (registered() false).
class TempRegistration {
 public:
  TempRegistration(int dir_fd, std::string_view name) noexcept;
  ~TempRegistration();
  TempRegistration(const TempRegistration&) = delete;
  TempRegistration& operator=(const TempRegistration&) = delete;

  bool registered() const noexcept { return slot_ >= 0; }

 private:
  int slot_ = -1;
};

}  // namespace encfsr::util
