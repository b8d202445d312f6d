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
// Hand-off: a worker that finishes a loop polls for the next one for a short while
// (kWorkerSpin in the .cc, 100 µs; a few pause instructions, then yielding its core
// between polls) before it sleeps on a condition variable, and the caller polls the
// same way (up to 200 µs) for its workers to finish before it sleeps. Back-to-back
// loops (a decode step runs ~120 of them) then start and end without a futex
// wake-up each; an idle pool costs no CPU once the polling has run out.
//
// Thread-safety: parallel_for may be called from any thread; calls are serialised.
// The destructor must not run while a parallel_for is in progress.
//
//   stencil::support::ThreadPool pool(4);  // the caller + 3 workers
//   pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
//     for (int64_t r = begin; r < end; ++r) fill_row(r);
//   });
#pragma once

#include <atomic>
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
  std::mutex call_mu_;  // serialises parallel_for callers (uncontended with one caller: no syscall)

  // Published by the caller, polled by spinning workers (own cache line).
  alignas(64) std::atomic<Job*> job_{nullptr};  // the running loop; null between loops
  std::atomic<uint64_t> generation_{0};         // bumped per loop, so a worker joins each loop at most once
  std::atomic<bool> stop_{false};
  // Written by workers as they join and leave a loop (own cache line).
  alignas(64) std::atomic<int32_t> workers_inside_{0};  // workers that may be touching job_
  // Sleeping side, used only once a spin has run out.
  alignas(64) std::mutex mu_;        // guards the condition variables' waits
  std::condition_variable wake_cv_;  // sleeping workers wait here for a new generation (or stop_)
  std::condition_variable done_cv_;  // a sleeping caller waits here for workers_inside_ == 0
  std::atomic<int32_t> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
};

}  // namespace stencil::support
