// src/util/worker_pool.h — a small fixed pool of threads that helps a caller run the parts of
// one job in parallel (the blocks of one large read request).
//
// The threads are created once, in the constructor, and live until the destructor: no thread
// is created per job. A job is run() by its caller, who works on it too and returns once every
// part has run; parts of jobs of several concurrent callers are shared out in the order the
// jobs came. Memory is bounded: a job lives on its caller's stack, and the queue holds at most
// one entry per caller waiting in run(). No exception escapes: a part that throws is counted as
// failed and the others still run. Thread-safe. The helpers block every signal.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace encfsr::util {

class WorkerPool {
 public:
  // Starts `helpers` threads (fewer if the system refuses some; 0: every job runs on its
  // caller alone).
  explicit WorkerPool(unsigned helpers) noexcept;
  // Joins the threads. No run() may be in progress.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Threads besides the caller that work on a job.
  unsigned helpers() const noexcept { return static_cast<unsigned>(threads_.size()); }

  // Calls part(i) for every i in [0, parts), on the calling thread and the helpers, each
  // exactly once; returns when all have returned. False if any part threw.
  template <typename Part>
  bool run(std::size_t parts, Part&& part) noexcept {
    using P = std::remove_reference_t<Part>;
    return run_erased(
        parts, [](void* p, std::size_t i) { (*static_cast<P*>(p))(i); },
        const_cast<void*>(
            static_cast<const void*>(&part)));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  }

  // The CPUs this process may run on (sched_getaffinity: taskset counts), at least 1.
  static unsigned usable_cpus() noexcept;

 private:
  struct Job {
    Job(void (*c)(void*, std::size_t), void* x, std::size_t n) : call(c), context(x), parts(n) {}
    void (*call)(void*, std::size_t);
    void* context;
    std::size_t parts;
    std::size_t next = 0;     // first part not yet claimed
    std::size_t running = 0;  // parts claimed and not yet finished
    bool failed = false;
    std::condition_variable finished;
  };

  bool run_erased(std::size_t parts, void (*call)(void*, std::size_t), void* context) noexcept;
  // Claims the next part of `job` (the lock held); unqueues the job once all are claimed.
  std::size_t claim(Job& job);
  // Runs part `i` of `job` without the lock, then retakes it and records the end.
  void work(std::unique_lock<std::mutex>& lock, Job& job, std::size_t i) noexcept;
  void helper_loop() noexcept;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job*> queue_;  // jobs with parts not yet claimed, oldest first
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace encfsr::util
