// src/util/worker_pool.cc — see worker_pool.h. One mutex guards the queue and every job's
// counters; parts are meant to be coarse (tens of microseconds at least), so taking it once per
// part costs nothing measurable. A job is touched by a helper only under the mutex, and its
// caller leaves run() only once no part is claimed and none is running, so a job never outlives
// its use.
#include "src/util/worker_pool.h"

#include <sched.h>

#include <algorithm>
#include <system_error>

#include "src/util/quiet_thread.h"

namespace encfsr::util {

WorkerPool::WorkerPool(unsigned helpers) noexcept {
  try {
    threads_.reserve(helpers);
    for (unsigned i = 0; i < helpers; ++i) {
      threads_.push_back(start_quiet_thread([this] { helper_loop(); }));
    }
  } catch (const std::exception&) {
    // No more threads (or no memory for the vector): work with those that started.
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

unsigned WorkerPool::usable_cpus() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<unsigned>(count);
  }
  return std::max(1U, std::thread::hardware_concurrency());
}

std::size_t WorkerPool::claim(Job& job) {
  const std::size_t i = job.next++;
  ++job.running;
  if (job.next == job.parts) {
    const auto it = std::find(queue_.begin(), queue_.end(), &job);
    if (it != queue_.end()) queue_.erase(it);
  }
  return i;
}

void WorkerPool::work(std::unique_lock<std::mutex>& lock, Job& job, std::size_t i) noexcept {
  lock.unlock();
  bool ok = true;
  try {
    job.call(job.context, i);
  } catch (...) {
    ok = false;
  }
  lock.lock();
  if (!ok) job.failed = true;
  // Notified under the lock: the caller cannot leave run() (and free the job) before this
  // thread lets go of the mutex.
  if (--job.running == 0 && job.next == job.parts) job.finished.notify_all();
}

bool WorkerPool::run_erased(std::size_t parts, void (*call)(void*, std::size_t),
                            void* context) noexcept {
  if (parts == 0) return true;
  Job job(call, context, parts);
  std::unique_lock lock(mutex_);
  if (parts > 1 && !threads_.empty()) {
    queue_.push_back(&job);
    // As many helpers as there are parts for them (the caller takes one itself).
    if (parts - 1 >= threads_.size()) {
      wake_.notify_all();
    } else {
      for (std::size_t i = 1; i < parts; ++i) wake_.notify_one();
    }
  }
  while (job.next < job.parts) work(lock, job, claim(job));
  job.finished.wait(lock, [&job] { return job.running == 0; });
  return !job.failed;
}

void WorkerPool::helper_loop() noexcept {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to help with
    Job& job = *queue_.front();
    work(lock, job, claim(job));
  }
}

}  // namespace encfsr::util
