// stencil::generate with the real stories260K model: schema-constrained outputs always parse and
// satisfy the schema (several seeds, small budgets), seeds and greedy decoding are reproducible,
// and a model forced into bad behaviour (logits biased toward whitespace or one repeated token)
// still ends with bounded, valid JSON. Skips when the shared model is absent.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "stencil/compiler.h"
#include "stencil/errors.h"
#include "stencil/runtime/generator.h"
#include "stencil/runtime/model.h"
#include "stencil/runtime/tokenizer.h"

namespace stencil {
namespace {

const std::string kModel = std::string(STENCIL_SHARED_DIR) + "/models/stories260K/stories260K-f32.gguf";
const std::string kWeather = std::string(STENCIL_SOURCE_DIR) + "/examples/schemas/weather.json";

constexpr const char* kTinySchema = R"({
  "type": "object",
  "properties": {"n": {"type": "integer"}, "c": {"enum": ["red", "green"]}},
  "required": ["n", "c"],
  "additionalProperties": false
})";

std::string read(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

class GeneratorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(kModel)) return;
    model_ = new Model(Model::load(kModel, {.threads = 1}));
    tok_ = new Tokenizer(Tokenizer::from_file(kModel));
    compiler_ = new Compiler(model_->vocabulary());
  }
  static void TearDownTestSuite() {
    delete compiler_;
    delete tok_;
    delete model_;
    compiler_ = nullptr;
    tok_ = nullptr;
    model_ = nullptr;
  }
  void SetUp() override {
    if (model_ == nullptr) GTEST_SKIP() << "stories260K model absent: " << kModel;
  }
  GenerateResult run(const CompiledGrammar* g, const GenerateOptions& o, std::string* streamed = nullptr) {
    return generate(*model_, *tok_, g, "What's the weather in Paris, in Celsius?", o,
                    [&](std::string_view piece) {
                      if (streamed) streamed->append(piece);
                    });
  }
  static Model* model_;
  static Tokenizer* tok_;
  static Compiler* compiler_;
};
Model* GeneratorTest::model_ = nullptr;
Tokenizer* GeneratorTest::tok_ = nullptr;
Compiler* GeneratorTest::compiler_ = nullptr;

void expect_weather(const GenerateResult& r) {
  ASSERT_TRUE(r.valid) << r.text;
  const nlohmann::json j = nlohmann::json::parse(r.text, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(j.is_object()) << r.text;
  ASSERT_EQ(j.size(), 3u) << r.text;
  ASSERT_TRUE(j["location"].is_string()) << r.text;
  const std::string loc = j["location"].get<std::string>();
  EXPECT_GE(loc.size(), 1u);
  EXPECT_TRUE(j["unit"] == "celsius" || j["unit"] == "fahrenheit") << r.text;
  ASSERT_TRUE(j["days"].is_number_integer()) << r.text;
  EXPECT_GE(j["days"].get<int64_t>(), 1);
  EXPECT_LE(j["days"].get<int64_t>(), 14);
}

TEST_F(GeneratorTest, WeatherSchemaValidForManySeeds) {
  const CompiledGrammar g = compiler_->compile_json_schema(read(kWeather));
  std::set<std::string> distinct;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::string streamed;
    const GenerateResult r = run(&g, {.max_tokens = 128, .temperature = 1.0f, .seed = seed}, &streamed);
    expect_weather(r);
    EXPECT_EQ(streamed, r.text);
    EXPECT_EQ(r.stop_reason, "eos");
    EXPECT_LE(r.generated_tokens, 128);
    EXPECT_EQ(r.generated_tokens, static_cast<int32_t>(r.tokens.size()));
    EXPECT_EQ(tok_->decode(r.tokens), r.text);
    EXPECT_GT(r.prompt_tokens, 0);
    EXPECT_GT(r.forced_tokens, 0);  // the keys are fixed by the schema
    EXPECT_GE(r.timing.mask_share, 0.0);
    EXPECT_LE(r.timing.mask_share, 1.0);
    distinct.insert(r.text);
  }
  EXPECT_GT(distinct.size(), 1u);  // seeds matter
}

TEST_F(GeneratorTest, NestedToolSchemaValidForManySeeds) {
  // An OpenAI-style tool call: nested object, bounded array, boolean, number, optional key.
  const CompiledGrammar g = compiler_->compile_json_schema(R"({
    "type": "object",
    "properties": {
      "name": {"const": "search"},
      "arguments": {
        "type": "object",
        "properties": {
          "query": {"type": "string", "maxLength": 20},
          "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 1, "maxItems": 3},
          "exact": {"type": "boolean"},
          "score": {"type": "number"}
        },
        "required": ["query", "tags", "exact"],
        "additionalProperties": false
      }
    },
    "required": ["name", "arguments"],
    "additionalProperties": false
  })");
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const GenerateResult r = run(&g, {.max_tokens = 160, .temperature = 1.0f, .seed = seed});
    ASSERT_TRUE(r.valid) << r.text;
    EXPECT_LE(r.generated_tokens, 160);
    const nlohmann::json j = nlohmann::json::parse(r.text, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.text;
    EXPECT_EQ(j["name"], "search") << r.text;
    const nlohmann::json& args = j["arguments"];
    ASSERT_TRUE(args.is_object()) << r.text;
    EXPECT_TRUE(args["query"].is_string()) << r.text;
    ASSERT_TRUE(args["tags"].is_array()) << r.text;
    EXPECT_GE(args["tags"].size(), 1u);
    EXPECT_LE(args["tags"].size(), 3u);
    for (const auto& t : args["tags"]) EXPECT_TRUE(t == "a" || t == "b" || t == "c") << r.text;
    EXPECT_TRUE(args["exact"].is_boolean()) << r.text;
    if (args.contains("score")) {
      EXPECT_TRUE(args["score"].is_number()) << r.text;
    }
    for (const auto& [k, v] : args.items()) {
      EXPECT_TRUE(k == "query" || k == "tags" || k == "exact" || k == "score") << r.text;
    }
  }
}

TEST_F(GeneratorTest, JumpForwardAppendsFixedKeysWithoutSampling) {
  CompileOptions compact;
  compact.json.whitespace = WhitespacePolicy::kCompact;
  const Compiler compiler(model_->vocabulary(), compact);
  const CompiledGrammar g = compiler.compile_json_schema(read(kWeather));
  for (uint64_t seed = 0; seed < 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const GenerateResult on = run(&g, {.max_tokens = 96, .temperature = 1.0f, .seed = seed});
    const GenerateResult off = run(&g, {.max_tokens = 96, .temperature = 1.0f, .seed = seed, .jump_forward = false});
    expect_weather(on);
    expect_weather(off);
    // The whole prefix {"location":" is fixed: 13 bytes, spelled without sampling.
    EXPECT_EQ(on.text.rfind("{\"location\":\"", 0), 0u) << on.text;
    EXPECT_GE(on.forced_tokens, 8) << on.text;
    EXPECT_GT(on.forced_tokens, off.forced_tokens);
  }
  // Under a tight budget jump-forward still leaves room for a valid end.
  const CompiledGrammar tiny = compiler.compile_json_schema(kTinySchema);
  // (17 tokens is the least this schema needs in compact form with this vocabulary: {"n":0,"c":"red"}.)
  for (int32_t budget : {17, 18, 24}) {
    for (uint64_t seed = 0; seed < 3; ++seed) {
      const GenerateResult r = run(&tiny, {.max_tokens = budget, .temperature = 1.5f, .seed = seed});
      SCOPED_TRACE("budget " + std::to_string(budget) + ": " + r.text + " stop " + r.stop_reason);
      EXPECT_LE(r.generated_tokens, budget);
      EXPECT_TRUE(r.valid);
      EXPECT_TRUE(nlohmann::json::parse(r.text, nullptr, false).is_object());
    }
  }
  EXPECT_FALSE(run(&tiny, {.max_tokens = 16, .seed = 0}).valid);
}

TEST_F(GeneratorTest, SmallBudgetsStillGiveCompleteJson) {
  const CompiledGrammar tiny = compiler_->compile_json_schema(kTinySchema);
  for (int32_t budget : {20, 24, 40}) {
    for (uint64_t seed = 0; seed < 4; ++seed) {
      SCOPED_TRACE("budget " + std::to_string(budget) + " seed " + std::to_string(seed));
      const GenerateResult r = run(&tiny, {.max_tokens = budget, .temperature = 1.5f, .seed = seed});
      ASSERT_TRUE(r.valid) << r.text;
      EXPECT_LE(r.generated_tokens, budget);
      const nlohmann::json j = nlohmann::json::parse(r.text, nullptr, false);
      ASSERT_TRUE(j.is_object()) << r.text;
      EXPECT_TRUE(j["n"].is_number_integer()) << r.text;
      EXPECT_TRUE(j["c"] == "red" || j["c"] == "green") << r.text;
    }
  }
  // Below the fewest tokens the schema needs (about 20 with this vocabulary of short pieces) nothing can start.
  const GenerateResult none = run(&tiny, {.max_tokens = 12, .seed = 0});
  EXPECT_FALSE(none.valid);
  EXPECT_EQ(none.stop_reason, "no_token");
  EXPECT_EQ(none.text, "");
  const CompiledGrammar weather = compiler_->compile_json_schema(read(kWeather));
  for (uint64_t seed = 0; seed < 4; ++seed) {
    SCOPED_TRACE("weather, seed " + std::to_string(seed));
    const GenerateResult r = run(&weather, {.max_tokens = 48, .temperature = 1.5f, .seed = seed});
    expect_weather(r);
    EXPECT_LE(r.generated_tokens, 48);
  }
}

TEST_F(GeneratorTest, SameSeedSameOutputAndGreedyIsDeterministic) {
  const CompiledGrammar g = compiler_->compile_json_schema(read(kWeather));
  const GenerateOptions sampled{.max_tokens = 96, .temperature = 1.0f, .top_k = 40, .top_p = 0.95f, .seed = 7};
  const GenerateResult a = run(&g, sampled), b = run(&g, sampled);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.text, b.text);
  const GenerateOptions greedy{.max_tokens = 96, .temperature = 0.0f, .seed = 1};
  const GenerateOptions greedy_other_seed{.max_tokens = 96, .temperature = 0.0f, .seed = 2};
  const GenerateResult c = run(&g, greedy), d = run(&g, greedy_other_seed);
  EXPECT_EQ(c.tokens, d.tokens);
  expect_weather(c);
}

TEST_F(GeneratorTest, OverlappedMaskGivesTheSameOutputAsInline) {
  // The lookahead thread does the same grammar work as the inline path, only earlier: every seed, budget
  // (incl. ones that force early closing) and the loop guard give identical tokens and forced counts.
  const CompiledGrammar weather = compiler_->compile_json_schema(read(kWeather));
  const CompiledGrammar json = compiler_->compile_builtin_json();
  for (const CompiledGrammar* g : {&weather, &json}) {
    for (uint64_t seed = 0; seed < 6; ++seed) {
      for (int32_t budget : {24, 64, 160}) {
        SCOPED_TRACE("seed " + std::to_string(seed) + " budget " + std::to_string(budget));
        GenerateOptions o{.max_tokens = budget, .temperature = 1.0f, .seed = seed, .loop_guard_run = 4};
        o.overlap_mask = true;
        const GenerateResult a = run(g, o);
        o.overlap_mask = false;
        const GenerateResult b = run(g, o);
        EXPECT_EQ(a.tokens, b.tokens);
        EXPECT_EQ(a.forced_tokens, b.forced_tokens);
        EXPECT_EQ(a.stop_reason, b.stop_reason);
        EXPECT_EQ(a.loop_guard_fired, b.loop_guard_fired);
        EXPECT_EQ(a.valid, b.valid);
        if (budget >= 64) EXPECT_TRUE(a.valid) << a.text;  // 24 is below what the weather schema needs
        EXPECT_GE(a.timing.mask_work_share, 0.0);
        EXPECT_LE(a.timing.mask_work_share, 1.0);
      }
    }
  }
}

TEST_F(GeneratorTest, WhitespaceBiasStaysBoundedAndValid) {
  // A model that wants nothing but whitespace: the grammar's bounded whitespace plus the budget still end it.
  const Vocabulary vocab = model_->vocabulary();
  std::vector<std::pair<int32_t, float>> bias;
  for (int32_t id = 0; id < vocab.size(); ++id) {
    const std::string_view b = vocab.token_bytes(id);
    if (!b.empty() && b.find_first_not_of(" \n\t\r") == std::string_view::npos) bias.emplace_back(id, 50.0f);
  }
  ASSERT_FALSE(bias.empty());
  const CompiledGrammar g = compiler_->compile_json_schema(read(kWeather));
  for (uint64_t seed = 0; seed < 3; ++seed) {
    const GenerateResult r = run(&g, {.max_tokens = 96, .temperature = 1.0f, .seed = seed, .logit_bias = bias});
    expect_weather(r);
    EXPECT_LE(r.generated_tokens, 96);
  }
}

TEST_F(GeneratorTest, RepeatedTokenTripsLoopGuardAndStillCloses) {
  // A model that wants one letter forever: inside the location string (up to 64 bytes) the loop guard
  // fires after loop_guard_run repeats and steers to the shortest valid end.
  const int32_t a = tok_->find_token("a");
  ASSERT_GE(a, 0);
  const CompiledGrammar g = compiler_->compile_json_schema(read(kWeather));
  const GenerateResult r =
      run(&g, {.max_tokens = 200, .temperature = 1.0f, .seed = 3, .loop_guard_run = 8, .logit_bias = {{a, 100.0f}}});
  expect_weather(r);
  EXPECT_TRUE(r.loop_guard_fired) << r.text;
  const nlohmann::json j = nlohmann::json::parse(r.text);
  // 9 repeats trip the guard; the letter is dropped from the mask afterwards whenever anything else is allowed.
  EXPECT_LE(j["location"].get<std::string>().size(), 9u) << r.text;
  EXPECT_LT(r.generated_tokens, 60);

  // Same bias, guard off: the string runs to its maxLength of 64 instead.
  const GenerateResult off =
      run(&g, {.max_tokens = 200, .temperature = 1.0f, .seed = 3, .loop_guard_run = 0, .logit_bias = {{a, 100.0f}}});
  expect_weather(off);
  EXPECT_FALSE(off.loop_guard_fired);
  EXPECT_EQ(nlohmann::json::parse(off.text)["location"].get<std::string>(), std::string(64, 'a'));
}

TEST_F(GeneratorTest, FreeTextRespectsBudgetAndLoopGuard) {
  const GenerateResult r = run(nullptr, {.max_tokens = 20, .temperature = 0.0f, .raw = true});
  EXPECT_TRUE(r.valid);
  EXPECT_LE(r.generated_tokens, 20);
  EXPECT_EQ(tok_->decode(r.tokens), r.text);
  const int32_t a = tok_->find_token("a");
  const GenerateResult loop =
      run(nullptr, {.max_tokens = 100, .temperature = 0.0f, .loop_guard_run = 5, .logit_bias = {{a, 100.0f}}});
  EXPECT_TRUE(loop.loop_guard_fired);
  EXPECT_EQ(loop.stop_reason, "loop_guard");
  EXPECT_EQ(loop.generated_tokens, 6);
  EXPECT_EQ(loop.text, "aaaaaa");
}

TEST_F(GeneratorTest, GrammarFromAnotherVocabularyIsRejected) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 1000; ++i) tokens.push_back("t" + std::to_string(i));
  const Compiler other(Vocabulary::from_tokens(tokens, {0}));
  const CompiledGrammar g = other.compile_regex("t1");
  EXPECT_THROW(run(&g, {.max_tokens = 8}), ArgumentError);
}

}  // namespace
}  // namespace stencil
