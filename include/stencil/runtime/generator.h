// stencil::generate: the decoding loop that ties a Model, its Tokenizer, a Sampler and
// (optionally) a CompiledGrammar together. Per step: forward pass -> logits copied into a
// scratch vector -> budget-aware grammar mask -> sample -> Matcher::accept_token -> the
// decoded piece streamed to a callback.
//
// Guarantees with a grammar: the output is complete and valid within max_tokens (the mask is
// the budget-aware one, tokens_left = max_tokens - generated), and a loop guard stops runs of
// one repeated token (see GenerateOptions::loop_guard_run).
//
// Not here: batching, speculative decoding, KV-cache reuse between calls, computing the next mask
// concurrently with the forward pass.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stencil {

class Model;
class Tokenizer;
class CompiledGrammar;

struct GenerateOptions {
  // Generated-token budget; EOS is not counted. With a grammar the output is always complete
  // within it. Clamped to what fits into the model's context after the prompt.
  int32_t max_tokens = 256;
  // Sampler settings (see SamplerOptions): temperature <= 0 is greedy.
  float temperature = 1.0f;
  int32_t top_k = 0;
  float top_p = 1.0f;
  float min_p = 0.0f;
  float repetition_penalty = 1.0f;
  uint64_t seed = 0;
  // System prompt for the chat template (ignored when raw).
  std::string system{};
  // True: the prompt is tokenized as is (BOS added when the tokenizer asks for it), no chat template.
  bool raw = false;
  // Loop guard: when the same token has been taken more than this many times in a row (spaces,
  // one letter ...), the rest of the output is steered to a shortest way to close. With a grammar:
  // each later step uses the budget-aware mask with the smallest budget that still allows a token
  // (found by binary search), minus the last token when anything else is allowed, so the output
  // ends within that many tokens. Without a grammar: generation stops. 0: off.
  int32_t loop_guard_run = 32;
  // Jump-forward: when the grammar fixes the next bytes (keys, closing brackets), their tokens (longest
  // vocabulary pieces first, at most 16 at a time) are appended without sampling and evaluated in one
  // batch; counted in forced_tokens. Skipped when they would leave no valid end within the budget.
  bool jump_forward = true;
  // Computes each step's grammar work (jump-forward, mask) on a second thread while the model
  // evaluates the previous token: the mask depends only on the tokens accepted so far, so only the
  // part that outlasts the forward pass delays decoding. Off: the same work in line (same output).
  bool overlap_mask = true;
  // Added to the logits before masking (token id, bias). For tests that force a model into bad
  // behaviour (e.g. a huge bias toward whitespace); empty in normal use.
  std::vector<std::pair<int32_t, float>> logit_bias{};
};

struct GenerateTiming {
  double load_s = 0;        // filled by the caller that loaded the model (generate() leaves it 0)
  double prompt_tok_s = 0;  // prompt tokens per second of the prompt's forward pass
  double gen_tok_s = 0;     // generated tokens per second of the decoding loop (all costs included)
  double mask_share = 0;    // share of the decoding loop spent waiting for, filling and applying masks, in [0, 1]
                            // (with overlap_mask, mask work hidden behind the forward pass is not counted)
  double mask_work_share = 0;  // the grammar work itself (jump-forward + mask fills), hidden or not, per loop time
};

struct GenerateResult {
  std::string text;  // the generated text (EOS not rendered)
  // With a grammar: the matcher terminated or can terminate (the text is a complete match).
  // Without one: true.
  bool valid = false;
  int32_t prompt_tokens = 0;
  int32_t generated_tokens = 0;  // EOS not counted
  // Generated tokens the grammar left no choice about: jump-forward tokens and steps whose mask had one token.
  int32_t forced_tokens = 0;
  bool loop_guard_fired = false;
  // "eos", "max_tokens", "loop_guard" or "no_token" (the mask or the sampler left nothing).
  std::string stop_reason;
  std::vector<int32_t> tokens;   // the generated ids (EOS not included)
  GenerateTiming timing;
};

// Called with each piece of text as soon as it is complete UTF-8 (may be called with pieces of
// any size; the concatenation equals GenerateResult::text).
using PieceCallback = std::function<void(std::string_view piece)>;

// Generates from `prompt`. `grammar` may be null (free text); otherwise it must have been compiled
// from model.vocabulary() (same ids), else ArgumentError. Throws ArgumentError when the prompt does
// not fit into the context, and whatever Model/Session throw.
GenerateResult generate(const Model& model, const Tokenizer& tokenizer, const CompiledGrammar* grammar,
                        std::string_view prompt, const GenerateOptions& options, const PieceCallback& on_piece = {});

// Same, with the tokenizer read from the model's file (Tokenizer::from_file(model.info().path)).
GenerateResult generate(const Model& model, const CompiledGrammar* grammar, std::string_view prompt,
                        const GenerateOptions& options, const PieceCallback& on_piece = {});

}  // namespace stencil
