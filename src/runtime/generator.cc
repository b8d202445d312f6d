// The decoding loop behind stencil::generate (see include/stencil/runtime/generator.h).
//
// Per step: logits of the last token are copied into a scratch vector (the Session's span is only
// valid until the next eval), the logit bias hook is added, the grammar's budget-aware mask is
// filled (tokens_left = max_tokens - generated) and applied, the Sampler picks a token, the
// Matcher accepts it and the decoded piece is streamed.
//
// Stopping: an accepted EOS (Matcher::is_terminated), the grammar allowing nothing but EOS (taken
// without sampling), the budget, the loop guard, or nothing left to pick. Without a grammar, an
// EOS id of the tokenizer stops.
//
// Jump-forward: bytes the grammar fixes are spelled with vocabulary pieces (longest first) and appended
// without sampling, in one batched eval.
//
// Overlap (GenerateOptions::overlap_mask): once a token is accepted, the next step's grammar work —
// jump-forward and the mask — depends only on the Matcher, so a second thread (GrammarLookahead, one per
// call) does it while this thread runs the forward pass of that token; this thread then only waits for
// what is left of it. The output is the same with and without overlap.
// It does not re-use a KV cache across calls or batch sequences.
#include "stencil/runtime/generator.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <optional>
#include <thread>
#include <unordered_map>

#include "stencil/bitmask.h"
#include "stencil/compiler.h"
#include "stencil/errors.h"
#include "stencil/matcher.h"
#include "stencil/runtime/chat.h"
#include "stencil/runtime/model.h"
#include "stencil/runtime/sampler.h"
#include "stencil/runtime/tokenizer.h"

namespace stencil {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int32_t count_allowed(std::span<const uint32_t> words) {
  int32_t n = 0;
  for (uint32_t w : words) n += std::popcount(w);
  return n;
}

int32_t first_allowed(std::span<const uint32_t> words) {
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] != 0) return static_cast<int32_t>(i * 32 + static_cast<size_t>(std::countr_zero(words[i])));
  }
  return -1;
}

bool bit(std::span<const uint32_t> words, int32_t id) {
  const size_t w = static_cast<size_t>(id >> 5);
  return id >= 0 && w < words.size() && ((words[w] >> (id & 31)) & 1u);
}

void clear_bit(std::span<uint32_t> words, int32_t id) {
  if (id >= 0 && static_cast<size_t>(id >> 5) < words.size()) words[static_cast<size_t>(id >> 5)] &= ~(1u << (id & 31));
}

// Jump-forward stays within the Matcher's rollback history (at least 16 steps), so a jump that would leave
// no valid end within the budget can be undone.
constexpr int32_t kMaxJumpTokens = 16;

// The token pieces of a vocabulary by their bytes, for spelling forced bytes (longest match first).
struct PieceIndex {
  explicit PieceIndex(const Vocabulary& vocab) {
    for (int32_t id = 0; id < vocab.size(); ++id) {
      const std::string_view b = vocab.token_bytes(id);
      if (b.empty() || vocab.is_eos(id)) continue;
      by_bytes.emplace(b, id);  // the first id of equal byte strings wins
      longest = std::max(longest, b.size());
    }
  }
  std::unordered_map<std::string_view, int32_t> by_bytes;
  size_t longest = 0;
};

// The tokens of the bytes the grammar fixes from here (Matcher::forced_bytes), accepted into `m`, each the
// longest vocabulary piece that is a prefix of the rest and that the matcher accepts (a tokenizer's own
// encoding would add SentencePiece's dummy-prefix space). At most min(left, kMaxJumpTokens). When a valid
// end no longer fits into the budget after them, they are rolled back and `out` is empty. A single forced
// byte is left to the main loop (a one-token mask is taken without sampling there).
void jump_forward(Matcher& m, const PieceIndex& pieces, int32_t left, std::vector<uint32_t>& mask,
                  std::vector<int32_t>& out) {
  out.clear();
  const std::string fixed = m.forced_bytes();
  if (fixed.size() < 2) return;
  const int32_t most = std::min(left, kMaxJumpTokens);
  std::string_view rest(fixed);
  while (!rest.empty() && static_cast<int32_t>(out.size()) < most) {
    int32_t taken = -1;
    for (size_t len = std::min(rest.size(), pieces.longest); len > 0 && taken < 0; --len) {
      const auto it = pieces.by_bytes.find(rest.substr(0, len));
      if (it != pieces.by_bytes.end() && m.accept_token(it->second)) {
        taken = it->second;
        rest.remove_prefix(len);
      }
    }
    if (taken < 0) break;
    out.push_back(taken);
  }
  if (out.empty()) return;
  m.fill_next_token_bitmask(mask, left - static_cast<int32_t>(out.size()));
  if (count_allowed(mask) == 0) {
    m.rollback(static_cast<int32_t>(out.size()));
    out.clear();
  }
}

// A second thread that runs `work(left)` (the next step's grammar work for a budget of `left` tokens)
// while the caller evaluates the model. start() hands over one request; wait() returns when it is done.
// If the thread has not picked the request up by then (no free core, or still waking up), wait() takes
// it back and runs it itself, so the caller never waits longer than the work takes. One atomic state
// and futex waits (std::atomic wait/notify): no allocation, no lock. The caller touches nothing the
// work uses between start() and wait().
template <class Work>
class GrammarLookahead {
 public:
  explicit GrammarLookahead(Work work) : work_(std::move(work)), thread_([this] { loop(); }) {}
  GrammarLookahead(const GrammarLookahead&) = delete;
  GrammarLookahead& operator=(const GrammarLookahead&) = delete;
  ~GrammarLookahead() {
    // A request in flight (an exception left it) is withdrawn, or finished before the thread quits.
    uint32_t s = kRequested;
    if (!state_.compare_exchange_strong(s, kQuit)) {
      while ((s = state_.load()) == kRunning) state_.wait(s);
      state_.store(kQuit);
    }
    state_.notify_all();
    thread_.join();
  }

  void start(int32_t left) {
    left_ = left;
    state_.store(kRequested);
    state_.notify_all();
  }
  void wait() {
    uint32_t s = kRequested;
    if (state_.compare_exchange_strong(s, kIdle)) {  // not picked up: do it here
      work_(left_);
      return;
    }
    while ((s = state_.load()) != kDone) state_.wait(s);
    state_.store(kIdle);
  }

 private:
  enum : uint32_t { kIdle, kRequested, kRunning, kDone, kQuit };

  void loop() {
    for (;;) {
      uint32_t s = state_.load();
      if (s == kQuit) return;
      if (s == kRequested && state_.compare_exchange_strong(s, kRunning)) {
        work_(left_);
        state_.store(kDone);
        state_.notify_all();
        continue;
      }
      state_.wait(s);
    }
  }

  Work work_;
  int32_t left_ = 0;  // written by start() before the request is published
  std::atomic<uint32_t> state_{kIdle};
  std::thread thread_;  // last: starts after everything it reads exists
};

// The token ids of the prompt: the chat template's rendering of (system, user) unless raw.
std::vector<int32_t> prompt_ids(const Tokenizer& tok, std::string_view prompt, const GenerateOptions& options) {
  if (options.raw) return tok.encode(prompt, {.add_special = true, .parse_special = false});
  const ChatTemplate tmpl = ChatTemplate::for_tokenizer(tok);
  std::vector<ChatMessage> messages;
  if (!options.system.empty()) messages.push_back({"system", options.system});
  messages.push_back({"user", std::string(prompt)});
  const std::string text = tmpl.render(messages, /*add_generation_prompt=*/true);
  // A template that writes the BOS text itself must not get a second BOS from the tokenizer.
  return tok.encode(text, {.add_special = !tmpl.renders_bos(), .parse_special = true});
}

}  // namespace

GenerateResult generate(const Model& model, const Tokenizer& tok, const CompiledGrammar* grammar,
                        std::string_view prompt, const GenerateOptions& options, const PieceCallback& on_piece) {
  GenerateResult result;
  const int32_t n_vocab = model.info().n_vocab;
  if (grammar != nullptr && grammar->vocabulary().size() > n_vocab) {
    throw ArgumentError("the grammar's vocabulary has " + std::to_string(grammar->vocabulary().size()) +
                        " tokens but the model's logits have " + std::to_string(n_vocab) +
                        "; compile the grammar from model.vocabulary()");
  }
  const std::vector<int32_t> ids = prompt_ids(tok, prompt, options);
  if (ids.empty()) throw ArgumentError("the prompt encodes to no tokens");
  // The KV cache holds what this call can use — the prompt, the budget and the final EOS — up to the
  // session default. (A 135M model's full 4096-position F32 cache is 189 MB, more than its Q8_0
  // weights; a 256-token answer needs a few MB of it.)
  const int64_t wanted = static_cast<int64_t>(ids.size()) + std::max(options.max_tokens, 0) + 1;
  Session session(model, {.context_length = static_cast<int32_t>(
                              std::min<int64_t>(wanted, Session::default_context_length(model)))});
  const int32_t room = session.context_length() - static_cast<int32_t>(ids.size());
  if (room <= 0) {
    throw ArgumentError("the prompt (" + std::to_string(ids.size()) + " tokens) does not fit into the context of " +
                        std::to_string(session.context_length()) + " tokens");
  }
  const int32_t max_tokens = std::clamp(options.max_tokens, 0, room);
  result.prompt_tokens = static_cast<int32_t>(ids.size());

  Sampler sampler({.temperature = options.temperature,
                   .top_k = options.top_k,
                   .top_p = options.top_p,
                   .min_p = options.min_p,
                   .repetition_penalty = options.repetition_penalty,
                   .seed = options.seed},
                  n_vocab);
  std::optional<Matcher> matcher;
  if (grammar != nullptr) matcher.emplace(*grammar);
  const int32_t mask_vocab = grammar != nullptr ? grammar->vocabulary().size() : 0;
  std::vector<uint32_t> mask(static_cast<size_t>(bitmask_words(std::max(mask_vocab, 1))), 0u);
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  TextStreamDecoder stream(tok);
  auto emit = [&](std::string_view piece) {
    if (piece.empty()) return;
    result.text.append(piece);
    if (on_piece) on_piece(piece);
  };
  auto is_eos = [&](int32_t id) {
    return grammar != nullptr ? grammar->vocabulary().is_eos(id) : tok.is_eos(id);
  };

  double mask_s = 0;       // this thread's time on grammar work and on waiting for the lookahead
  double mask_work_s = 0;  // the grammar work itself, on whichever thread
  bool guard = false;
  std::vector<int32_t> jump_ids;
  jump_ids.reserve(kMaxJumpTokens);
  std::optional<PieceIndex> pieces;
  if (grammar != nullptr && options.jump_forward) pieces.emplace(grammar->vocabulary());
  // One step's grammar work for a budget of `left` tokens: the forced tokens (accepted into the matcher)
  // and the mask after them. jump_forward fills the mask itself when it takes tokens.
  auto grammar_step = [&](int32_t left) {
    const Clock::time_point t0 = Clock::now();
    jump_ids.clear();
    if (options.jump_forward) jump_forward(*matcher, *pieces, left, mask, jump_ids);
    if (jump_ids.empty()) matcher->fill_next_token_bitmask(mask, left);
    mask_work_s += seconds_since(t0);
  };
  std::optional<GrammarLookahead<decltype(grammar_step)>> lookahead;
  if (matcher && options.overlap_mask) lookahead.emplace(grammar_step);
  // Evaluates `tokens` while the lookahead (when there is one and the loop guard is off) prepares the
  // step after them for a budget of `left`; true when it did (jump_ids and mask are then ready).
  auto eval_and_prepare = [&](std::span<const int32_t> tokens, int32_t left, std::span<const float>& logits_out) {
    if (!lookahead || guard) {
      logits_out = session.eval(tokens);
      return false;
    }
    lookahead->start(left);
    logits_out = session.eval(tokens);
    const Clock::time_point t_wait = Clock::now();
    lookahead->wait();
    mask_s += seconds_since(t_wait);
    return true;
  };

  const Clock::time_point t_prompt = Clock::now();
  std::span<const float> out;
  bool prepared = eval_and_prepare(ids, max_tokens, out);
  const double prompt_s = seconds_since(t_prompt);
  result.timing.prompt_tok_s = prompt_s > 0 ? static_cast<double>(ids.size()) / prompt_s : 0;

  const Clock::time_point t_gen = Clock::now();
  int32_t last = -1, run = 0;
  result.stop_reason = "max_tokens";
  for (int32_t generated = 0;; ++generated) {
    if (!matcher && generated >= max_tokens) break;  // max_tokens == 0
    if (matcher && !prepared) {
      jump_ids.clear();
      if (options.jump_forward && !guard) {
        const Clock::time_point t_jump = Clock::now();
        jump_forward(*matcher, *pieces, max_tokens - generated, mask, jump_ids);
        const double s = seconds_since(t_jump);
        mask_s += s;
        mask_work_s += s;
      }
    }
    {
      const int32_t n = static_cast<int32_t>(jump_ids.size());
      if (n > 0) {
        // The grammar fixed these bytes: their tokens are appended without sampling and evaluated in one batch.
        const std::span<const int32_t> jumped(jump_ids);
        for (int32_t t : jumped) {
          sampler.accept(t);
          result.tokens.push_back(t);
          emit(stream.push(t));
          run = t == last ? run + 1 : 1;
          last = t;
        }
        result.forced_tokens += n;
        generated += n;
        out = session.eval(jumped);
      }
    }
    std::copy(out.begin(), out.end(), logits.begin());
    for (const auto& [id, bias] : options.logit_bias) {
      if (id >= 0 && id < n_vocab) logits[static_cast<size_t>(id)] += bias;
    }
    int32_t token = -1;
    bool forced = false;
    if (matcher) {
      const Clock::time_point t_mask = Clock::now();
      const int32_t left = std::max(0, max_tokens - generated);
      if (!prepared) matcher->fill_next_token_bitmask(mask, left);
      if (guard && left > 1 && count_allowed(mask) > 0) {
        // Loop guard: the smallest budget that still allows a token (binary search; a larger budget
        // allows a superset) keeps only the tokens on a shortest way to a valid end, so the output
        // closes within that many tokens; the repeated token goes too unless it is the only way.
        int32_t lo = 1, hi = left;
        while (lo < hi) {
          const int32_t mid = lo + (hi - lo) / 2;
          matcher->fill_next_token_bitmask(mask, mid);
          if (count_allowed(mask) > 0) {
            hi = mid;
          } else {
            lo = mid + 1;
          }
        }
        matcher->fill_next_token_bitmask(mask, lo);
        if (count_allowed(mask) > 1 && bit(mask, last)) clear_bit(mask, last);
      }
      const int32_t allowed = count_allowed(mask);
      if (allowed == 1) {
        token = first_allowed(mask);  // no choice: take it without sampling
        forced = true;
      } else if (allowed > 1) {
        apply_token_bitmask(logits, mask, mask_vocab);
      }
      const double mask_block_s = seconds_since(t_mask);  // fill unless prepared, loop-guard fills, apply
      mask_s += mask_block_s;
      mask_work_s += mask_block_s;
      if (allowed == 0) {
        result.stop_reason = "no_token";
        break;
      }
    }
    if (token < 0) {
      const SampleResult r = sampler.sample(logits);
      if (!r.ok()) {
        result.stop_reason = "no_token";
        break;
      }
      token = r.token;
    }
    if (is_eos(token)) {
      if (matcher) matcher->accept_token(token);
      result.stop_reason = "eos";
      break;
    }
    if (matcher && !matcher->accept_token(token)) {
      // Cannot happen with an exact mask; stop rather than emit text the grammar rejects.
      result.stop_reason = "no_token";
      break;
    }
    sampler.accept(token);
    result.tokens.push_back(token);
    if (forced) ++result.forced_tokens;
    emit(stream.push(token));
    run = token == last ? run + 1 : 1;
    last = token;
    if (options.loop_guard_run > 0 && run > options.loop_guard_run && !guard) {
      result.loop_guard_fired = true;
      if (!matcher) {
        result.stop_reason = "loop_guard";
        ++generated;
        break;
      }
      guard = true;
    }
    // Without a grammar the budget ends here; with one, the next step's mask (left == 0) allows only EOS.
    if (!matcher && generated + 1 >= max_tokens) break;
    prepared = eval_and_prepare({&result.tokens.back(), 1}, std::max(0, max_tokens - (generated + 1)), out);
  }
  emit(stream.flush());
  result.generated_tokens = static_cast<int32_t>(result.tokens.size());
  const double gen_s = seconds_since(t_gen);
  result.timing.gen_tok_s = gen_s > 0 ? result.generated_tokens / gen_s : 0;
  result.timing.mask_share = gen_s > 0 ? std::min(1.0, mask_s / gen_s) : 0;
  result.timing.mask_work_share = gen_s > 0 ? std::min(1.0, mask_work_s / gen_s) : 0;
  result.valid = !matcher || matcher->is_terminated() || matcher->can_terminate();
  if (result.loop_guard_fired && result.stop_reason == "max_tokens" && matcher) result.stop_reason = "loop_guard";
  return result;
}

GenerateResult generate(const Model& model, const CompiledGrammar* grammar, std::string_view prompt,
                        const GenerateOptions& options, const PieceCallback& on_piece) {
  const Tokenizer tok = Tokenizer::from_file(model.info().path);
  return generate(model, tok, grammar, prompt, options, on_piece);
}

}  // namespace stencil
