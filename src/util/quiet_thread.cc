// src/util/quiet_thread.cc — see quiet_thread.h.
#include "src/util/quiet_thread.h"

#include <pthread.h>

#include <csignal>
#include <utility>

namespace encfsr::util {

std::thread start_quiet_thread(std::function<void()> body) {
  // The new thread inherits the mask in force when it is made.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  const bool masked = ::pthread_sigmask(SIG_SETMASK, &all, &old) == 0;
  struct Restore {
    bool masked;
    sigset_t* old;
    ~Restore() {
      if (masked) ::pthread_sigmask(SIG_SETMASK, old, nullptr);
    }
  } restore{masked, &old};
  return std::thread(std::move(body));
}

}  // namespace encfsr::util
