// Tests of support::ThreadPool: every index is visited exactly once for a table of
// pool sizes, loop sizes and grains; ranges respect the grain; the workers really
// run concurrently with the caller; no thread is started per call; exceptions,
// nested calls and concurrent callers behave as thread_pool.h promises.
#include "support/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace stencil::support {
namespace {

struct CoverCase {
  int32_t threads;
  int64_t n;
  int64_t grain;  // 0: the default split
};

class ThreadPoolCoverTest : public testing::TestWithParam<CoverCase> {};

TEST_P(ThreadPoolCoverTest, VisitsEveryIndexOnceInRangesWithinGrain) {
  const CoverCase& c = GetParam();
  ThreadPool pool(c.threads);
  ASSERT_EQ(pool.size(), c.threads);
  std::vector<std::atomic<int32_t>> visits(static_cast<size_t>(c.n));
  std::atomic<int64_t> max_range{0};
  std::atomic<int32_t> bad_ranges{0};
  auto body = [&](int64_t begin, int64_t end) {
    if (begin < 0 || end > c.n || begin >= end) ++bad_ranges;
    int64_t len = end - begin;
    int64_t seen = max_range.load();
    while (len > seen && !max_range.compare_exchange_weak(seen, len)) {
    }
    for (int64_t i = std::max<int64_t>(begin, 0); i < std::min(end, c.n); ++i) ++visits[static_cast<size_t>(i)];
  };
  for (int round = 0; round < 3; ++round) {  // the same pool, reused
    for (auto& v : visits) v = 0;
    if (c.grain > 0) {
      pool.parallel_for(c.n, c.grain, body);
    } else {
      pool.parallel_for(c.n, body);
    }
    for (int64_t i = 0; i < c.n; ++i) ASSERT_EQ(visits[static_cast<size_t>(i)].load(), 1) << "index " << i;
  }
  EXPECT_EQ(bad_ranges.load(), 0);
  if (c.grain > 0) {
    EXPECT_LE(max_range.load(), c.grain);
  } else if (c.n >= 1000) {
    // The default split: about 4 ranges per thread.
    EXPECT_LE(max_range.load(), (c.n + 4 * c.threads - 1) / (4 * c.threads));
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ThreadPoolCoverTest,
                         testing::Values(CoverCase{1, 0, 0}, CoverCase{1, 1, 0}, CoverCase{1, 1000, 0},
                                         CoverCase{1, 1000, 7}, CoverCase{2, 1, 0}, CoverCase{2, 2, 1},
                                         CoverCase{2, 3, 0}, CoverCase{2, 10007, 0}, CoverCase{4, 7, 1},
                                         CoverCase{4, 100, 0}, CoverCase{4, 10007, 0}, CoverCase{4, 10007, 64},
                                         CoverCase{4, 10007, 20000}, CoverCase{8, 5, 0}, CoverCase{8, 100000, 0}),
                         [](const testing::TestParamInfo<CoverCase>& info) {
                           return "threads" + std::to_string(info.param.threads) + "_n" + std::to_string(info.param.n) +
                                  "_grain" + std::to_string(info.param.grain);
                         });

TEST(ThreadPoolTest, NegativeCountDoesNothing) {
  ThreadPool pool(3);
  int calls = 0;
  pool.parallel_for(-5, [&](int64_t, int64_t) { ++calls; });
  pool.parallel_for(0, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ThreadPoolTest, ZeroThreadsMeansHardwareThreads) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency())));
}

// Four ranges that each wait until all four have started can only finish if four
// threads (3 workers + the caller) run them at the same time.
TEST(ThreadPoolTest, WorkersRunConcurrentlyWithTheCaller) {
  ThreadPool pool(4);
  std::atomic<int32_t> started{0};
  std::atomic<int32_t> timed_out{0};
  std::mutex ids_mu;
  std::set<std::thread::id> ids;
  pool.parallel_for(4, 1, [&](int64_t, int64_t) {
    {
      std::lock_guard<std::mutex> lock(ids_mu);
      ids.insert(std::this_thread::get_id());
    }
    ++started;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (started.load() < 4) {
      if (std::chrono::steady_clock::now() > deadline) {
        ++timed_out;
        return;
      }
      std::this_thread::yield();
    }
  });
  EXPECT_EQ(timed_out.load(), 0);
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 1u) << "the caller runs ranges too";
}

TEST(ThreadPoolTest, NoThreadIsStartedPerCall) {
  ThreadPool pool(3);
  std::mutex ids_mu;
  std::set<std::thread::id> ids;
  for (int call = 0; call < 200; ++call) {
    pool.parallel_for(64, 1, [&](int64_t, int64_t) {
      std::lock_guard<std::mutex> lock(ids_mu);
      ids.insert(std::this_thread::get_id());
    });
  }
  EXPECT_GE(ids.size(), 1u);
  EXPECT_LE(ids.size(), 3u);  // the 2 workers and the caller, nothing else
}

// The process's thread count (Linux), or -1 where /proc is not there.
int32_t process_threads() {
  std::error_code ec;
  int32_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return ec || n == 0 ? -1 : n;
}

TEST(ThreadPoolTest, ThreadCountIsFixedAtConstruction) {
  const int32_t before = process_threads();
  if (before < 0) GTEST_SKIP() << "no /proc/self/task to count threads";
  ThreadPool pool(4);
  EXPECT_EQ(process_threads(), before + 3);
  std::atomic<int32_t> most{0};
  for (int call = 0; call < 20; ++call) {
    pool.parallel_for(16, 1, [&](int64_t, int64_t) {
      int32_t now = process_threads();
      int32_t seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
    });
  }
  EXPECT_EQ(most.load(), before + 3);
}

TEST(ThreadPoolTest, FirstExceptionIsRethrownAndPoolStaysUsable) {
  ThreadPool pool(4);
  std::atomic<int64_t> done{0};
  EXPECT_THROW(pool.parallel_for(1000, 1,
                                 [&](int64_t begin, int64_t) {
                                   if (begin == 10) throw std::runtime_error("range 10");
                                   ++done;
                                 }),
               std::runtime_error);
  EXPECT_LT(done.load(), 1000);
  try {
    pool.parallel_for(8, 1, [](int64_t begin, int64_t) {
      if (begin == 3) throw std::out_of_range("three");
    });
    FAIL() << "no exception";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "three");
  }
  std::atomic<int64_t> sum{0};
  pool.parallel_for(100, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) sum += i;
  });
  EXPECT_EQ(sum.load(), 4950);
}

TEST(ThreadPoolTest, NestedCallRunsSeriallyWithoutDeadlock) {
  ThreadPool pool(3);
  std::vector<std::atomic<int32_t>> visits(20 * 30);
  pool.parallel_for(20, 1, [&](int64_t outer, int64_t) {
    pool.parallel_for(30, 4, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) ++visits[static_cast<size_t>(outer * 30 + i)];
    });
  });
  for (size_t i = 0; i < visits.size(); ++i) ASSERT_EQ(visits[i].load(), 1) << "index " << i;
}

TEST(ThreadPoolTest, ConcurrentCallersTakeTurnsAndBothFinish) {
  ThreadPool pool(3);
  constexpr int64_t kN = 5000;
  std::atomic<int64_t> sums[2] = {0, 0};
  auto caller = [&](int which) {
    for (int round = 0; round < 50; ++round) {
      pool.parallel_for(kN, 16, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) sums[which] += i;
      });
    }
  };
  std::thread a(caller, 0);
  std::thread b(caller, 1);
  a.join();
  b.join();
  EXPECT_EQ(sums[0].load(), 50 * kN * (kN - 1) / 2);
  EXPECT_EQ(sums[1].load(), 50 * kN * (kN - 1) / 2);
}

TEST(ThreadPoolTest, CreateAndDestroyRepeatedly) {
  for (int i = 0; i < 50; ++i) {
    ThreadPool pool(4);
    if (i % 2 == 0) {
      std::atomic<int32_t> calls{0};
      pool.parallel_for(4, 1, [&](int64_t, int64_t) { ++calls; });
      ASSERT_EQ(calls.load(), 4);
    }
  }
}

}  // namespace
}  // namespace stencil::support
