// ThreadPool: a fixed set of worker threads, created once, that run parallel_for
// loops together with the calling thread. Made for per-step batch work (filling the
// token masks of a batch of matchers, the runtime's matrix rows): no thread is
// spawned per call, the callback is not copied, and the call blocks until every
// index is done.
//
// It is not a task queue: there is no submit()/future, and one loop runs at a time
// (concurrent callers take turns). A parallel_for called from inside a loop body
// of the same pool runs serially on that thread instead of deadlocking.
//
// Thread-safety: parallel_for may be called from any thread; calls are serialised.
// The destructor must not run while a parallel_for is in progress.
//
//   stencil::support::ThreadPool pool(4);  // the caller + 3 workers
//   pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
//     for (int64_t r = begin; r < end; ++r) fill_row(r);
//   });
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "support/function_ref.h"

namespace stencil::support {

class ThreadPool {
 public:
  using RangeFn = FunctionRef<void(int64_t begin, int64_t end)>;

  // `threads` counts every thread that runs loop bodies, the caller included, so
  // threads - 1 workers are started. threads <= 0 means one per hardware thread.
  explicit ThreadPool(int32_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads that run loop bodies: the workers plus the caller (at least 1).
  int32_t size() const noexcept { return static_cast<int32_t>(workers_.size()) + 1; }

  // Calls fn(begin, end) over disjoint, non-empty ranges covering [0, n) exactly
  // once, on the workers and the calling thread; returns when all are done.
  // Ranges hold at most `grain` indices (grain >= 1); the default splits [0, n)
  // into about 4 ranges per thread, which balances uneven work. n <= 0 does nothing.
  // If fn throws, ranges not yet started are skipped and the first exception is
  // rethrown here once every running range has returned.
  void parallel_for(int64_t n, int64_t grain, RangeFn fn);
  void parallel_for(int64_t n, RangeFn fn);

 private:
  struct Job;
  void worker_main();
  // Claims and runs ranges of `job` until none are left (or one has thrown).
  static void run_ranges(Job& job) noexcept;

  std::vector<std::thread> workers_;
  std::mutex call_mu_;               // serialises parallel_for callers
  std::mutex mu_;                    // guards everything below
  std::condition_variable wake_cv_;  // workers wait here for a job (or stop_)
  std::condition_variable done_cv_;  // the caller waits here for workers_inside_ == 0
  Job* job_ = nullptr;               // the running loop; null between loops
  uint64_t generation_ = 0;          // bumped per loop, so a worker joins each loop at most once
  int32_t workers_inside_ = 0;       // workers that joined job_ and have not left it
  bool stop_ = false;
};

}  // namespace stencil::support
