// stencil::Sampler: picks the next token from a logit vector.
//
// Greedy, temperature, top-k, top-p (nucleus), min-p and a repetition penalty over a window of the
// last accepted tokens, driven by a seeded, portable PRNG (xoshiro256** seeded by splitmix64; no
// std:: distributions, whose output differs between standard libraries): the same seed, options and
// logits give the same tokens on every platform.
//
// Masking happens before sampling: entries that are -inf (or NaN) are never picked, whatever the
// options. If every entry is masked, sample() reports kAllMasked instead of picking anything.
//
// Order of operations (Hugging Face's): repetition penalty -> temperature -> top-k -> softmax ->
// top-p -> min-p -> draw. temperature <= 0 is greedy (argmax after the penalty; ties: lowest id).
// Candidates are ranked by (logit desc, id asc), a total order, and every reordering before the
// draw is either a full sort by it or this library's own selection code, so results do not depend
// on the standard library.
//
// sample() does not allocate once its scratch buffers have grown to the vocabulary size (the
// constructor reserves them when given n_vocab). Not thread-safe: one Sampler per sequence.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace stencil {

struct SamplerOptions {
  float temperature = 1.0f;         // <= 0: greedy
  int32_t top_k = 0;                // <= 0: off
  float top_p = 1.0f;               // >= 1: off
  float min_p = 0.0f;               // <= 0: off; drop tokens with p < min_p * p_max
  float repetition_penalty = 1.0f;  // 1: off; > 1 discourages tokens in the window (CTRL / llama.cpp rule)
  int32_t repetition_window = 64;   // how many of the last accepted tokens the penalty looks at
  uint64_t seed = 0;
};

enum class SampleStatus : uint8_t {
  kOk,
  kAllMasked,  // every logit was -inf or NaN (or the span was empty): nothing can be picked
};

struct SampleResult {
  int32_t token = -1;
  SampleStatus status = SampleStatus::kAllMasked;
  bool ok() const noexcept { return status == SampleStatus::kOk; }
};

class Sampler {
 public:
  // n_vocab (optional) reserves the scratch buffers so the first sample() does not allocate either.
  explicit Sampler(const SamplerOptions& options = {}, int32_t n_vocab = 0);

  // Picks a token from `logits` (one float per token id). Does not modify the logits and does not
  // record the token: call accept() with the token actually used (it may differ, e.g. forced tokens).
  SampleResult sample(std::span<const float> logits) noexcept;
  // Records a token in the repetition window.
  void accept(int32_t token) noexcept;
  // Forgets the window and restarts the random stream from `seed`.
  void reset(uint64_t seed) noexcept;
  const SamplerOptions& options() const noexcept { return options_; }

  // The random stream, exposed for tests: a uniform double in [0, 1).
  double next_uniform() noexcept;

 private:
  struct Candidate {
    int32_t id;
    float logit;  // after penalty and temperature
    float p;      // probability after softmax (unnormalised until the draw)
  };
  uint64_t next_u64() noexcept;
  // Puts the k largest candidates (by logit desc, id asc) first, sorted.
  void sort_top(size_t k) noexcept;
  size_t select_mass(double want) noexcept;

  SamplerOptions options_;
  uint64_t state_[4];
  std::vector<int32_t> window_;  // ring buffer of the last repetition_window accepted tokens
  size_t window_pos_ = 0;
  size_t window_len_ = 0;
  std::vector<Candidate> cand_;                    // scratch: (n_vocab) at most
  std::vector<std::pair<int32_t, float>> pen_;     // scratch: penalised (id, logit), sorted by id
};

}  // namespace stencil
