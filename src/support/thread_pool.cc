// ThreadPool implementation. One loop at a time: the caller publishes a Job (on its
// own stack) under mu_, wakes as many workers as there are ranges beyond its own,
// and claims ranges itself. Ranges are claimed with one atomic fetch_add each, so
// fast threads take more of them. A worker that wakes late finds the job gone (or
// all ranges claimed) and goes back to sleep; the caller waits only for workers
// that actually joined (workers_inside_), never for sleeping ones, so a call's
// latency is bounded by the work, not by how quickly every worker wakes up.
#include "support/thread_pool.h"

#include <algorithm>
#include <atomic>

namespace stencil::support {
namespace {

// The pool whose loop body this thread is running, to run nested calls serially.
thread_local const ThreadPool* tls_running_pool = nullptr;

// Ranges per thread when the caller gives no grain: more than one so that a slow
// range (an expensive matcher) does not leave the other threads idle.
constexpr int64_t kRangesPerThread = 4;

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
    stop_ = true;
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
  const int64_t helpers = std::min<int64_t>(static_cast<int64_t>(workers_.size()), job.ranges - 1);
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &job;
    ++generation_;
  }
  for (int64_t i = 0; i < helpers; ++i) wake_cv_.notify_one();

  const ThreadPool* outer = tls_running_pool;
  tls_running_pool = this;
  run_ranges(job);
  tls_running_pool = outer;

  {
    // Every range is claimed now; wait for the workers still running theirs, then
    // retract the job so that a late waker cannot touch it after we return.
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return workers_inside_ == 0; });
    job_ = nullptr;
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
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_cv_.wait(lock, [&] { return stop_ || (job_ != nullptr && generation_ != seen_generation); });
    if (stop_) return;
    seen_generation = generation_;
    Job* job = job_;
    ++workers_inside_;
    lock.unlock();
    run_ranges(*job);
    lock.lock();
    if (--workers_inside_ == 0) done_cv_.notify_one();
  }
}

}  // namespace stencil::support
