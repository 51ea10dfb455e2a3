// src/util/signal_cleanup.cc — see signal_cleanup.h.
#include "src/util/signal_cleanup.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <tuple>

namespace encfsr::util {
namespace {

constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
constexpr std::size_t kSlots = 8;
constexpr std::size_t kNameMax = 256;  // with its NUL

enum SlotState : int { kFree = 0, kFilling = 1, kArmed = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  int dir_fd = -1;
  char name[kNameMax] = {};
};
static_assert(std::atomic<int>::is_always_lock_free, "the handler needs lock-free atomics");

Slot g_slots[kSlots];

void write_text(const char* text) noexcept {
  [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
}

void remove_temporaries_and_exit(int sig) {
  int removed = 0;
  for (Slot& slot : g_slots) {
    if (slot.state.load(std::memory_order_acquire) != kArmed) continue;
    if (::unlinkat(slot.dir_fd, slot.name, 0) == 0) ++removed;
  }
  const char* name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
  write_text("encfsr: interrupted by ");
  write_text(name);
  write_text(removed > 0 ? "; temporary files removed\n" : "\n");
  ::_exit(128 + sig);
}

}  // namespace

SignalCleanup::SignalCleanup() {
  struct sigaction action {};
  action.sa_handler = remove_temporaries_and_exit;
  sigfillset(&action.sa_mask);  // one handler at a time: the second signal waits for _exit
  static_assert(kSignals.size() == std::tuple_size_v<decltype(old_)>);
  for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &action, &old_[i]);
}

SignalCleanup::~SignalCleanup() {
  for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
}

TempRegistration::TempRegistration(int dir_fd, std::string_view name) noexcept {
  if (name.empty() || name.size() >= kNameMax) return;
  for (std::size_t i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!g_slots[i].state.compare_exchange_strong(expected, kFilling, std::memory_order_acquire)) {
      continue;
    }
    g_slots[i].dir_fd = dir_fd;
    std::memcpy(g_slots[i].name, name.data(), name.size());
    g_slots[i].name[name.size()] = '\0';
    g_slots[i].state.store(kArmed, std::memory_order_release);
    slot_ = static_cast<int>(i);
    return;
  }
}

TempRegistration::~TempRegistration() {
  if (slot_ >= 0) g_slots[slot_].state.store(kFree, std::memory_order_release);
}

}  // namespace encfsr::util
