// src/util/quiet_thread.h — threads that take no signals.
//
// Helper threads (the worker pool's, restore's chunk writer, the session's evictor, the reverse
// view's walk-ahead thread) start with every signal blocked, so that SIGINT, SIGTERM and the
// like reach the threads that expect them: the FUSE loop, which ends the session, or restore's
// cleanup handler.
#pragma once

#include <functional>
#include <thread>

namespace encfsr::util {

// Starts `body` on a new thread with every signal blocked. Throws std::system_error when no
// thread can be made (RLIMIT_NPROC, memory).
std::thread start_quiet_thread(std::function<void()> body);

}  // namespace encfsr::util
