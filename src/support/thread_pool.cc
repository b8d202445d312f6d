// ThreadPool implementation. One loop at a time: the caller publishes a Job (on its
// own stack) in job_, bumps generation_, and claims ranges itself. Ranges are
// claimed with one atomic fetch_add each, so fast threads take more of them.
//
// Workers between loops spin on generation_ for up to kWorkerSpin, then sleep on
// wake_cv_ (counted in sleeping_workers_, so that the caller takes mu_ and signals
// only when someone sleeps). A worker joins a loop by incrementing workers_inside_
// *before* it reads job_; the caller, once every range is claimed, clears job_ and
// waits until workers_inside_ is 0 (spinning up to kCallerSpin, then on done_cv_).
// All of these are seq_cst, so a worker either saw the job and is counted, or reads
// null and leaves it alone: the Job is never touched after parallel_for returns.
// The caller waits only for workers that actually joined, never for sleeping ones,
// so a call's latency is bounded by the work, not by how quickly a worker wakes up.
//
// Lost wake-ups: a worker increments sleeping_workers_ and re-checks generation_
// while holding mu_, and the caller that sees a sleeper takes mu_ before notifying;
// the same pattern (caller_sleeping_) covers the caller's sleep on done_cv_.
#include "support/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace stencil::support {
namespace {

// The pool whose loop body this thread is running, to run nested calls serially.
thread_local const ThreadPool* tls_running_pool = nullptr;

// Ranges per thread when the caller gives no grain: more than one so that a slow
// range (an expensive matcher) does not leave the other threads idle.
constexpr int64_t kRangesPerThread = 4;

// How long a worker polls for the next loop before sleeping. Covers the serial work
// between two matmuls of a decode step (norms, RoPE, attention of a short context:
// a few µs) and the step-to-step gap of a tight decode loop, so a decode step pays
// no futex wake-up; an idle pool stops burning CPU after this.
constexpr std::chrono::microseconds kWorkerSpin{100};
// How long the caller polls for joined workers to finish their last range before
// sleeping (the imbalance is at most about one range).
constexpr std::chrono::microseconds kCallerSpin{200};
// Polls with a pause instruction (~20 ns each on the development machine) before the
// poller starts yielding its core between polls. Yielding matters on a loaded machine:
// a thread that burns its time slice polling for a partner that is waiting for a core
// delays that partner. SmolLM2-135M-shape Q8_0 decode on 2 threads with another
// process busy on one of the 2 cores, interleaved runs (median of 4): polling with pause
// only 89 tok/s, pause then yield 145, the earlier condition-variable-only pool 120.
constexpr int kPausePolls = 64;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Polls done() until it is true (returns true) or `budget` has passed (false).
template <typename Done>
bool spin_until(Done done, std::chrono::microseconds budget) noexcept {
  for (int i = 0; i < kPausePolls; ++i) {
    if (done()) return true;
    cpu_relax();
  }
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

struct ThreadPool::Job {
  Job(RangeFn fn, int64_t n, int64_t grain) : fn(fn), n(n), grain(grain), ranges((n + grain - 1) / grain) {}

  RangeFn fn;
  int64_t n;
  int64_t grain;
  int64_t ranges;                   // ceil(n / grain)
  std::atomic<int64_t> next{0};     // next range index to claim
  std::atomic<bool> failed{false};  // a range threw: claim no more
  std::exception_ptr error;         // the first exception; guarded by error_mu
  std::mutex error_mu;
};

ThreadPool::ThreadPool(int32_t threads) {
  if (threads <= 0) threads = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  workers_.reserve(static_cast<size_t>(threads - 1));
  for (int32_t i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_main(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  wake_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::parallel_for(int64_t n, RangeFn fn) {
  const int64_t target_ranges = static_cast<int64_t>(size()) * kRangesPerThread;
  parallel_for(n, std::max<int64_t>(1, (n + target_ranges - 1) / target_ranges), fn);
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, RangeFn fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  // Serial cases: one range, no workers, or a nested call from one of our loop bodies.
  if (n <= grain || workers_.empty() || tls_running_pool == this) {
    for (int64_t begin = 0; begin < n; begin += grain) fn(begin, std::min(n, begin + grain));
    return;
  }

  std::lock_guard<std::mutex> call_lock(call_mu_);
  Job job(fn, n, grain);
  job_.store(&job);
  generation_.fetch_add(1);
  // Spinning workers see the new generation by themselves; wake sleeping ones, at
  // most one per range beyond the caller's own.
  if (const int32_t sleeping = sleeping_workers_.load(); sleeping > 0) {
    { std::lock_guard<std::mutex> lock(mu_); }  // a worker about to sleep now sees the generation or waits
    const int64_t wake = std::min<int64_t>(sleeping, job.ranges - 1);
    for (int64_t i = 0; i < wake; ++i) wake_cv_.notify_one();
  }

  const ThreadPool* outer = tls_running_pool;
  tls_running_pool = this;
  run_ranges(job);
  tls_running_pool = outer;

  // Every range is claimed now: retract the job so that a late worker cannot touch
  // it after we return, then wait for the workers still running their ranges.
  job_.store(nullptr);
  if (!spin_until([this] { return workers_inside_.load(std::memory_order_acquire) == 0; }, kCallerSpin)) {
    std::unique_lock<std::mutex> lock(mu_);
    caller_sleeping_.store(true);
    done_cv_.wait(lock, [this] { return workers_inside_.load() == 0; });
    caller_sleeping_.store(false);
  }
  if (job.error) std::rethrow_exception(job.error);
}

void ThreadPool::run_ranges(Job& job) noexcept {
  while (!job.failed.load(std::memory_order_relaxed)) {
    const int64_t r = job.next.fetch_add(1, std::memory_order_relaxed);
    if (r >= job.ranges) return;
    const int64_t begin = r * job.grain;
    try {
      job.fn(begin, std::min(job.n, begin + job.grain));
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.error_mu);
      if (!job.error) job.error = std::current_exception();
      job.failed.store(true, std::memory_order_relaxed);
    }
  }
}

void ThreadPool::worker_main() {
  tls_running_pool = this;
  uint64_t seen_generation = 0;
  for (;;) {
    uint64_t generation = seen_generation;
    auto ready = [&] {
      generation = generation_.load(std::memory_order_acquire);
      return generation != seen_generation || stop_.load(std::memory_order_relaxed);
    };
    if (!spin_until(ready, kWorkerSpin)) {
      std::unique_lock<std::mutex> lock(mu_);
      sleeping_workers_.fetch_add(1);
      wake_cv_.wait(lock, [&] {
        generation = generation_.load();
        return generation != seen_generation || stop_.load();
      });
      sleeping_workers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen_generation = generation;
    workers_inside_.fetch_add(1);
    if (Job* job = job_.load()) run_ranges(*job);
    if (workers_inside_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
      std::lock_guard<std::mutex> lock(mu_);
      done_cv_.notify_one();
    }
  }
}

}  // namespace stencil::support
