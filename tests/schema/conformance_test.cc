// Conformance of the JSON Schema front end against the official JSON-Schema-Test-Suite
// (draft 2020-12 and draft 7, required tests and optional/format), checked with the
// reference recognizer.
//
// Schemas compile with JSON Schema's own defaults (strict = false) so the suite's
// expectations apply. Per group: "compiled", "unsupported" (an unsupported keyword or
// reference), or "error" (anything else: a bug to look at). Per instance of a compiled
// group, serialised compactly (flexible layout) and with nlohmann's 2-space pretty
// printer (pretty layout, indent 2):
//   valid:true  accepted -> pass; rejected -> "incomplete" (a valid document the grammar
//               cannot produce: other key orders, 1.0 for an integer, ...), tried again with
//               the keys reordered as they first appear in the schema text;
//   valid:false rejected -> pass; accepted -> "unsound" (a soundness bug).
// A schema that no value satisfies is an error at compile time; its valid:false instances
// count as rejected.
// Counts are printed per file and compared with tests/schema/conformance_baseline.json:
// a drop in passes or a rise in unsound instances fails. STENCIL_UPDATE_BASELINE=1 rewrites it.
//
// JsonSchemaTestSuiteTokens does the same through the real Llama-3 vocabulary: each group
// is compiled with Compiler::compile_json_schema (flexible and pretty, as above), each
// instance is tokenized by the runtime's Tokenizer (no BOS, special-token text as text)
// and walked with Matcher: every token must be in the mask and accepted, then EOS allowed.
// The same instance is also fed to a fresh Matcher as bytes (accept_bytes); a token walk
// that disagrees with the byte walk ("mismatch") is an engine bug and fails outright.
// Its counts are the "json_schema_test_suite_tokens" section of the baseline (update both
// sections one test at a time: run the binary, not ctest -j).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "grammar/recognizer.h"
#include "instance_key_order.h"
#include "schema/json_schema_grammar.h"
#include "stencil/compiler.h"
#include "stencil/errors.h"
#include "stencil/matcher.h"
#include "stencil/runtime/tokenizer.h"
#include "stencil/vocabulary.h"

namespace stencil::schema {
namespace {

namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;

struct Counts {
  int groups = 0, compiled = 0, unsupported = 0, errors = 0;
  int valid_pass = 0, incomplete = 0, invalid_pass = 0, unsound = 0;
  int passes() const { return valid_pass + invalid_pass; }
};

OJson to_json(const Counts& c) {
  return OJson{{"groups", c.groups},         {"compiled", c.compiled},   {"unsupported", c.unsupported},
               {"errors", c.errors},         {"valid_pass", c.valid_pass}, {"incomplete", c.incomplete},
               {"invalid_pass", c.invalid_pass}, {"unsound", c.unsound}};
}

fs::path suite_dir() {
  for (fs::path p : {fs::path(STENCIL_DATA_DIR) / "datasets/json-schema-test-suite",
                     fs::path(STENCIL_SHARED_DIR) / "datasets/json-schema-test-suite"}) {
    if (fs::exists(p / "tests")) return p;
  }
  return {};
}

fs::path baseline_path() { return fs::path(STENCIL_SOURCE_DIR) / "tests/schema/conformance_baseline.json"; }

OJson read_json_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return OJson::parse(ss.str());
}

bool is_unsupported(const std::string& msg) {
  return msg.find("unsupported") != std::string::npos || msg.find("unresolvable") != std::string::npos ||
         msg.find("not provably disjoint") != std::string::npos || msg.find("cannot merge") != std::string::npos ||
         msg.find("cannot be merged") != std::string::npos || msg.find("also matches the declared") != std::string::npos ||
         msg.find("regex front end") != std::string::npos;
}

void run_file(const fs::path& file, bool draft7, Counts& c, std::vector<std::string>& problems) {
  OJson groups;
  try {
    groups = read_json_file(file);
  } catch (const std::exception& e) {
    problems.push_back(file.string() + ": unreadable: " + e.what());
    return;
  }
  for (const auto& group : groups) {
    ++c.groups;
    // The suite's schemas do not say their draft; draft 7 files get their $schema so `$ref` siblings are ignored.
    OJson schema = group["schema"];
    if (draft7 && schema.is_object() && !schema.contains("$schema")) schema["$schema"] = "http://json-schema.org/draft-07/schema#";
    const std::string schema_text = schema.dump();
    JsonOptions flexible;
    flexible.strict = false;
    flexible.portable_patterns = false;  // the Test Suite checks the spec's ECMAScript classes exactly
    JsonOptions pretty = flexible;
    pretty.whitespace = WhitespacePolicy::kPretty;
    pretty.indent = 2;
    std::optional<SchemaGrammar> gf, gp;
    bool unsatisfiable = false;
    try {
      gf = build_json_schema_grammar(schema_text, flexible);
      gp = build_json_schema_grammar(schema_text, pretty);
    } catch (const Error& e) {
      const std::string msg = e.what();
      if (msg.find("no JSON value satisfies") != std::string::npos) {
        unsatisfiable = true;
      } else if (is_unsupported(msg)) {
        ++c.unsupported;
        continue;
      } else {
        ++c.errors;
        problems.push_back(file.filename().string() + " [" + group["description"].get<std::string>() + "]: " + msg);
        continue;
      }
    }
    ++c.compiled;
    std::map<std::string, size_t> order;
    stencil::testing::schema_key_order(group["schema"], order);
    for (const auto& test : group["tests"]) {
      const OJson& data = test["data"];
      const bool valid = test["valid"].get<bool>();
      bool accepted_f = false, accepted_p = false;
      if (!unsatisfiable) {
        const OJson reordered = stencil::testing::in_schema_order(data, order);
        accepted_f = grammar::recognizes(gf->grammar, data.dump()) || grammar::recognizes(gf->grammar, reordered.dump());
        accepted_p = grammar::recognizes(gp->grammar, data.dump(2)) || grammar::recognizes(gp->grammar, reordered.dump(2));
      }
      for (bool accepted : {accepted_f, accepted_p}) {
        if (valid && accepted) ++c.valid_pass;
        if (valid && !accepted) ++c.incomplete;
        if (!valid && !accepted) ++c.invalid_pass;
        if (!valid && accepted) {
          ++c.unsound;
          problems.push_back("UNSOUND " + file.filename().string() + " [" + group["description"].get<std::string>() + " / " +
                             test["description"].get<std::string>() + "]: " + data.dump());
        }
      }
    }
  }
}

TEST(SchemaConformance, JsonSchemaTestSuite) {
  const fs::path dir = suite_dir();
  if (dir.empty()) GTEST_SKIP() << "JSON-Schema-Test-Suite not found under STENCIL_DATA_DIR or STENCIL_SHARED_DIR";
  OJson report = OJson::object();
  Counts total;
  std::vector<std::string> problems;
  for (const std::string draft : {"draft2020-12", "draft7"}) {
    std::vector<fs::path> files;
    for (const std::string sub : {"", "optional", "optional/format"}) {
      const fs::path d = dir / "tests" / draft / sub;
      if (!fs::exists(d)) continue;
      for (const auto& e : fs::directory_iterator(d)) {
        if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      Counts c;
      run_file(f, draft == "draft7", c, problems);
      const std::string key = draft + "/" + fs::relative(f, dir / "tests" / draft).string();
      report[key] = to_json(c);
      std::printf("%-48s groups %3d compiled %3d unsupported %3d errors %2d | valid %4d/%-4d invalid %4d/%-4d unsound %d\n",
                  key.c_str(), c.groups, c.compiled, c.unsupported, c.errors, c.valid_pass, c.valid_pass + c.incomplete,
                  c.invalid_pass, c.invalid_pass + c.unsound, c.unsound);
      total.groups += c.groups, total.compiled += c.compiled, total.unsupported += c.unsupported, total.errors += c.errors;
      total.valid_pass += c.valid_pass, total.incomplete += c.incomplete, total.invalid_pass += c.invalid_pass,
          total.unsound += c.unsound;
    }
  }
  std::printf("TOTAL groups %d compiled %d unsupported %d errors %d | valid accepted %d of %d | invalid rejected %d of %d | unsound %d\n",
              total.groups, total.compiled, total.unsupported, total.errors, total.valid_pass,
              total.valid_pass + total.incomplete, total.invalid_pass, total.invalid_pass + total.unsound, total.unsound);
  for (const auto& p : problems) std::printf("  %s\n", p.c_str());

  OJson baseline = OJson::object();
  if (fs::exists(baseline_path())) baseline = read_json_file(baseline_path());
  if (std::getenv("STENCIL_UPDATE_BASELINE") != nullptr) {
    baseline["json_schema_test_suite"] = report;
    std::ofstream(baseline_path()) << baseline.dump(2) << "\n";
    GTEST_SKIP() << "baseline rewritten: " << baseline_path();
  }
  ASSERT_TRUE(baseline.contains("json_schema_test_suite")) << "no baseline at " << baseline_path();
  for (auto it = baseline["json_schema_test_suite"].begin(); it != baseline["json_schema_test_suite"].end(); ++it) {
    SCOPED_TRACE(it.key());
    ASSERT_TRUE(report.contains(it.key())) << "file disappeared";
    const OJson& now = report[it.key()];
    const OJson& base = it.value();
    EXPECT_GE(now["valid_pass"].get<int>() + now["invalid_pass"].get<int>(),
              base["valid_pass"].get<int>() + base["invalid_pass"].get<int>())
        << "passes dropped below the baseline";
    EXPECT_LE(now["unsound"].get<int>(), base["unsound"].get<int>()) << "more invalid instances accepted than the baseline";
    EXPECT_GE(now["compiled"].get<int>(), base["compiled"].get<int>()) << "fewer groups compile than the baseline";
  }
}

// ---- the same suite through the Llama-3 vocabulary and tokenizer ----

struct TokenCounts {
  int groups = 0, compiled = 0, unsupported = 0, errors = 0;
  int valid_pass = 0, incomplete = 0, invalid_pass = 0, unsound = 0;
  int mismatch = 0;  // token walk and byte walk of the same compiled grammar disagree
  double compile_s = 0, walk_s = 0;  // printed, not compared
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

OJson to_json(const TokenCounts& c) {
  return OJson{{"groups", c.groups},         {"compiled", c.compiled},     {"unsupported", c.unsupported},
               {"errors", c.errors},         {"valid_pass", c.valid_pass}, {"incomplete", c.incomplete},
               {"invalid_pass", c.invalid_pass}, {"unsound", c.unsound}, {"mismatch", c.mismatch}};
}

struct Llama3 {
  Vocabulary vocab;
  Tokenizer tokenizer;
};

// Loaded once for the binary (about a second); null when the tokenizer file is absent.
const Llama3* llama3() {
  static const std::unique_ptr<Llama3> l = []() -> std::unique_ptr<Llama3> {
    for (fs::path p : {fs::path(STENCIL_DATA_DIR) / "tokenizers/llama3/tokenizer.json",
                       fs::path(STENCIL_SHARED_DIR) / "tokenizers/llama3/tokenizer.json"}) {
      if (fs::exists(p)) {
        return std::make_unique<Llama3>(Llama3{Vocabulary::from_tokenizer_json(p.string()),
                                               Tokenizer::from_tokenizer_json(p.string())});
      }
    }
    return nullptr;
  }();
  return l.get();
}

// Walks `text` as the tokenizer's tokens: each must be in the mask and accepted, then EOS must be
// allowed. Sets `mismatch` when a token is in the mask but refused or accepted but not in the mask.
bool accepts_tokens(const CompiledGrammar& g, const Llama3& l, const std::string& text, bool& mismatch) {
  EncodeOptions eo;
  eo.add_special = false;
  eo.parse_special = false;
  const std::vector<int32_t> ids = l.tokenizer.encode(text, eo);
  Matcher m(g);
  TokenBitmask mask(l.vocab.size());
  for (int32_t id : ids) {
    m.fill_next_token_bitmask(mask);
    const bool in_mask = id >= 0 && id < l.vocab.size() && mask.allowed(id);
    const bool accepted = m.accept_token(id);
    if (in_mask != accepted) mismatch = true;
    if (!accepted) return false;
  }
  m.fill_next_token_bitmask(mask);
  bool eos = false;
  for (int32_t id : l.vocab.eos_ids()) eos = eos || mask.allowed(id);
  if (eos != m.can_terminate()) mismatch = true;
  return eos;
}

bool accepts_bytes(const CompiledGrammar& g, const std::string& text) {
  Matcher m(g);
  return m.accept_bytes(text) && m.can_terminate();
}

void run_file_tokens(const fs::path& file, bool draft7, const Llama3& l, const Compiler& compiler, TokenCounts& c,
                     std::vector<std::string>& problems) {
  OJson groups;
  try {
    groups = read_json_file(file);
  } catch (const std::exception& e) {
    problems.push_back(file.string() + ": unreadable: " + e.what());
    return;
  }
  for (const auto& group : groups) {
    ++c.groups;
    OJson schema = group["schema"];
    if (draft7 && schema.is_object() && !schema.contains("$schema")) schema["$schema"] = "http://json-schema.org/draft-07/schema#";
    const std::string schema_text = schema.dump();
    JsonOptions flexible;
    flexible.strict = false;
    flexible.portable_patterns = false;  // the Test Suite checks the spec's ECMAScript classes exactly
    JsonOptions pretty = flexible;
    pretty.whitespace = WhitespacePolicy::kPretty;
    pretty.indent = 2;
    // The pretty layout unrolls any-JSON values per nesting level up to max_depth (64 by default),
    // which makes its automata the bulk of this test's time; the suite's instances nest far less.
    pretty.max_depth = 16;
    std::optional<CompiledGrammar> gf, gp;
    bool unsatisfiable = false;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      gf = compiler.compile_json_schema(schema_text, flexible);
      gp = compiler.compile_json_schema(schema_text, pretty);
      c.compile_s += seconds_since(t0);
    } catch (const Error& e) {
      c.compile_s += seconds_since(t0);
      const std::string msg = e.what();
      if (msg.find("no JSON value satisfies") != std::string::npos) {
        unsatisfiable = true;
      } else if (is_unsupported(msg)) {
        ++c.unsupported;
        continue;
      } else {
        ++c.errors;
        problems.push_back(file.filename().string() + " [" + group["description"].get<std::string>() + "]: " + msg);
        continue;
      }
    }
    ++c.compiled;
    std::map<std::string, size_t> order;
    stencil::testing::schema_key_order(group["schema"], order);
    const auto t1 = std::chrono::steady_clock::now();
    for (const auto& test : group["tests"]) {
      const OJson& data = test["data"];
      const bool valid = test["valid"].get<bool>();
      const std::string where = file.filename().string() + " [" + group["description"].get<std::string>() + " / " +
                                test["description"].get<std::string>() + "]";
      for (int layout = 0; layout < 2; ++layout) {
        bool accepted = false;
        if (!unsatisfiable) {
          const CompiledGrammar& g = layout == 0 ? *gf : *gp;
          const int indent = layout == 0 ? -1 : 2;
          for (const std::string& text : {data.dump(indent), stencil::testing::in_schema_order(data, order).dump(indent)}) {
            bool mismatch = false;
            const bool by_tokens = accepts_tokens(g, l, text, mismatch);
            const bool by_bytes = accepts_bytes(g, text);
            if (mismatch || by_tokens != by_bytes) {
              ++c.mismatch;
              problems.push_back("MISMATCH " + where + ": tokens " + (by_tokens ? "accept" : "reject") + ", bytes " +
                                 (by_bytes ? "accept" : "reject") + (mismatch ? ", mask != accept_token" : "") + ": " +
                                 text);
            }
            if (by_tokens) {
              accepted = true;
              break;
            }
          }
        }
        if (valid && accepted) ++c.valid_pass;
        if (valid && !accepted) ++c.incomplete;
        if (!valid && !accepted) ++c.invalid_pass;
        if (!valid && accepted) {
          ++c.unsound;
          problems.push_back("UNSOUND " + where + (layout == 0 ? " (flexible): " : " (pretty): ") + data.dump());
        }
      }
    }
    c.walk_s += seconds_since(t1);
  }
}

TEST(SchemaConformance, JsonSchemaTestSuiteTokens) {
  const fs::path dir = suite_dir();
  if (dir.empty()) GTEST_SKIP() << "JSON-Schema-Test-Suite not found under STENCIL_DATA_DIR or STENCIL_SHARED_DIR";
  const Llama3* l = llama3();
  if (l == nullptr) GTEST_SKIP() << "tokenizers/llama3/tokenizer.json not found under STENCIL_DATA_DIR or STENCIL_SHARED_DIR";
  // Masks computed on a state's first visit (eager_mask_states = 0; tests/engine checks that lazy
  // and eager masks agree): compiling 1,100 grammars against 128k tokens eagerly would take minutes.
  CompileOptions co;
  co.limits.eager_mask_states = 0;
  const Compiler compiler(l->vocab, co);
  OJson report = OJson::object();
  TokenCounts total;
  std::vector<std::string> problems;
  for (const std::string draft : {"draft2020-12", "draft7"}) {
    std::vector<fs::path> files;
    for (const std::string sub : {"", "optional", "optional/format"}) {
      const fs::path d = dir / "tests" / draft / sub;
      if (!fs::exists(d)) continue;
      for (const auto& e : fs::directory_iterator(d)) {
        if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      TokenCounts c;
      run_file_tokens(f, draft == "draft7", *l, compiler, c, problems);
      const std::string key = draft + "/" + fs::relative(f, dir / "tests" / draft).string();
      report[key] = to_json(c);
      std::printf("%-48s groups %3d compiled %3d unsupported %3d errors %2d | tokens: valid %4d/%-4d invalid %4d/%-4d "
                  "unsound %d mismatch %d\n",
                  key.c_str(), c.groups, c.compiled, c.unsupported, c.errors, c.valid_pass, c.valid_pass + c.incomplete,
                  c.invalid_pass, c.invalid_pass + c.unsound, c.unsound, c.mismatch);
      total.groups += c.groups, total.compiled += c.compiled, total.unsupported += c.unsupported, total.errors += c.errors;
      total.valid_pass += c.valid_pass, total.incomplete += c.incomplete, total.invalid_pass += c.invalid_pass,
          total.unsound += c.unsound, total.mismatch += c.mismatch;
      total.compile_s += c.compile_s, total.walk_s += c.walk_s;
    }
  }
  std::printf("TOTAL (Llama-3 tokens) groups %d compiled %d unsupported %d errors %d | valid accepted %d of %d | "
              "invalid rejected %d of %d | unsound %d | token/byte mismatch %d | compile %.1f s, walks %.1f s\n",
              total.groups, total.compiled, total.unsupported, total.errors, total.valid_pass,
              total.valid_pass + total.incomplete, total.invalid_pass, total.invalid_pass + total.unsound, total.unsound,
              total.mismatch, total.compile_s, total.walk_s);
  for (const auto& p : problems) std::printf("  %s\n", p.c_str());
  EXPECT_EQ(total.mismatch, 0) << "the token walk disagrees with the byte walk of the same grammar (engine bug)";

  OJson baseline = OJson::object();
  if (fs::exists(baseline_path())) baseline = read_json_file(baseline_path());
  if (std::getenv("STENCIL_UPDATE_BASELINE") != nullptr) {
    baseline["json_schema_test_suite_tokens"] = report;
    std::ofstream(baseline_path()) << baseline.dump(2) << "\n";
    GTEST_SKIP() << "baseline rewritten: " << baseline_path();
  }
  ASSERT_TRUE(baseline.contains("json_schema_test_suite_tokens")) << "no token baseline at " << baseline_path();
  const OJson& base_all = baseline["json_schema_test_suite_tokens"];
  for (auto it = base_all.begin(); it != base_all.end(); ++it) {
    SCOPED_TRACE(it.key());
    ASSERT_TRUE(report.contains(it.key())) << "file disappeared";
    const OJson& now = report[it.key()];
    const OJson& base = it.value();
    EXPECT_GE(now["valid_pass"].get<int>() + now["invalid_pass"].get<int>(),
              base["valid_pass"].get<int>() + base["invalid_pass"].get<int>())
        << "passes dropped below the baseline";
    EXPECT_LE(now["unsound"].get<int>(), base["unsound"].get<int>()) << "more invalid instances accepted than the baseline";
    EXPECT_GE(now["compiled"].get<int>(), base["compiled"].get<int>()) << "fewer groups compile than the baseline";
  }
}

}  // namespace
}  // namespace stencil::schema
