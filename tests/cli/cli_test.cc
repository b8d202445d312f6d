// Tests of the `stencil` command as scripts use it: run the built binary with
// arguments and stdin, assert the exit code, the shape of stdout and the message
// on stderr. Covers usage errors, compile (text and --output json), check (bytes
// and tokens), sample (determinism, validity re-checked by `stencil check` and by
// independent oracles: nlohmann::json for JSON, RE2 for regexes) and bench.
// Tests that need a real tokenizer skip when the decompressed data is absent.
#include <gtest/gtest.h>
#include <re2/re2.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Result {
  int rc = -1;
  std::string out;
  std::string err;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "stencil_cli_test_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Runs `stencil ARGS` with `input` on stdin.
Result run(const std::vector<std::string>& args, const std::string& input = "") {
  static TempDir dir;
  static int counter = 0;
  const std::string id = std::to_string(counter++);
  const fs::path in = dir.write("in" + id, input), out = dir.path() / ("out" + id), err = dir.path() / ("err" + id);
  std::string cmd = shell_quote(STENCIL_CLI_PATH);
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  cmd += " <" + shell_quote(in.string()) + " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string());
  const int status = std::system(cmd.c_str());
  Result r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) v.push_back(line);
  return v;
}

const std::string kWeather = std::string(STENCIL_SOURCE_DIR) + "/examples/schemas/weather.json";

std::string tokenizer_path(const std::string& name) {
  return std::string(STENCIL_DATA_DIR) + "/tokenizers/" + name + "/tokenizer.json";
}

#define REQUIRE_TOKENIZER(path)                                                       \
  do {                                                                                \
    if (!fs::exists(path)) {                                                          \
      GTEST_SKIP() << path << " is missing (run scripts/prepare-data on this build)"; \
    }                                                                                 \
  } while (0)

// ---- exit codes and messages, no tokenizer needed ----

struct ExitCase {
  const char* name;
  std::vector<std::string> args;
  std::string input;
  int rc;
  std::string out_has;  // substring expected in stdout ("" = not checked)
  std::string err_has;  // substring expected in stderr ("" = not checked)
};

class ExitCodes : public ::testing::TestWithParam<ExitCase> {};

TEST_P(ExitCodes, ExitCodeAndMessage) {
  const ExitCase& c = GetParam();
  Result r = run(c.args, c.input);
  EXPECT_EQ(r.rc, c.rc) << c.name << "\nstdout: " << r.out << "\nstderr: " << r.err;
  if (!c.out_has.empty()) {
    EXPECT_NE(r.out.find(c.out_has), std::string::npos) << c.name << " stdout: " << r.out;
  }
  if (!c.err_has.empty()) {
    EXPECT_NE(r.err.find(c.err_has), std::string::npos) << c.name << " stderr: " << r.err;
  }
}

const ExitCase kExitCases[] = {
    {"main_help", {"--help"}, "", 0, "commands:", ""},
    {"no_command", {}, "", 2, "", "usage: stencil COMMAND"},
    {"unknown_command", {"frobnicate"}, "", 2, "", "unknown command 'frobnicate'"},
    {"compile_help", {"compile", "--help"}, "", 0, "usage: stencil compile", ""},
    {"sample_help", {"sample", "--help"}, "", 0, "usage: stencil sample", ""},
    {"check_help", {"check", "--help"}, "", 0, "usage: stencil check", ""},
    {"bench_help", {"bench", "--help"}, "", 0, "usage: stencil bench", ""},
    {"generate_help", {"generate", "--help"}, "", 0, "usage: stencil generate", ""},
    {"generate_bad_output", {"generate", "--json", "--prompt", "hi", "--output", "xml"}, "", 2, "",
     "--output takes 'json'"},
    {"generate_bad_temperature", {"generate", "--json", "--prompt", "hi", "--temperature", "hot"}, "", 2, "",
     "--temperature"},
    {"generate_missing_model", {"generate", "--model", "/nonexistent/m.gguf", "--json", "--prompt", "hi"}, "", 2, "",
     "/nonexistent/m.gguf"},
    {"compile_regex", {"compile", "--regex", "[a-c]+x"}, "", 0, "automaton states:", ""},
    {"compile_regex_eq_form", {"compile", "--regex=[a-c]+x"}, "", 0, "automaton states:", ""},
    {"compile_json", {"compile", "--json"}, "", 0, "rules:", ""},
    {"compile_schema", {"compile", "--schema", kWeather, "--whitespace", "compact"}, "", 0, "compile ms:", ""},
    {"compile_dump", {"compile", "--regex", "ab", "--dump"}, "", 0, "root ::= \"ab\"", ""},
    {"compile_bad_regex", {"compile", "--regex", "[a-c"}, "", 2, "", "1:"},
    {"compile_missing_file", {"compile", "--grammar", "/nonexistent/g.gbnf"}, "", 2, "", "/nonexistent/g.gbnf"},
    {"compile_missing_tokenizer", {"compile", "--json", "--tokenizer", "/nonexistent/t.json"}, "", 2, "", "error"},
    {"unknown_flag", {"compile", "--json", "--bogus"}, "", 2, "", "unknown option '--bogus'"},
    {"unknown_short_flag", {"compile", "--json", "-x"}, "", 2, "", "unknown option '-x'"},
    {"missing_value", {"compile", "--regex"}, "", 2, "", "--regex needs a value"},
    {"no_constraint", {"compile"}, "", 2, "", "a constraint is required"},
    {"two_constraints", {"compile", "--json", "--regex", "a"}, "", 2, "", "only one constraint"},
    {"schema_option_on_regex", {"compile", "--regex", "a", "--no-strict"}, "", 2, "", "--no-strict applies to"},
    {"bad_whitespace", {"compile", "--json", "--whitespace", "wide"}, "", 2, "", "--whitespace expects"},
    {"flag_with_value", {"compile", "--json=1"}, "", 2, "", "--json takes no value"},
    {"bad_output", {"compile", "--json", "--output", "yaml"}, "", 2, "", "--output expects"},
    {"dump_with_json_output", {"compile", "--json", "--output", "json", "--dump"}, "", 2, "", "--dump cannot"},
    {"sample_needs_tokenizer", {"sample", "--regex", "a"}, "", 2, "", "--tokenizer is required"},
    {"sample_bad_count", {"sample", "--regex", "a", "--tokenizer", "t.json", "--count", "x"}, "", 2, "", "--count"},
    {"sample_negative_count",
     {"sample", "--regex", "a", "--tokenizer", "t.json", "--count", "-1"},
     "",
     2,
     "",
     "--count"},
    {"bench_needs_instances", {"bench", "--json", "--tokenizer", "t.json"}, "", 2, "", "--instances is required"},
    {"check_match", {"check", "--regex", "[a-c]+x"}, "abx", 0, "match: 3 bytes", ""},
    {"check_match_stdin_dash", {"check", "--regex", "[a-c]+x", "-"}, "abx", 0, "match", ""},
    {"check_final_newline_forgiven", {"check", "--regex", "[a-c]+x"}, "abx\n", 0, "match: 3 bytes", ""},
    {"check_whole_match_not_search", {"check", "--regex", "[a-c]+x"}, "zabxz", 1, "", "byte offset 0"},
    {"check_bad_byte", {"check", "--regex", "[a-c]+x"}, "abd", 1, "", "byte offset 2 (line 1, column 3)"},
    {"check_too_short", {"check", "--regex", "[a-c]+x"}, "ab", 1, "", "ends too early"},
    {"check_line_column", {"check", "--json"}, "{\"a\":\n [1, x]}", 1, "", "line 2, column 6"},
    {"check_json", {"check", "--json"}, "{\"a\": [1, 2.5e3, true, null, \"\\u00e9\"]}", 0, "match", ""},
    {"check_json_bad", {"check", "--json"}, "{\"a\": }", 1, "", "byte offset 6"},
    {"check_schema",
     {"check", "--schema", kWeather},
     R"({"location": "Paris, France", "unit": "celsius", "days": 3})",
     0,
     "match",
     ""},
    {"check_schema_enum",
     {"check", "--schema", kWeather},
     R"({"location": "Paris", "unit": "kelvin", "days": 3})",
     1,
     "",
     "no match"},
    {"check_schema_extra_property",
     {"check", "--schema", kWeather},
     R"({"location": "Paris", "unit": "celsius", "days": 3, "x": 1})",
     1,
     "",
     "no match"},
    {"check_two_files", {"check", "--regex", "a", "f1", "f2"}, "", 2, "", "unexpected argument 'f2'"},
    {"check_missing_file", {"check", "--regex", "a", "/nonexistent/text"}, "", 2, "", "/nonexistent/text"},
};

INSTANTIATE_TEST_SUITE_P(Cli, ExitCodes, ::testing::ValuesIn(kExitCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CliCheck, GrammarFile) {
  TempDir dir;
  const fs::path g = dir.write("list.gbnf", "root ::= item (\",\" item)*\nitem ::= [0-9]+\n");
  EXPECT_EQ(run({"check", "--grammar", g.string()}, "1,22,333").rc, 0);
  Result r = run({"check", "--grammar", g.string()}, "1,,2");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("byte offset 2"), std::string::npos) << r.err;
  const fs::path file = dir.write("text", "4,5");
  EXPECT_EQ(run({"check", "--grammar", g.string(), file.string()}).rc, 0);
}

TEST(CliCompile, GrammarErrorHasLineColumn) {
  TempDir dir;
  const fs::path g = dir.write("bad.gbnf", "root ::= item\nitem ::= \"a\" (\n");
  Result r = run({"compile", "--grammar", g.string()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("2:"), std::string::npos) << r.err;
}

// ---- compile --output json: exactly one object with the five keys ----

struct JsonCase {
  const char* name;
  std::vector<std::string> args;
  bool ok;
  std::string pointer_prefix;  // expected prefix of "pointer" when !ok
};

class CompileJson : public ::testing::TestWithParam<JsonCase> {};

TEST_P(CompileJson, OneObjectWithTheContractKeys) {
  const JsonCase& c = GetParam();
  TempDir dir;
  std::vector<std::string> args = c.args;
  for (std::string& a : args) {
    if (a.rfind("SCHEMA:", 0) == 0) a = dir.write("schema.json", a.substr(7)).string();
  }
  args.insert(args.begin(), "compile");
  args.push_back("--output");
  args.push_back("json");
  Result r = run(args);
  EXPECT_EQ(r.rc, c.ok ? 0 : 2) << r.err;
  const std::vector<std::string> out = lines(r.out);
  ASSERT_EQ(out.size(), 1u) << r.out;
  nlohmann::json j = nlohmann::json::parse(out[0]);
  ASSERT_TRUE(j.is_object());
  std::vector<std::string> keys;
  for (auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"compile_ms", "error", "ok", "pointer", "warnings"}));
  EXPECT_EQ(j["ok"], c.ok);
  EXPECT_TRUE(j["compile_ms"].is_number());
  EXPECT_TRUE(j["warnings"].is_array());
  if (c.ok) {
    EXPECT_TRUE(j["error"].is_null());
    EXPECT_TRUE(j["pointer"].is_null());
  } else {
    ASSERT_TRUE(j["error"].is_string());
    EXPECT_FALSE(j["error"].get<std::string>().empty());
    ASSERT_TRUE(j["pointer"].is_string());
    EXPECT_EQ(j["pointer"].get<std::string>().rfind(c.pointer_prefix, 0), 0u) << j["pointer"];
  }
}

const JsonCase kJsonCases[] = {
    {"json_ok", {"--json"}, true, ""},
    {"regex_ok", {"--regex", "[0-9]{3}"}, true, ""},
    {"schema_ok", {"--schema", kWeather}, true, ""},
    {"regex_error", {"--regex", "(ab"}, false, "1:"},
    {"schema_unknown_type",
     {"--schema", R"(SCHEMA:{"type":"object","properties":{"a":{"type":"strang"}}})"},
     false,
     "/properties/a"},
    {"schema_not_json", {"--schema", "SCHEMA:{\"type\": "}, false, ""},
    {"missing_schema_file", {"--schema", "/nonexistent/s.json"}, false, "/nonexistent/s.json"},
};

INSTANTIATE_TEST_SUITE_P(Cli, CompileJson, ::testing::ValuesIn(kJsonCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CliCompile, LenientWarnsInsteadOfFailing) {
  TempDir dir;
  const fs::path s = dir.write("s.json", R"({"type":"array","items":{"type":"integer"},"uniqueItems":true})");
  Result strict = run({"compile", "--schema", s.string(), "--output", "json"});
  Result lenient = run({"compile", "--schema", s.string(), "--lenient", "--output", "json"});
  nlohmann::json js = nlohmann::json::parse(strict.out), jl = nlohmann::json::parse(lenient.out);
  ASSERT_EQ(js["ok"], false) << "uniqueItems is supported now; pick another unsupported keyword for this test";
  EXPECT_EQ(strict.rc, 2);
  EXPECT_EQ(lenient.rc, 0) << lenient.err;
  EXPECT_EQ(jl["ok"], true);
  EXPECT_FALSE(jl["warnings"].empty());
}

// ---- sample: determinism and validity (needs a real tokenizer) ----

struct SampleCase {
  const char* name;
  std::vector<std::string> constraint;
  enum Oracle { kNone, kJson, kRegex } oracle;
  std::string regex;  // for kRegex
};

class Sample : public ::testing::TestWithParam<SampleCase> {};

TEST_P(Sample, DeterministicAndValid) {
  const SampleCase& c = GetParam();
  const std::string tok = tokenizer_path("gpt2");
  REQUIRE_TOKENIZER(tok);
  std::vector<std::string> args = {"sample"};
  args.insert(args.end(), c.constraint.begin(), c.constraint.end());
  for (const char* a : {"--tokenizer", tok.c_str(), "--count", "8", "--max-tokens", "48"}) args.push_back(a);
  std::vector<std::string> seed1 = args, seed1b = args, seed2 = args;
  seed1.insert(seed1.end(), {"--seed", "1"});
  seed1b.insert(seed1b.end(), {"--seed", "1"});
  seed2.insert(seed2.end(), {"--seed", "2"});
  Result a = run(seed1), b = run(seed1b), d = run(seed2);
  ASSERT_EQ(a.rc, 0) << a.err;
  ASSERT_EQ(d.rc, 0) << d.err;
  EXPECT_EQ(a.out, b.out) << "same seed, different outputs";
  EXPECT_NE(a.out, d.out) << "different seeds, same 8 outputs";
  const std::vector<std::string> out = lines(a.out);
  ASSERT_EQ(out.size(), 8u) << a.out;
  bool first = true;
  for (const std::string& line : out) {
    nlohmann::json lit = nlohmann::json::parse(line);
    ASSERT_TRUE(lit.is_string()) << line;
    const std::string text = lit.get<std::string>();
    // Re-checked by the command itself: the bytes, and for the first sample also the tokenizer's own
    // tokenization (slower: it loads the tokenizer).
    std::vector<std::string> check = {"check"};
    check.insert(check.end(), c.constraint.begin(), c.constraint.end());
    if (first) check.insert(check.end(), {"--tokenizer", tok});
    first = false;
    Result r = run(check, text);
    EXPECT_EQ(r.rc, 0) << "sample does not match: " << line << "\n" << r.err;
    // And by an independent oracle.
    if (c.oracle == SampleCase::kJson) {
      EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded()) << line;
    } else if (c.oracle == SampleCase::kRegex) {
      EXPECT_TRUE(RE2::FullMatch(text, c.regex)) << line;
    }
  }
}

const SampleCase kSampleCases[] = {
    {"json", {"--json"}, SampleCase::kJson, ""},
    {"json_compact", {"--json", "--whitespace", "compact"}, SampleCase::kJson, ""},
    {"schema_weather", {"--schema", kWeather}, SampleCase::kJson, ""},
    {"regex_date", {"--regex", "[0-9]{4}-[0-9]{2}-[0-9]{2}"}, SampleCase::kRegex, "[0-9]{4}-[0-9]{2}-[0-9]{2}"},
    {"regex_words",
     {"--regex", "(yes|no|maybe)( and (yes|no|maybe)){0,5}"},
     SampleCase::kRegex,
     "(yes|no|maybe)( and (yes|no|maybe)){0,5}"},
};

INSTANTIATE_TEST_SUITE_P(Cli, Sample, ::testing::ValuesIn(kSampleCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CliSample, SchemaSamplesHaveTheRequiredKeys) {
  const std::string tok = tokenizer_path("gpt2");
  REQUIRE_TOKENIZER(tok);
  Result r = run({"sample", "--schema", kWeather, "--tokenizer", tok, "--count", "5", "--seed", "7"});
  ASSERT_EQ(r.rc, 0) << r.err;
  for (const std::string& line : lines(r.out)) {
    nlohmann::json doc = nlohmann::json::parse(nlohmann::json::parse(line).get<std::string>());
    ASSERT_TRUE(doc.is_object()) << line;
    EXPECT_EQ(doc.size(), 3u) << line;
    EXPECT_TRUE(doc["unit"] == "celsius" || doc["unit"] == "fahrenheit") << line;
    ASSERT_TRUE(doc["days"].is_number_integer()) << line;
    EXPECT_GE(doc["days"].get<int>(), 1);
    EXPECT_LE(doc["days"].get<int>(), 14);
  }
}

TEST(CliSample, BudgetTooSmallIsAnError) {
  const std::string tok = tokenizer_path("gpt2");
  REQUIRE_TOKENIZER(tok);
  Result r = run({"sample", "--regex", "(abc,){40}", "--tokenizer", tok, "--max-tokens", "3"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--max-tokens"), std::string::npos) << r.err;
}

TEST(CliSample, CountZeroPrintsNothing) {
  const std::string tok = tokenizer_path("gpt2");
  REQUIRE_TOKENIZER(tok);
  Result r = run({"sample", "--json", "--tokenizer", tok, "--count", "0"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

// ---- check with a tokenizer: every token accepted in sequence ----

TEST(CliCheck, TokenizationAccepted) {
  const std::string tok = tokenizer_path("gpt2");
  REQUIRE_TOKENIZER(tok);
  Result r = run({"check", "--schema", kWeather, "--tokenizer", tok},
                 R"({"location": "Zürich, Switzerland", "unit": "fahrenheit", "days": 14})");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("each accepted in sequence"), std::string::npos) << r.out << r.err;
  Result bad = run({"check", "--schema", kWeather, "--tokenizer", tok},
                   R"({"location": "Zürich", "unit": "fahrenheit", "days": 15})");
  EXPECT_EQ(bad.rc, 1);
}

// ---- bench: --output json shape ----

TEST(CliBench, JsonOutputShape) {
  const std::string tok = tokenizer_path("gpt2");
  REQUIRE_TOKENIZER(tok);
  TempDir dir;
  const fs::path inst = dir.write("docs.jsonl", "{\"a\": [1, 2, {\"b\": \"c d e\"}]}\n\n[true, false, null]\n\"x\"\n");
  Result r = run({"bench", "--json", "--tokenizer", tok, "--instances", inst.string(), "--output", "json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::vector<std::string> out = lines(r.out);
  ASSERT_EQ(out.size(), 1u) << r.out;
  nlohmann::json j = nlohmann::json::parse(out[0]);
  for (const char* k : {"mask_us", "compile_ms"}) {
    ASSERT_TRUE(j[k].is_object()) << k;
    for (const char* s : {"mean", "p50", "p99", "max"}) EXPECT_TRUE(j[k][s].is_number()) << k << "." << s;
    EXPECT_LE(j[k]["p50"].get<double>(), j[k]["max"].get<double>());
  }
  ASSERT_TRUE(j["tokens"].is_number_integer());
  EXPECT_GT(j["tokens"].get<int>(), 10);
  EXPECT_EQ(j["instances"], 3);
  EXPECT_EQ(j["rejected"], 0);
  EXPECT_EQ(j["masks"].get<int>(), j["tokens"].get<int>() + 3);  // one more per instance, for EOS
}

TEST(CliBench, RejectedInstanceExitsOne) {
  const std::string tok = tokenizer_path("gpt2");
  REQUIRE_TOKENIZER(tok);
  TempDir dir;
  const fs::path inst = dir.write("docs.jsonl", "\"abx\"\n\"abd\"\n");
  Result r = run({"bench", "--regex", "[a-c]+x", "--tokenizer", tok, "--instances", inst.string(), "--output", "json"});
  EXPECT_EQ(r.rc, 1) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["instances"], 2);
  EXPECT_EQ(j["rejected"], 1);
  const fs::path bad = dir.write("bad.jsonl", "abx\n");
  EXPECT_EQ(run({"bench", "--regex", "[a-c]+x", "--tokenizer", tok, "--instances", bad.string()}).rc, 2);
}

// ---- generate with the shared stories260K model ----

const std::string kStories = std::string(STENCIL_SHARED_DIR) + "/models/stories260K/stories260K-f32.gguf";

TEST(CliGenerate, JsonOutputIsValidAndHasTheContractKeys) {
  if (!fs::exists(kStories)) GTEST_SKIP() << "stories260K model absent: " << kStories;
  for (const char* seed : {"1", "2"}) {
    Result r = run({"generate", "--model", kStories, "--schema", kWeather, "--prompt",
                    "What's the weather in Paris, in Celsius?", "--seed", seed, "--max-tokens", "64", "--output",
                    "json"});
    ASSERT_EQ(r.rc, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["valid"], true);
    const nlohmann::json doc = nlohmann::json::parse(j["text"].get<std::string>());
    EXPECT_EQ(doc.size(), 3u) << r.out;
    EXPECT_TRUE(doc["unit"] == "celsius" || doc["unit"] == "fahrenheit") << r.out;
    for (const char* k : {"prompt", "generated", "forced"}) EXPECT_TRUE(j["tokens"][k].is_number_integer()) << k;
    EXPECT_LE(j["tokens"]["generated"].get<int>(), 64);
    ASSERT_TRUE(j["token_ids"].is_array()) << r.out;
    EXPECT_EQ(j["token_ids"].size(), j["tokens"]["generated"].get<size_t>()) << r.out;
    for (const char* k : {"load_s", "prompt_tok_s", "gen_tok_s", "mask_share"}) {
      EXPECT_TRUE(j["timing"][k].is_number()) << k;
    }
    EXPECT_NE(r.err.find("stats: prompt"), std::string::npos) << r.err;
  }
}

TEST(CliGenerate, BudgetBelowWhatTheSchemaNeedsExitsOne) {
  if (!fs::exists(kStories)) GTEST_SKIP() << "stories260K model absent: " << kStories;
  Result r = run({"generate", "--model", kStories, "--schema", kWeather, "--prompt", "x", "--max-tokens", "10"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "\n");
  EXPECT_NE(r.err.find("raise --max-tokens"), std::string::npos) << r.err;
}

TEST(CliGenerate, StreamedTextEqualsJsonTextForTheSameSeed) {
  if (!fs::exists(kStories)) GTEST_SKIP() << "stories260K model absent: " << kStories;
  const std::vector<std::string> base = {"generate", "--model", kStories, "--regex", "(yes|no), [a-z ]{1,20}",
                                         "--prompt", "Is it raining?", "--seed", "5"};
  Result text = run(base);
  std::vector<std::string> with_json = base;
  with_json.insert(with_json.end(), {"--output", "json"});
  Result js = run(with_json);
  ASSERT_EQ(text.rc, 0) << text.err;
  ASSERT_EQ(js.rc, 0) << js.err;
  EXPECT_EQ(text.out, nlohmann::json::parse(js.out)["text"].get<std::string>() + "\n");
  EXPECT_TRUE(RE2::FullMatch(text.out.substr(0, text.out.size() - 1), "(yes|no), [a-z ]{1,20}")) << text.out;
}

}  // namespace
