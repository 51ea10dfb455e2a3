// src/util/no_core_dumps.h — keeping a process's memory out of core dumps and debuggers.
//
// The serving process (the mount daemon, `run`'s mount child, `mount -f`) holds the master key
// and, in its per-thread scratch buffers, plaintext. forbid_core_dumps() sets RLIMIT_CORE to 0
// (soft and hard: no core file, also not through a core_pattern pipe that honours the limit)
// and PR_SET_DUMPABLE to 0 (no core through a pipe handler either, no ptrace attach or
// /proc/PID/mem read by the same user; /proc/PID files become root's).
#pragma once

namespace encfsr::util {

// Returns 0 or the errno of the first call that failed.
int forbid_core_dumps() noexcept;

}  // namespace encfsr::util
