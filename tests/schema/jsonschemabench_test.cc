// JSONSchemaBench (dev split): how many real-world schemas compile, how fast, and —
// for the MaskBench test instances that come with them — whether the grammar rejects
// every invalid instance (soundness) and how many valid ones it accepts.
//
// Default options (strict mode, flexible whitespace, not lenient). Per subset:
// compiled / unsupported (the message names the keyword) / error (anything else), and
// compile-time p50/p99. Instances are checked with the reference recognizer, compact
// and with keys reordered as in the schema text; instances over kMaxInstanceBytes are
// skipped (the recognizer is cubic). Counts are compared with the "jsonschemabench"
// section of tests/schema/conformance_baseline.json: fewer compiled schemas or more
// accepted invalid instances fail. STENCIL_UPDATE_BASELINE=1 rewrites that section;
// STENCIL_QUICK=1 takes every 10th schema (and then compares nothing).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "grammar/recognizer.h"
#include "instance_key_order.h"
#include "schema/json_schema_grammar.h"
#include "stencil/errors.h"

namespace stencil::schema {
namespace {

namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;

constexpr size_t kMaxInstanceBytes = 1500;

struct SubsetCounts {
  int schemas = 0, compiled = 0, unsupported = 0, errors = 0;
  int valid_accepted = 0, valid_total = 0, invalid_rejected = 0, invalid_total = 0;
  std::vector<double> ms;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

TEST(SchemaBench, JsonSchemaBenchDev) {
  const fs::path path = fs::path(STENCIL_DATA_DIR) / "datasets/jsonschemabench/jsb_dev.jsonl";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent (run scripts/prepare-data BUILD_DIR)";
  const bool quick = std::getenv("STENCIL_QUICK") != nullptr;
  std::ifstream in(path);
  std::string line;
  std::map<std::string, SubsetCounts> subsets;
  std::map<std::string, int> reasons;  // first words of unsupported/error messages
  std::vector<std::string> unsound;
  std::vector<double> all_ms;
  size_t index = 0;
  while (std::getline(in, line)) {
    if (quick && index++ % 10 != 0) continue;
    OJson rec = OJson::parse(line);
    const std::string subset = rec["subset"].get<std::string>();
    SubsetCounts& c = subsets[subset];
    ++c.schemas;
    const std::string schema_text = rec["schema"].dump();
    JsonOptions options;
    std::optional<SchemaGrammar> sg;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      sg = build_json_schema_grammar(schema_text, options);
    } catch (const Error& e) {
      std::string msg = e.message();
      const bool unsup = msg.find("unsupported") != std::string::npos || msg.find("unresolvable") != std::string::npos;
      (unsup ? c.unsupported : c.errors)++;
      msg = msg.substr(0, std::min(msg.find(" (and"), msg.find(" with these")));
      if (msg.size() > 90) msg = msg.substr(0, 90);
      ++reasons[(unsup ? "unsupported | " : "error | ") + msg];
      continue;
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    c.ms.push_back(ms);
    all_ms.push_back(ms);
    ++c.compiled;
    if (!rec.contains("tests")) continue;
    std::map<std::string, size_t> order;
    testing::schema_key_order(rec["schema"], order);
    for (const auto& t : rec["tests"]) {
      const std::string text = t["data"].dump();
      if (text.size() > kMaxInstanceBytes) continue;
      const bool accepted = grammar::recognizes(sg->grammar, text) ||
                            grammar::recognizes(sg->grammar, testing::in_schema_order(t["data"], order).dump());
      if (t["valid"].get<bool>()) {
        ++c.valid_total;
        c.valid_accepted += accepted;
      } else {
        ++c.invalid_total;
        c.invalid_rejected += !accepted;
        if (accepted) unsound.push_back(rec["id"].get<std::string>() + ": " + text.substr(0, 200));
      }
    }
  }
  OJson report = OJson::object();
  SubsetCounts total;
  for (const auto& [name, c] : subsets) {
    std::printf("%-16s schemas %5d compiled %5d (%5.1f%%) unsupported %4d errors %4d | compile ms p50 %6.2f p99 %7.2f | "
                "valid accepted %4d/%-4d invalid rejected %4d/%-4d\n",
                name.c_str(), c.schemas, c.compiled, 100.0 * c.compiled / std::max(1, c.schemas), c.unsupported, c.errors,
                percentile(c.ms, 0.5), percentile(c.ms, 0.99), c.valid_accepted, c.valid_total, c.invalid_rejected,
                c.invalid_total);
    report[name] = OJson{{"schemas", c.schemas},
                         {"compiled", c.compiled},
                         {"unsupported", c.unsupported},
                         {"errors", c.errors},
                         {"valid_accepted", c.valid_accepted},
                         {"invalid_accepted", c.invalid_total - c.invalid_rejected}};
    total.schemas += c.schemas, total.compiled += c.compiled, total.unsupported += c.unsupported, total.errors += c.errors;
    total.valid_accepted += c.valid_accepted, total.valid_total += c.valid_total;
    total.invalid_rejected += c.invalid_rejected, total.invalid_total += c.invalid_total;
  }
  std::printf("TOTAL schemas %d compiled %d (%.1f%%) unsupported %d errors %d | compile ms p50 %.2f p99 %.2f max %.2f | "
              "valid accepted %d/%d invalid rejected %d/%d\n",
              total.schemas, total.compiled, 100.0 * total.compiled / std::max(1, total.schemas), total.unsupported,
              total.errors, percentile(all_ms, 0.5), percentile(all_ms, 0.99), percentile(all_ms, 1.0),
              total.valid_accepted, total.valid_total, total.invalid_rejected, total.invalid_total);
  std::vector<std::pair<int, std::string>> top;
  for (const auto& [r, n] : reasons) top.emplace_back(n, r);
  std::sort(top.rbegin(), top.rend());
  for (size_t i = 0; i < top.size() && i < 40; ++i) std::printf("  %5d  %s\n", top[i].first, top[i].second.c_str());
  for (const auto& u : unsound) std::printf("  UNSOUND %s\n", u.c_str());
  if (quick) return;

  const fs::path baseline_path = fs::path(STENCIL_SOURCE_DIR) / "tests/schema/conformance_baseline.json";
  OJson baseline = OJson::object();
  if (fs::exists(baseline_path)) {
    std::ifstream b(baseline_path);
    std::stringstream ss;
    ss << b.rdbuf();
    baseline = OJson::parse(ss.str());
  }
  if (std::getenv("STENCIL_UPDATE_BASELINE") != nullptr) {
    baseline["jsonschemabench"] = report;
    std::ofstream(baseline_path) << baseline.dump(2) << "\n";
    GTEST_SKIP() << "baseline rewritten: " << baseline_path;
  }
  ASSERT_TRUE(baseline.contains("jsonschemabench")) << "no jsonschemabench baseline in " << baseline_path;
  for (auto it = baseline["jsonschemabench"].begin(); it != baseline["jsonschemabench"].end(); ++it) {
    SCOPED_TRACE(it.key());
    ASSERT_TRUE(report.contains(it.key()));
    EXPECT_GE(report[it.key()]["compiled"].get<int>(), it.value()["compiled"].get<int>()) << "fewer schemas compile";
    EXPECT_LE(report[it.key()]["invalid_accepted"].get<int>(), it.value()["invalid_accepted"].get<int>())
        << "more invalid instances accepted (soundness)";
    EXPECT_GE(report[it.key()]["valid_accepted"].get<int>(), it.value()["valid_accepted"].get<int>())
        << "fewer valid instances accepted";
  }
}

}  // namespace
}  // namespace stencil::schema
