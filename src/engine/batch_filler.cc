// BatchFiller: many matchers' masks at once on a persistent thread pool.
#include "stencil/matcher.h"
#include "stencil/errors.h"
#include "support/thread_pool.h"

namespace stencil {

struct BatchFiller::Pool {
  explicit Pool(int32_t threads) : pool(threads) {}
  support::ThreadPool pool;
};

BatchFiller::BatchFiller(int32_t threads) : pool_(std::make_unique<Pool>(threads)) {}
BatchFiller::~BatchFiller() = default;

void BatchFiller::fill(std::span<Matcher* const> matchers, std::span<uint32_t> masks, int32_t words_per_row) {
  const int64_t n = static_cast<int64_t>(matchers.size());
  if (static_cast<int64_t>(masks.size()) < n * words_per_row) {
    throw ArgumentError("BatchFiller::fill: masks hold " + std::to_string(masks.size()) + " words, need " +
                        std::to_string(n * words_per_row));
  }
  pool_->pool.parallel_for(n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      matchers[static_cast<size_t>(i)]->fill_next_token_bitmask(
          masks.subspan(static_cast<size_t>(i * words_per_row), static_cast<size_t>(words_per_row)));
    }
  });
}

}  // namespace stencil
