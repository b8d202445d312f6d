// Class runs (class_runs.h): the trie walk takes a subtree whole when every byte
// below it is in a character class the state surely reads that deep. Checked two
// ways: the run values of small automata, exactly; and, on random walks through
// grammars whose masks are decided mostly by class runs (patternProperties keys,
// unanchored and counted patterns, a called pattern rule that may end after any
// character), every fast mask equals the brute-force one.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <random>

#include "engine/class_runs.h"
#include "engine/compiled_grammar_impl.h"
#include "engine/engine_test_util.h"
#include "stencil/stencil.h"

namespace stencil {
namespace {

namespace fs = std::filesystem;
using engine::ClassRuns;

std::optional<Vocabulary> load(const char* name) {
  const fs::path path = fs::path(STENCIL_DATA_DIR) / "tokenizers" / name;
  if (!fs::exists(path)) return std::nullopt;
  return Vocabulary::from_file(path.string());
}

struct Runs {
  std::vector<uint8_t> plain;
  engine::TextRuns text;
  std::unique_ptr<ClassRuns> classes;
};

Runs runs_of(const CompiledGrammar& g) {
  const engine::Automaton& a = g.impl().automaton;
  Runs r;
  r.plain.resize(a.states.size());
  for (size_t s = 0; s < a.states.size(); ++s) r.plain[s] = !a.states[s].is_final && !a.has_calls(static_cast<int32_t>(s));
  r.text = engine::TextRuns::build(a, r.plain);
  r.classes = std::make_unique<ClassRuns>(a, *g.impl().sorted, r.text);
  return r;
}

engine::ByteSet lowercase() {
  engine::ByteSet s{};
  engine::add_range(s, 'a', 'z');
  return s;
}

// Follows byte c from state s (-1 when there is no edge).
int32_t step(const CompiledGrammar& g, int32_t s, char c) { return g.impl().automaton.step(s, static_cast<uint8_t>(c)); }

// The unit tests' vocabulary: Llama-3 (its class tokens pass every gate).
class ClassRunValues : public ::testing::Test {
 protected:
  void SetUp() override {
    vocab_ = load("llama3/tokenizer.json");
    if (!vocab_) GTEST_SKIP() << "run scripts/prepare-data";
    compiler_.emplace(*vocab_);
  }
  Compiler& compiler() { return *compiler_; }

 private:
  std::optional<Vocabulary> vocab_;
  std::optional<Compiler> compiler_;
};

TEST_F(ClassRunValues, CountsTheBytesACountedClassSurelyReads) {
  CompiledGrammar g = compiler().compile_regex("[a-z]{3,6}[0-9]");
  Runs r = runs_of(g);
  int32_t s = g.impl().automaton.root_start();
  // Before the k-th letter, 6 - k more letters are sure to be read.
  for (int k = 0; k < 5; ++k) {
    const int16_t* cls = r.classes->classes_of(s);
    ASSERT_GE(cls[0], 0) << "no class before letter " << k;
    EXPECT_EQ(r.classes->bytes(cls[0]), lowercase());
    EXPECT_EQ(r.classes->run(cls[0], s).safe, 6 - k) << "before letter " << k;
    s = step(g, s, 'q');
    ASSERT_GE(s, 0);
  }
  // Before the sixth letter the run is one byte long (the next state reads only digits): not
  // worth one; after it there is no letter to read at all.
  EXPECT_EQ(r.classes->classes_of(s)[0], -1);
  s = step(g, s, 'q');
  ASSERT_GE(s, 0);
  EXPECT_EQ(r.classes->classes_of(s)[0], -1);
}

TEST_F(ClassRunValues, AnUnboundedClassRunsForEver) {
  CompiledGrammar g = compiler().compile_regex("[a-z]+x");
  Runs r = runs_of(g);
  const int32_t after_one = step(g, g.impl().automaton.root_start(), 'q');
  ASSERT_GE(after_one, 0);
  const int16_t* cls = r.classes->classes_of(after_one);
  ASSERT_GE(cls[0], 0);
  const ClassRuns::Run run = r.classes->run(cls[0], after_one);
  EXPECT_EQ(run.safe, ClassRuns::kLong);
  EXPECT_EQ(run.reach_bytes, 1) << "every state of the run needs one more byte, the 'x'";
}

TEST_F(ClassRunValues, SmallOrOneOffClassesGetNone) {
  // Digits: too few tokens start with two of them for a run to pay (kMinClassPairTokens).
  Runs digits = runs_of(compiler().compile_regex("[0-9]{1,40}"));
  EXPECT_FALSE(digits.classes->any());
  // Many bytes read once, none of them again: no run of two.
  Runs once = runs_of(compiler().compile_regex("[a-zA-Z]x"));
  EXPECT_FALSE(once.classes->any());
}

TEST_F(ClassRunValues, ADotReadsWholeCharactersOfMostLeadBytes) {
  // A called pattern rule: its states are final (the key may end after any character), so no
  // text run covers them.
  CompiledGrammar g = compiler().compile_json_schema(R"({"type":"object","patternProperties":{"^.{2,300}$":{}}})");
  Runs r = runs_of(g);
  int32_t state = -1, utf8_class = -1;
  for (int32_t s = 0; s < static_cast<int32_t>(g.impl().automaton.states.size()) && state < 0; ++s) {
    const int16_t* cls = r.classes->classes_of(s);
    for (int j = 0; j < ClassRuns::kClassesPerState; ++j) {
      if (cls[j] >= 0 && engine::has_utf8(r.classes->bytes(cls[j]))) state = s, utf8_class = cls[j];
    }
  }
  ASSERT_GE(utf8_class, 0) << "a '.' reads multi-byte characters: it gets a class of characters";
  const engine::ByteSet& c = r.classes->bytes(utf8_class);
  EXPECT_TRUE(engine::has_byte(c, 'q'));
  EXPECT_FALSE(engine::has_byte(c, '\\')) << "a backslash leads into an escape, which does not read the class";
  EXPECT_TRUE(engine::has_byte(c, 0xc3)) << "every character of lead byte 0xc3 (U+00C0-U+00FF) is read";
  EXPECT_FALSE(engine::has_byte(c, 0xe2)) << "lead 0xe2 includes U+2028/U+2029, which '.' leaves out";
  EXPECT_GE(r.classes->run(utf8_class, state).safe, 1);
}

struct Case {
  const char* name;
  const char* schema;   // JSON Schema, or nullptr
  const char* grammar;  // GBNF, or nullptr
};

const Case kCases[] = {
    {"pattern_property_keys", R"({"type":"object","patternProperties":{"^[0-9a-zA-Z_-]{1,255}$":{"type":"integer"}}})", nullptr},
    {"unanchored_hex", R"({"type":"object","properties":{"id":{"type":"string","pattern":"[0-9a-f]{32}"}},"required":["id"]})",
     nullptr},
    {"any_key_of_up_to_255", R"({"type":"object","patternProperties":{"^.{1,255}$":{"type":"boolean"}}})", nullptr},
    {"bounded_lowercase", R"({"type":"array","items":{"type":"string","pattern":"^[a-z]{3,40}$"},"maxItems":4})", nullptr},
    {"negated_class_text", R"({"type":"array","items":{"type":"string","pattern":"^[^,;]{1,60}$"},"maxItems":3})", nullptr},
    {"called_class_rule", nullptr,
     "root ::= \"<\" name \">\" name \"</\" name \">\"\nname ::= [a-zA-Z0-9_]{2,50}\n"},
};

void walk_and_compare(const Vocabulary& vocab, const CompiledGrammar& g, const std::string& name, uint64_t seed, int& compared) {
  std::mt19937_64 rng(seed);
  for (int walk = 0; walk < 2; ++walk) {
    constexpr int kSteps = 40;
    Matcher m(g);
    std::string out;
    for (int step = 0; step < kSteps && !m.is_terminated(); ++step) {
      TokenBitmask fast(vocab.size());
      ASSERT_TRUE(m.fill_next_token_bitmask(fast));
      TokenBitmask ref = testing::reference_mask(m);
      ASSERT_EQ(fast.words, ref.words) << name << " after '" << out << "':\n" << testing::describe_difference(vocab, fast, ref);
      ++compared;
      const int32_t t = testing::pick_allowed(fast, vocab, rng, 0.05);
      ASSERT_GE(t, 0) << name << ": dead end after '" << out << "'";
      ASSERT_TRUE(m.accept_token(t));
      if (!m.is_terminated()) out += vocab.token_bytes(t);
    }
  }
}

class ClassRunMasks : public ::testing::TestWithParam<const char*> {};

TEST_P(ClassRunMasks, FastMaskEqualsBruteForce) {
  std::optional<Vocabulary> loaded = load(GetParam());
  if (!loaded) GTEST_SKIP() << GetParam() << " is absent: run scripts/prepare-data";
  const Vocabulary& vocab = *loaded;
  Compiler compiler(vocab);
  int compared = 0, with_classes = 0;
  uint64_t seed = 11;
  for (const Case& c : kCases) {
    CompiledGrammar g = testing::compile_schema_or_grammar(compiler, c.schema, c.grammar);
    with_classes += runs_of(g).classes->any();
    walk_and_compare(vocab, g, c.name, ++seed, compared);
    if (HasFatalFailure()) return;
  }
  // The point of the cases: most of them exercise class runs (the byte-level vocabularies' class
  // tokens are many enough for every case but the lowercase array's short strings).
  EXPECT_GE(with_classes, 3) << GetParam();
  std::printf("[ class runs ] %s: %d masks compared, %d of %zu grammars with classes\n", GetParam(), compared, with_classes,
              std::size(kCases));
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, ClassRunMasks,
                         ::testing::Values("llama3/tokenizer.json", "gpt2/tokenizer.json", "llama2/ggml-vocab-llama-spm.gguf"),
                         testing::tokenizer_name);

}  // namespace
}  // namespace stencil
