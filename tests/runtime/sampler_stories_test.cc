// End to end through the text half: tokenizer -> stencil::Model (the forward pass) -> Sampler ->
// TextStreamDecoder reproduces llama.cpp's greedy stories260K generation (ids and text) from
// shared/models/reference/stories260k_generation.json, and seeded sampling is reproducible.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "stencil/runtime/model.h"
#include "stencil/runtime/sampler.h"
#include "stencil/runtime/tokenizer.h"

namespace stencil {
namespace {

const std::string kModel = std::string(STENCIL_SHARED_DIR) + "/models/stories260K/stories260K-f32.gguf";
const std::string kReference = std::string(STENCIL_SHARED_DIR) + "/models/reference/stories260k_generation.json";

std::vector<int32_t> generate(const Model& model, const Tokenizer& tok, Sampler& sampler, int n,
                              std::string* text) {
  Session session(model);
  const std::vector<int32_t> prompt = tok.encode("Once upon a time", {.add_special = true});
  std::span<const float> logits = session.eval(prompt);
  TextStreamDecoder stream(tok);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    const SampleResult r = sampler.sample(logits);
    if (!r.ok()) break;
    out.push_back(r.token);
    sampler.accept(r.token);
    text->append(stream.push(r.token));
    logits = session.eval({&out.back(), 1});
  }
  text->append(stream.flush());
  return out;
}

TEST(SamplerStoriesTest, GreedyReproducesLlamaCpp) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kReference)) {
    GTEST_SKIP() << "stories260K model or reference generation absent";
  }
  std::ifstream in(kReference);
  const auto ref = nlohmann::json::parse(in)["runs"]["f32_unconstrained_200"]["kv_f32_fa_off"];
  const Model model = Model::load(kModel, {.threads = 1});
  const Tokenizer tok = Tokenizer::from_file(kModel);
  Sampler greedy({.temperature = 0.0f});
  std::string text;
  const std::vector<int32_t> ids = generate(model, tok, greedy, 200, &text);
  EXPECT_EQ(ids, ref["generated_ids"].get<std::vector<int32_t>>());
  EXPECT_EQ(text, ref["text"].get<std::string>());
}

TEST(SamplerStoriesTest, SeededSamplingIsReproducible) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "stories260K model absent";
  const Model model = Model::load(kModel, {.threads = 1});
  const Tokenizer tok = Tokenizer::from_file(kModel);
  const SamplerOptions opts{.temperature = 1.0f, .top_k = 40, .top_p = 0.95f, .seed = 1234};
  Sampler a(opts, tok.size()), b(opts, tok.size()), c({.temperature = 1.0f, .top_k = 40, .top_p = 0.95f, .seed = 99});
  std::string ta, tb, tc;
  const auto ia = generate(model, tok, a, 60, &ta);
  const auto ib = generate(model, tok, b, 60, &tb);
  const auto ic = generate(model, tok, c, 60, &tc);
  EXPECT_EQ(ia, ib);
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ia, ic);
  EXPECT_EQ(tok.decode(ia), ta);
}

}  // namespace
}  // namespace stencil
