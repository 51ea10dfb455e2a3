// tests/unit/util/worker_pool_test.cc — the worker pool: every part runs exactly once, on the
// helpers too, with concurrent callers, with throwing parts, and with no helper at all. Also run
// under ThreadSanitizer (label "threads").
#include "src/util/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace encfsr::util {
namespace {

TEST(WorkerPoolTest, EveryPartRunsExactlyOnce) {
  WorkerPool pool(3);
  EXPECT_EQ(pool.helpers(), 3U);
  for (std::size_t parts : {0U, 1U, 2U, 3U, 4U, 7U, 64U, 1000U}) {
    std::vector<std::atomic<int>> hits(parts);
    EXPECT_TRUE(pool.run(parts, [&](std::size_t i) { hits[i].fetch_add(1); }));
    for (std::size_t i = 0; i < parts; ++i) EXPECT_EQ(hits[i].load(), 1) << parts << " " << i;
  }
}

TEST(WorkerPoolTest, WritesOfThePartsAreSeenByTheCaller) {
  WorkerPool pool(2);
  std::vector<std::uint64_t> out(4096, 0);  // plain memory: run() must order the writes
  ASSERT_TRUE(pool.run(64, [&](std::size_t part) {
    for (std::size_t i = part * 64; i < (part + 1) * 64; ++i) out[i] = i * i + 1;
  }));
  for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], i * i + 1);
}

TEST(WorkerPoolTest, HelpersTakePartsOfOneJob) {
  WorkerPool pool(2);
  std::mutex mutex;
  std::set<std::thread::id> seen;
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  ASSERT_TRUE(pool.run(3, [&](std::size_t) {
    const int now = inside.fetch_add(1) + 1;
    int m = most.load();
    while (now > m && !most.compare_exchange_weak(m, now)) {
    }
    {
      std::lock_guard lock(mutex);
      seen.insert(std::this_thread::get_id());
    }
    // Long enough that the helpers, woken at once, pick the other parts up.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    inside.fetch_sub(1);
  }));
  EXPECT_GE(seen.size(), 2U);
  EXPECT_GE(most.load(), 2);
}

TEST(WorkerPoolTest, NoHelpersRunsOnTheCaller) {
  WorkerPool pool(0);
  EXPECT_EQ(pool.helpers(), 0U);
  const auto caller = std::this_thread::get_id();
  bool elsewhere = false;
  int sum = 0;
  EXPECT_TRUE(pool.run(10, [&](std::size_t i) {
    if (std::this_thread::get_id() != caller) elsewhere = true;
    sum += static_cast<int>(i);
  }));
  EXPECT_FALSE(elsewhere);
  EXPECT_EQ(sum, 45);
}

TEST(WorkerPoolTest, AThrowingPartFailsTheJobNotTheOthers) {
  WorkerPool pool(2);
  std::vector<std::atomic<int>> hits(50);
  EXPECT_FALSE(pool.run(50, [&](std::size_t i) {
    hits[i].fetch_add(1);
    if (i % 7 == 3) throw std::runtime_error("part failed");
  }));
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  // The pool still works afterwards.
  std::atomic<int> count{0};
  EXPECT_TRUE(pool.run(20, [&](std::size_t) { count.fetch_add(1); }));
  EXPECT_EQ(count.load(), 20);
}

TEST(WorkerPoolTest, ConcurrentCallersEachGetTheirOwnJobDone) {
  WorkerPool pool(2);
  constexpr int kCallers = 6;
  constexpr int kRounds = 200;
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < kRounds; ++round) {
        const std::size_t parts = 1 + static_cast<std::size_t>((c * 31 + round) % 17);
        std::vector<int> out(parts, 0);
        if (!pool.run(parts, [&](std::size_t i) { out[i] = c * 1000 + static_cast<int>(i); })) {
          wrong.fetch_add(1);
        }
        for (std::size_t i = 0; i < parts; ++i) {
          if (out[i] != c * 1000 + static_cast<int>(i)) wrong.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(WorkerPoolTest, CreatedAndDestroyedRepeatedly) {
  for (int i = 0; i < 50; ++i) {
    WorkerPool pool(static_cast<unsigned>(i % 4));
    std::atomic<int> count{0};
    EXPECT_TRUE(pool.run(static_cast<std::size_t>(i % 9), [&](std::size_t) { count++; }));
    EXPECT_EQ(count.load(), i % 9);
  }
}

TEST(WorkerPoolTest, UsableCpusIsAtLeastOne) { EXPECT_GE(WorkerPool::usable_cpus(), 1U); }

}  // namespace
}  // namespace encfsr::util
