// Exactness of entries computed from a first-byte reference (MaskCache::classify_beside): a state
// that reads most first bytes to the same states as another (the prefixes of a key trie beside the
// free key string, the partial matches of an unanchored pattern beside its "nothing matched yet"
// state) copies that state's classes for the tokens starting with those bytes and walks only the
// rest. Random walks seldom reach such states, so each case spells a document out one byte token
// at a time, and at every byte the fast mask must equal the brute-force one.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <string>

#include "engine/engine_test_util.h"
#include "stencil/stencil.h"

namespace stencil {
namespace {

namespace fs = std::filesystem;

struct Case {
  const char* name;
  const char* schema;    // JSON Schema, or nullptr
  const char* grammar;   // GBNF, or nullptr
  const char* document;  // spelled out byte by byte
};

const Case kCases[] = {
    // Keys other than the named properties: after "day_of" only '_' leads on in the trie, every
    // other byte to the free key string. After "day_of_week" the quote starts that property's
    // integer, where the free key string takes any value: tokens such as `":"` differ.
    {"key_trie_beside_free_keys",
     R"({"type":"object","properties":{"day_of_week":{"type":"integer"},"day_of_weekend":{"type":"boolean"},
         "day_of_month":{"type":"integer"}},"additionalProperties":true})",
     nullptr, R"({"day_of_week":1,"day_of_weekend":true,"day_of":2,"dax":3,"day_of_weeks":4})"},
    // A string that must end in 'a': after an 'a' the closing quote is allowed, elsewhere it is not.
    {"pattern_end_quote_differs",
     R"({"type":"array","items":{"type":"object","properties":{"s":{"type":"string","pattern":"a$"}},"required":["s"]}})",
     nullptr, R"([{"s":"xya"},{"s":"a"},{"s":"baba"}])"},
    // Unanchored counted digits: the states after one or two digits read every other byte back to
    // the state before any.
    {"unanchored_digits",
     R"({"type":"object","properties":{"code":{"type":"string","pattern":"[0-9]{3}"},"n":{"type":"integer"}},"required":["code","n"]})",
     nullptr, R"({"code":"a1b22c333d","n":5})"},
    // In a called rule (item is recursive), whose tokens that end it are uncertain and refined per
    // caller. The second string must not end in 'a': the state after an 'a' takes its classes from
    // the state after any other character, whose tokens starting with the quote ("}, "}], "}),...)
    // end the rule, and which it must not keep.
    {"called_rule_quote_only_elsewhere", nullptr,
     "root ::= \"[\" item (\",\" item)* \"]\"\n"
     "item ::= \"{\" t \":\" u \"}\" | \"(\" item \")\"\n"
     "t ::= \"\\\"\" [^\"]* \"a\" \"\\\"\"\n"
     "u ::= \"\\\"\" [^\"]* [^a\"] \"\\\"\"\n",
     R"([{"xa":"ab"},({"a":"b"}),{"aa":"aab"}])"},
    // Both end the rule: after an 'x' a `]` does too. The state after 'x' keeps the tokens starting
    // with '}' as the state before has them (refined per caller) and walks those starting with ']'.
    {"called_rule_both_end", nullptr,
     "root ::= \"[\" item (\",\" item)* \"]\"\n"
     "item ::= \"{\" ([a-w] | \"x\")* (\"}\" | \"x]\") | \"(\" item \")\"\n",
     "[{abx],{ax},({xx]),{},(({x}))]"},
    // After an 'x' only '}' ends it, after a, b or c a `]` does too: the state after 'x' keeps the
    // '}' tokens (refined per caller) of the state after the others, not those starting with `]`
    // (`],` `])` `]]`). Few tokens are made of a-c: the accepted sets are id lists, not bitsets.
    {"called_rule_one_end_elsewhere", nullptr,
     "root ::= \"[\" item (\",\" item)* \"]\"\n"
     "item ::= \"{\" [a-cx]* (\"}\" | [a-c] \"]\") | \"(\" item \")\"\n",
     "[{ab],{ax},({xa]),{x},(({cx}))]"},
};

// A rule called from more places than the cache refines eagerly (the same pattern under many
// properties): its entries are lazy, and so are those computed from a lazy reference.
std::string many_parents() {
  std::string s = R"({"type":"object","properties":{)";
  for (int k = 0; k < 80; ++k) s += (k ? "," : "") + std::string("\"p") + std::to_string(k) + R"(":{"$ref":"#/$defs/t"})";
  s += R"(},"$defs":{"t":{"type":"string","pattern":"ab"}}})";
  return s;
}

// Token ids of the one-byte tokens (byte-level BPE has one per byte; SentencePiece its byte fallback).
std::array<int32_t, 256> byte_tokens(const Vocabulary& vocab) {
  std::array<int32_t, 256> out;
  out.fill(-1);
  for (int32_t id = 0; id < vocab.size(); ++id) {
    if (vocab.kind(id) != TokenKind::kNormal) continue;
    const std::string_view b = vocab.token_bytes(id);
    if (b.size() == 1 && out[static_cast<uint8_t>(b[0])] < 0) out[static_cast<uint8_t>(b[0])] = id;
  }
  return out;
}

void spell_and_compare(const Vocabulary& vocab, const CompiledGrammar& g, const std::string& name,
                       const std::string& document, int& compared) {
  const std::array<int32_t, 256> bytes = byte_tokens(vocab);
  Matcher m(g);
  for (size_t i = 0; i <= document.size(); ++i) {
    TokenBitmask fast(vocab.size());
    ASSERT_TRUE(m.fill_next_token_bitmask(fast));
    const TokenBitmask ref = testing::reference_mask(m);
    ASSERT_EQ(fast.words, ref.words) << name << " after '" << document.substr(0, i) << "':\n"
                                     << testing::describe_difference(vocab, fast, ref);
    ++compared;
    if (i == document.size()) break;
    const int32_t t = bytes[static_cast<uint8_t>(document[i])];
    ASSERT_GE(t, 0) << "no one-byte token for '" << document[i] << "'";
    ASSERT_TRUE(fast.allowed(t)) << name << ": '" << document.substr(0, i + 1) << "' rejected";
    ASSERT_TRUE(m.accept_token(t));
  }
  EXPECT_TRUE(m.can_terminate()) << name;
}

class FirstByteReference : public ::testing::TestWithParam<const char*> {};

TEST_P(FirstByteReference, FastMaskEqualsBruteForce) {
  const fs::path path = fs::path(STENCIL_DATA_DIR) / "tokenizers" / GetParam();
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent: run scripts/prepare-data";
  Vocabulary vocab = Vocabulary::from_file(path.string());
  Compiler compiler(vocab);
  int compared = 0;
  for (const Case& c : kCases) {
    const CompiledGrammar g = testing::compile_schema_or_grammar(compiler, c.schema, c.grammar);
    spell_and_compare(vocab, g, c.name, c.document, compared);
    if (HasFatalFailure()) return;
  }
  spell_and_compare(vocab, compiler.compile_json_schema(many_parents()), "many_parents",
                    R"({"p0":"xaab","p1":"ab","p2":"aaab"})", compared);
  std::printf("[ first-byte reference ] %s: %d masks compared\n", GetParam(), compared);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, FirstByteReference,
                         ::testing::Values("llama3/tokenizer.json", "llama2/ggml-vocab-llama-spm.gguf"),
                         testing::tokenizer_name);

}  // namespace
}  // namespace stencil
