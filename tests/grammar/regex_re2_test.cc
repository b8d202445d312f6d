// The RE2 cross-check of the regex front end: for a corpus of patterns (a
// hand-written set of realistic JSON Schema patterns, plus every `pattern` and
// `patternProperties` key in JSONSchemaBench's dev split when the data is there),
// generate strings (random walks of the grammar, then mutations: insertions,
// deletions, replacements, truncations, unicode) and check that the reference
// recognizer on our grammar agrees with RE2::PartialMatch on the pattern translated
// to RE2 syntax (JSON Schema patterns are unanchored, hence PartialMatch), and that
// parse_regex's whole-string grammar agrees with RE2::FullMatch.
//
// The translation is textual and independent of our parser: only ECMAScript-only
// spellings are rewritten (\uXXXX, \s and . with ECMAScript's sets, [^], named
// groups); RE2 parses the structure itself. Patterns RE2 rejects (lookaround,
// backreferences, repeats over 1000) are counted and skipped.
//
// The JSON-string mode is checked too: every walk of the inside_json_string
// grammar must be valid JSON string contents (parsed by nlohmann::json) whose
// decoded value RE2 matches, and the canonical JSON encoding of every test string
// must be accepted exactly when RE2 matches the string.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/recognizer.h"
#include "grammar/utf8.h"
#include "stencil/errors.h"

namespace stencil::grammar {
namespace {

// ---- ECMAScript -> RE2 syntax -------------------------------------------------------------------------------

// ECMAScript's \s, in RE2 class syntax (RE2's own \s lacks \v and the Unicode spaces).
constexpr uint32_t kSpaces[][2] = {{0x09, 0x0D},     {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680},
                                   {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F},
                                   {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};

std::string hex_cp(uint32_t cp) {
  char buf[16];
  snprintf(buf, sizeof buf, "\\x{%X}", cp);
  return buf;
}
std::string re2_range(uint32_t lo, uint32_t hi) { return lo == hi ? hex_cp(lo) : hex_cp(lo) + "-" + hex_cp(hi); }

std::string re2_spaces() {
  std::string out;
  for (const auto& r : kSpaces) out += re2_range(r[0], r[1]);
  return out;
}
std::string re2_non_spaces() {
  std::string out;
  uint32_t next = 0;
  for (const auto& r : kSpaces) {
    if (r[0] > next) out += re2_range(next, r[0] - 1);
    next = r[1] + 1;
  }
  return out + re2_range(next, 0x10FFFF);
}

// Translates an ECMAScript pattern to RE2 syntax; nullopt for what RE2 cannot express.
std::optional<std::string> to_re2(std::string_view es) {
  std::vector<uint32_t> cps;
  for (size_t pos = 0; pos < es.size();) {
    const int32_t cp = decode_utf8(es, pos);
    if (cp < 0) return std::nullopt;
    cps.push_back(static_cast<uint32_t>(cp));
  }
  auto at = [&](size_t i) -> int64_t { return i < cps.size() ? cps[i] : -1; };
  auto hex = [](int64_t c) -> int {
    if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
    return -1;
  };
  auto read_hex = [&](size_t& i, int n) -> int64_t {
    int64_t v = 0;
    for (int k = 0; k < n; ++k) {
      if (hex(at(i + k)) < 0) return -1;
      v = v * 16 + hex(at(i + k));
    }
    i += n;
    return v;
  };
  std::string out;
  bool in_class = false;
  size_t i = 0;
  while (i < cps.size()) {
    const uint32_t c = cps[i];
    if (c == '\\') {
      const int64_t e = at(i + 1);
      if (e < 0) return std::nullopt;
      i += 2;
      switch (e) {
        case 'd': case 'D': case 'w': case 'W': case 'n': case 'r': case 't': case 'f': case 'v':
          out += '\\';
          out += static_cast<char>(e);
          continue;
        case 's':
          out += in_class ? re2_spaces() : "[" + re2_spaces() + "]";
          continue;
        case 'S':
          out += in_class ? re2_non_spaces() : "[" + re2_non_spaces() + "]";
          continue;
        case 'b':
          if (!in_class) return std::nullopt;
          out += hex_cp(8);
          continue;
        case '0':
          if (at(i) >= '0' && at(i) <= '9') return std::nullopt;
          out += hex_cp(0);
          continue;
        case 'x': {
          const int64_t v = read_hex(i, 2);
          if (v < 0) return std::nullopt;
          out += hex_cp(static_cast<uint32_t>(v));
          continue;
        }
        case 'u': {
          int64_t v;
          if (at(i) == '{') {
            ++i;
            v = 0;
            while (hex(at(i)) >= 0) v = std::min<int64_t>(v * 16 + hex(at(i++)), 0x7FFFFFFF);
            if (at(i) != '}') return std::nullopt;
            ++i;
          } else {
            v = read_hex(i, 4);
            if (v >= 0xD800 && v <= 0xDBFF && at(i) == '\\' && at(i + 1) == 'u') {
              size_t j = i + 2;
              const int64_t low = read_hex(j, 4);
              if (low >= 0xDC00 && low <= 0xDFFF) {
                v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00);
                i = j;
              }
            }
          }
          if (v < 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return std::nullopt;
          out += hex_cp(static_cast<uint32_t>(v));
          continue;
        }
        case 'c': {
          const int64_t l = at(i);
          if (!((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z'))) return std::nullopt;
          ++i;
          out += hex_cp(static_cast<uint32_t>(l % 32));
          continue;
        }
        default:
          break;
      }
      if ((e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) return std::nullopt;
      if (e < 0x80) {
        out += '\\';
        out += static_cast<char>(e);
      } else {
        out += hex_cp(static_cast<uint32_t>(e));
      }
      continue;
    }
    if (in_class) {
      if (c == ']') {
        in_class = false;
        out += ']';
      } else if (c == '[') {
        out += "\\[";  // RE2 would read [: as a POSIX class
      } else if (c == '^') {
        out += "\\^";
      } else {
        append_utf8(out, c);
      }
      ++i;
      continue;
    }
    switch (c) {
      case '.':
        out += "[^\\n\\r\\x{2028}\\x{2029}]";
        ++i;
        continue;
      case '[':
        if (at(i + 1) == ']') {  // ECMAScript's empty class
          out += "[^\\x{0}-\\x{10FFFF}]";
          i += 2;
          continue;
        }
        if (at(i + 1) == '^' && at(i + 2) == ']') {  // ECMAScript's any-character class
          out += "[\\x{0}-\\x{10FFFF}]";
          i += 3;
          continue;
        }
        in_class = true;
        out += '[';
        ++i;
        if (at(i) == '^') {
          out += '^';
          ++i;
        }
        continue;
      case '(':
        if (at(i + 1) == '?' && at(i + 2) == '<' && at(i + 3) != '=' && at(i + 3) != '!') {
          out += "(?P<";
          i += 3;
          continue;
        }
        break;
      default:
        break;
    }
    append_utf8(out, c);
    ++i;
  }
  return out;
}

std::unique_ptr<RE2> compile_re2(const std::string& re2_pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(int64_t{256} << 20);
  auto re = std::make_unique<RE2>(re2_pattern, options);
  if (!re->ok()) return nullptr;
  return re;
}

// ---- String generation --------------------------------------------------------------------------------------

// Random derivations of a grammar: random alternatives, a few extra repeats, code points
// biased to the ends of ranges and to ASCII (so fillers look like text, not noise).
class Walker {
 public:
  Walker(const Grammar& g, std::mt19937_64& rng) : g_(g), rng_(rng) {}

  std::optional<std::string> walk() {
    std::string out;
    budget_ = 400;
    if (!walk(g_.rule(g_.root()).body, out, 0)) return std::nullopt;
    return out;
  }

 private:
  uint32_t pick(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }

  uint32_t pick_cp(const std::vector<Range>& ranges) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      uint32_t cp;
      const Range& r = ranges[pick(static_cast<uint32_t>(ranges.size()))];
      const uint32_t roll = pick(10);
      if (roll < 5 && r.lo <= 0x7E && r.hi >= 0x20) {
        cp = std::max<uint32_t>(r.lo, 0x20) + pick(std::min<uint32_t>(r.hi, 0x7E) - std::max<uint32_t>(r.lo, 0x20) + 1);
      } else if (roll < 7) {
        cp = pick(2) ? r.lo : r.hi;
      } else {
        cp = r.lo + pick(r.hi - r.lo + 1);
      }
      if (cp < 0xD800 || cp > 0xDFFF) return cp;
    }
    return 0xFFFFFFFF;
  }

  bool walk(ExprId id, std::string& out, int depth) {
    if (depth > 200 || --budget_ < 0 || out.size() > 300) return false;
    const Expr& e = g_.expr(id);
    switch (e.kind) {
      case ExprKind::kEmpty:
        return true;
      case ExprKind::kLiteral:
        out += e.bytes;
        return true;
      case ExprKind::kCharClass: {
        if (e.ranges.empty()) return false;
        const uint32_t cp = pick_cp(e.ranges);
        if (cp == 0xFFFFFFFF) return false;
        append_utf8(out, cp);
        return true;
      }
      case ExprKind::kByteClass: {
        if (e.ranges.empty()) return false;
        const Range& r = e.ranges[pick(static_cast<uint32_t>(e.ranges.size()))];
        out += static_cast<char>(r.lo + pick(r.hi - r.lo + 1));
        return true;
      }
      case ExprKind::kRuleRef:
        return g_.rule(e.rule).body >= 0 && walk(g_.rule(e.rule).body, out, depth + 1);
      case ExprKind::kSequence:
        for (ExprId c : e.children) {
          if (!walk(c, out, depth + 1)) return false;
        }
        return true;
      case ExprKind::kChoice: {
        // Try alternatives in a random order: some (empty classes) derive nothing.
        std::vector<ExprId> order = e.children;
        std::shuffle(order.begin(), order.end(), rng_);
        const size_t size = out.size();
        for (ExprId c : order) {
          if (walk(c, out, depth + 1)) return true;
          out.resize(size);
        }
        return false;
      }
      case ExprKind::kRepeat: {
        int32_t extra = pick(4) == 0 ? 0 : static_cast<int32_t>(pick(4));
        if (e.max != kUnbounded) extra = std::min(extra, e.max - e.min);
        for (int32_t k = 0; k < e.min + extra; ++k) {
          if (!walk(e.children[0], out, depth + 1)) return false;
        }
        return true;
      }
    }
    return false;
  }

  const Grammar& g_;
  std::mt19937_64& rng_;
  int budget_ = 0;
};

std::vector<uint32_t> decode_all(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t pos = 0; pos < s.size();) {
    const int32_t cp = decode_utf8(s, pos);
    if (cp < 0) return {};
    out.push_back(static_cast<uint32_t>(cp));
  }
  return out;
}
std::string encode_all(const std::vector<uint32_t>& cps) {
  std::string out;
  for (uint32_t cp : cps) append_utf8(out, cp);
  return out;
}

// Near misses of `s`: one edit each, with characters from the pattern and a few awkward ones.
std::vector<std::string> mutations(const std::string& s, const std::vector<uint32_t>& alphabet, std::mt19937_64& rng,
                                   int count) {
  std::vector<std::string> out;
  const std::vector<uint32_t> cps = decode_all(s);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  for (int k = 0; k < count; ++k) {
    std::vector<uint32_t> m = cps;
    const uint32_t ch = alphabet[pick(alphabet.size())];
    switch (pick(6)) {
      case 0:
        if (!m.empty()) m.erase(m.begin() + static_cast<ptrdiff_t>(pick(m.size())));
        break;
      case 1:
        m.insert(m.begin() + static_cast<ptrdiff_t>(pick(m.size() + 1)), ch);
        break;
      case 2:
        if (!m.empty()) m[pick(m.size())] = ch;
        break;
      case 3:
        if (!m.empty()) m.resize(pick(m.size()));
        break;
      case 4:
        if (m.size() >= 2) {
          const size_t i = pick(m.size() - 1);
          std::swap(m[i], m[i + 1]);
        }
        break;
      case 5:
        if (!m.empty()) {  // duplicate a slice
          const size_t i = pick(m.size()), n = 1 + pick(std::min<size_t>(4, m.size() - i));
          m.insert(m.begin() + static_cast<ptrdiff_t>(i), m.begin() + static_cast<ptrdiff_t>(i),
                   m.begin() + static_cast<ptrdiff_t>(i + n));
        }
        break;
    }
    out.push_back(encode_all(m));
  }
  return out;
}

std::vector<uint32_t> alphabet_for(std::string_view pattern) {
  std::set<uint32_t> set = {'a', 'Z', '0', '9', '-', '_', '.', ' ', '/', '\\', '"', '\n', '\r', '\t', 0,
                            0x7F, 0xA0, 0xE9, 0x2028, 0x4E00, 0xFEFF, 0x1F600};
  for (uint32_t cp : decode_all(pattern)) set.insert(cp);
  return {set.begin(), set.end()};
}

std::string show(std::string_view s) { return testing::PrintToString(std::string(s)); }

// A random JSON spelling of `s` (string contents, no quotes) among those the JSON mode must
// accept: raw where JSON allows it, `\/` for '/', short escapes or \u00XX (either case) for
// control characters, and with `unicode_escapes` \uXXXX or surrogate pairs for anything.
std::string random_json_spelling(std::string_view s, bool unicode_escapes, std::mt19937_64& rng) {
  auto u = [&](uint32_t v) {
    char buf[8];
    snprintf(buf, sizeof buf, rng() % 2 ? "\\u%04x" : "\\u%04X", v);
    return std::string(buf);
  };
  std::string out;
  for (uint32_t cp : decode_all(s)) {
    if (unicode_escapes && rng() % 3 == 0) {
      out += cp < 0x10000 ? u(cp) : u(0xD800 + ((cp - 0x10000) >> 10)) + u(0xDC00 + ((cp - 0x10000) & 0x3FF));
      continue;
    }
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '/': out += rng() % 2 ? "\\/" : "/"; continue;
      case '\b': out += rng() % 2 ? "\\b" : u(cp); continue;
      case '\f': out += rng() % 2 ? "\\f" : u(cp); continue;
      case '\n': out += rng() % 2 ? "\\n" : u(cp); continue;
      case '\r': out += rng() % 2 ? "\\r" : u(cp); continue;
      case '\t': out += rng() % 2 ? "\\t" : u(cp); continue;
      default: break;
    }
    if (cp < 0x20) {
      out += u(cp);
    } else {
      append_utf8(out, cp);
    }
  }
  return out;
}

// ---- The cross-check ----------------------------------------------------------------------------------------

struct Tally {
  int patterns_checked = 0;
  int rejected_by_us = 0;     // patterns we reject with an error (RE2 accepts them)
  int rejected_by_re2 = 0;    // patterns we accept but RE2 cannot take (or translate)
  int rejected_by_both = 0;
  int64_t strings = 0;
  int64_t full_strings = 0;   // the same strings checked against parse_regex and RE2::FullMatch
  int64_t matches = 0;        // strings RE2 matches (the rest are checked non-matches)
  int64_t json_walks = 0;     // inside_json_string walks checked valid and matching
  int64_t json_encodings = 0;  // canonical JSON encodings checked against RE2
  int mismatches = 0;
  std::vector<std::string> unsupported_examples;
};

Grammar json_grammar(std::string_view pattern, bool unicode_escapes) {
  Grammar g;
  RegexOptions options;
  options.inside_json_string = true;
  options.allow_unicode_escapes = unicode_escapes;
  g.set_root(add_regex_rule(g, pattern, options));
  return g;
}

void report_mismatch(Tally& t, const std::string& what) {
  if (++t.mismatches <= 30) ADD_FAILURE() << what;
}

// Checks one pattern; `walks` random walks, each with `mutants` near misses.
void cross_check(const std::string& pattern, int walks, int mutants, bool json, std::mt19937_64& rng, Tally& t,
                 const std::vector<std::string>& extra_inputs = {}) {
  std::optional<Grammar> ours;  // search semantics (add_regex_rule's default), vs RE2::PartialMatch
  std::optional<Grammar> full;  // parse_regex: whole-string semantics, vs RE2::FullMatch
  std::string our_error;
  try {
    ours.emplace();
    ours->set_root(add_regex_rule(*ours, pattern));
    full = parse_regex(pattern);
  } catch (const Error& e) {
    ours.reset();
    our_error = e.what();
  }
  const std::optional<std::string> translated = to_re2(pattern);
  std::unique_ptr<RE2> re = translated ? compile_re2(*translated) : nullptr;
  if (!ours && !re) {
    ++t.rejected_by_both;
    if (t.unsupported_examples.size() < 30) t.unsupported_examples.push_back("(RE2 too) " + pattern + "  -> " + our_error);
    return;
  }
  if (!ours) {
    ++t.rejected_by_us;
    if (t.unsupported_examples.size() < 30) t.unsupported_examples.push_back(pattern + "  -> " + our_error);
    return;
  }
  if (!re) {
    ++t.rejected_by_re2;
    return;
  }
  ++t.patterns_checked;

  std::vector<std::string> inputs = {"", "a", "0", " ", "\n", "-", "\xC3\xA9"};
  inputs.insert(inputs.end(), extra_inputs.begin(), extra_inputs.end());
  const std::vector<uint32_t> alphabet = alphabet_for(pattern);
  Walker walker(*ours, rng);
  for (int w = 0; w < walks; ++w) {
    std::optional<std::string> s = walker.walk();
    if (!s) continue;
    inputs.push_back(*s);
    for (std::string& m : mutations(*s, alphabet, rng, mutants)) inputs.push_back(std::move(m));
  }
  std::sort(inputs.begin(), inputs.end());
  inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());

  std::optional<Grammar> json_plain, json_escapes;
  if (json) {
    json_plain = json_grammar(pattern, false);
    json_escapes = json_grammar(pattern, true);
  }
  for (const std::string& s : inputs) {
    if (s.size() > 240) continue;  // the reference recognizer is cubic
    const bool expected = RE2::PartialMatch(s, *re);
    const bool got = recognizes(*ours, s);
    ++t.strings;
    t.matches += expected;
    if (got != expected) {
      report_mismatch(t, "pattern " + pattern + " (RE2: " + *translated + ") on " + show(s) +
                             ": ours " + (got ? "accepts" : "rejects") + ", RE2 " + (expected ? "matches" : "does not"));
    }
    const bool expected_full = RE2::FullMatch(s, *re);
    ++t.full_strings;
    if (recognizes(*full, s) != expected_full) {
      report_mismatch(t, "parse_regex (full match): pattern " + pattern + " (RE2: " + *translated + ") on " + show(s) +
                             ": RE2::FullMatch says " + (expected_full ? "match" : "no match"));
    }
    if (!json) continue;
    // The canonical JSON spellings of s: raw UTF-8, and with every non-ASCII code point escaped.
    const std::string raw = nlohmann::json(s).dump(-1, ' ', false);
    const std::string ascii = nlohmann::json(s).dump(-1, ' ', true);
    const std::string raw_body = raw.substr(1, raw.size() - 2);
    const std::string ascii_body = ascii.substr(1, ascii.size() - 2);
    t.json_encodings += 2;
    if (recognizes(*json_plain, raw_body) != expected) {
      report_mismatch(t, "inside_json_string: pattern " + pattern + " on " + show(raw_body) + " (decoded " + show(s) +
                             "): RE2 " + (expected ? "matches" : "does not"));
    }
    if (recognizes(*json_escapes, ascii_body) != expected) {
      report_mismatch(t, "allow_unicode_escapes: pattern " + pattern + " on " + show(ascii_body) + " (decoded " +
                             show(s) + "): RE2 " + (expected ? "matches" : "does not"));
    }
    for (bool unicode_escapes : {false, true}) {
      const std::string spelling = random_json_spelling(s, unicode_escapes, rng);
      ++t.json_encodings;
      if (recognizes(unicode_escapes ? *json_escapes : *json_plain, spelling) != expected) {
        report_mismatch(t, std::string(unicode_escapes ? "allow_unicode_escapes" : "inside_json_string") +
                               ": pattern " + pattern + " on the spelling " + show(spelling) + " (decoded " + show(s) +
                               "): RE2 " + (expected ? "matches" : "does not"));
      }
    }
  }
  if (!json) return;
  // Soundness of the JSON mode: every walk is valid JSON string contents and its value matches.
  for (const Grammar* g : {&*json_plain, &*json_escapes}) {
    Walker json_walker(*g, rng);
    for (int w = 0; w < walks; ++w) {
      std::optional<std::string> body = json_walker.walk();
      if (!body) continue;
      ++t.json_walks;
      nlohmann::json value;
      try {
        value = nlohmann::json::parse("\"" + *body + "\"");
      } catch (const nlohmann::json::exception& e) {
        report_mismatch(t, "inside_json_string walk of " + pattern + " is not a JSON string: " + show(*body));
        continue;
      }
      if (!RE2::PartialMatch(value.get<std::string>(), *re)) {
        report_mismatch(t, "inside_json_string walk of " + pattern + ": " + show(*body) + " decodes to " +
                               show(value.get<std::string>()) + ", which RE2 does not match");
      }
    }
  }
}

void print_tally(const char* name, const Tally& t) {
  std::printf(
      "[%s] patterns checked %d (rejected by us only %d, by RE2 only %d, by both %d); strings %lld (%lld RE2 matches, "
      "%lld non-matches); full-match checks %lld; JSON encodings %lld; JSON walks %lld; mismatches %d\n",
      name, t.patterns_checked, t.rejected_by_us, t.rejected_by_re2, t.rejected_by_both,
      static_cast<long long>(t.strings), static_cast<long long>(t.matches),
      static_cast<long long>(t.strings - t.matches), static_cast<long long>(t.full_strings),
      static_cast<long long>(t.json_encodings),
      static_cast<long long>(t.json_walks), t.mismatches);
  for (const std::string& e : t.unsupported_examples) std::printf("  unsupported: %s\n", e.c_str());
}

// Realistic JSON Schema patterns, plus corner cases of the dialect.
const std::vector<std::string> kCorpus = {
    R"(^\d{4}-\d{2}-\d{2}$)",
    R"(^(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$)",
    R"(^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$)",
    R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)",
    R"(^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$)",
    R"(^\+?[1-9]\d{1,14}$)",
    R"(^\(\d{3}\) \d{3}-\d{4}$)",
    R"(^[A-Za-z_][A-Za-z0-9_]*$)",
    R"(^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$)",
    R"(^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$)",
    R"(^[a-z]+(-[a-z]+)*$)",
    R"(^[\u0400-\u04FF\s]+$)",
    R"(^[\u4e00-\u9fff]{1,10}$)",
    R"(^(cat|dog|bird)s?$)",
    R"(^(?:[A-Z]{2}|[a-z]{3})\d{0,3}$)",
    R"(^a{2,5}b{0,3}$)",
    R"(\d+)",
    R"(foo|bar)",
    R"(^https?://[^\s/$.?#].[^\s]*$)",
    R"(^(\d{1,3}\.){3}\d{1,3}$)",
    R"(^([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}$)",
    R"(^[A-Z]{3}$)",
    R"(^[^<>]*$)",
    R"(^\S+$)",
    R"(^\s*$)",
    R"(^\w+( \w+)*$)",
    R"(^[a-z0-9]+(?:-[a-z0-9]+)*$)",
    R"(^.{1,20}$)",
    R"(^[\w.+-]+$)",
    R"(^(true|false|yes|no)$)",
    R"(^[0-9]{5}(-[0-9]{4})?$)",
    R"(^[A-Z][a-z]+, [A-Z]{2}$)",
    R"(^\$?\d+(\.\d{2})?$)",
    R"(^-?\d+(\.\d+)?([eE][+-]?\d+)?$)",
    R"(^[\x20-\x7E]*$)",
    R"(^[^\x00-\x1F\x7F]*$)",
    R"(^(?<major>\d+)\.(?<minor>\d+)$)",
    R"(^\u{1F600}+$)",
    "^[\xF0\x9F\x98\x80-\xF0\x9F\x99\x8F]+$",
    R"(^(a|ab)(c|bcd)(d*)$)",
    R"((^a|b$))",
    R"(^a|b$)",
    R"((?:^|\s)#\w+)",
    R"(x*y*z*)",
    R"(^\d{3}(?:[-.\s]?\d{3}){2}\d?$)",
    R"(^[^\n\r]*$)",
    R"(^(\w+\s?)*$)",
    R"(^[A-Z0-9]{8}-[A-Z0-9]{4}$)",
    R"(^P(\d+Y)?(\d+M)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$)",
    R"(^[\t -~]+$)",
    R"(^\\[a-z]+$)",
    R"(^"[^"]*"$)",
    R"(^[\s\S]*$)",
    R"(^\d*\.?\d*$)",
    R"(^([a-z]{2})(_[A-Z]{2})?$)",
    R"(^[a-zA-Z]:\\(?:[^\\/:*?"<>|\r\n]+\\)*[^\\/:*?"<>|\r\n]*$)",
    R"(^[^/]+/[^/]+$)",
    R"(^\w{3,}\W\w+$)",
    R"(.)",
    R"(^(?:ab|cd){2,3}?$)",
    R"(^[\]\[]+$)",
    R"(^[.\-_]$)",
    R"(ab{2}c|d{1,2}e)",
    R"(^\0\x7f\cA$)",
    R"(^[^\u0000-\u007F]+$)",
    "^\xC3\xA9+$",
    R"(^\u00e9\u0301$)",
    R"(^[\d\-\s().+]{7,20}$)",
    R"(^\uD83D\uDE00?$)",
    R"(^[^]$)",
    R"(a[]|b)",
    R"(^[\S\s]{2}$)",
    R"(^\/api\/v1\/[^/]+$)",
    R"(^a{,2}$)",
    R"(^x{1000}$)",
    R"(^(?:(?:a|b)*c){2}$)",
    R"(^[\w-]+(\.[\w-]+)*$)",
    R"(^[\p]$)",
};

TEST(RegexRe2CrossCheck, HandWrittenCorpus) {
  std::mt19937_64 rng(20240601);
  Tally t;
  for (const std::string& pattern : kCorpus) cross_check(pattern, 50, 3, /*json=*/true, rng, t);
  print_tally("corpus", t);
  EXPECT_EQ(t.mismatches, 0);
  EXPECT_GE(t.patterns_checked, 75) << "patterns of the corpus should parse on both sides";
  EXPECT_GE(t.strings, 10000);
  EXPECT_GE(t.matches, 2000);
}

// Every `pattern` (and `patternProperties` key) in JSONSchemaBench's dev split.
std::vector<std::string> jsb_patterns() {
  std::ifstream in(std::string(STENCIL_DATA_DIR) + "/datasets/jsonschemabench/jsb_dev.jsonl");
  std::set<std::string> patterns;
  if (!in) return {};
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object() || !record.contains("schema")) continue;
    std::vector<const nlohmann::json*> stack = {&record["schema"]};  // explicit stack: schemas nest deeply
    while (!stack.empty()) {
      const nlohmann::json* node = stack.back();
      stack.pop_back();
      if (node->is_object()) {
        for (const auto& [key, value] : node->items()) {
          if (key == "pattern" && value.is_string()) patterns.insert(value.get<std::string>());
          if (key == "patternProperties" && value.is_object()) {
            for (const auto& [p, unused] : value.items()) patterns.insert(p);
          }
          stack.push_back(&value);
        }
      } else if (node->is_array()) {
        for (const auto& value : *node) stack.push_back(&value);
      }
    }
  }
  return {patterns.begin(), patterns.end()};
}

TEST(RegexRe2CrossCheck, JsonSchemaBenchPatterns) {
  const std::vector<std::string> patterns = jsb_patterns();
  if (patterns.empty()) {
    GTEST_SKIP() << "no " << STENCIL_DATA_DIR << "/datasets/jsonschemabench/jsb_dev.jsonl (run scripts/prepare-data)";
  }
  std::mt19937_64 rng(7);
  Tally t;
  for (size_t i = 0; i < patterns.size(); ++i) {
    cross_check(patterns[i], 12, 2, /*json=*/i % 4 == 0, rng, t);
  }
  print_tally("jsonschemabench", t);
  EXPECT_EQ(t.mismatches, 0);
  EXPECT_GE(t.patterns_checked, 1000) << "of " << patterns.size() << " unique patterns";
}

// Random patterns over a small alphabet: nested groups, alternations, every quantifier form,
// anchors in random places (those not at an edge are errors for us, which is counted), class
// escapes inside and outside classes. Strings: all strings of length <= 3 over a small
// alphabet, plus walks and their mutations.
class PatternGenerator {
 public:
  explicit PatternGenerator(std::mt19937_64& rng) : rng_(rng) {}
  std::string pattern() { return disjunction(0); }

 private:
  size_t pick(size_t n) { return static_cast<size_t>(rng_() % n); }
  std::string disjunction(int depth) {
    std::string out = alternative(depth);
    while (pick(4) == 0) {
      out += '|';
      out += alternative(depth);
    }
    return out;
  }
  std::string alternative(int depth) {
    std::string out;
    for (size_t n = pick(5); n > 0; --n) out += term(depth);
    return out;
  }
  std::string term(int depth) {
    const size_t roll = pick(100);
    if (roll < 5) return "^";
    if (roll < 10) return "$";
    std::string atom;
    static const char* kAtoms[] = {"a", "b", "a", "b", "1", "-", ".", "\\d", "\\w", "\\s", "\\S", "\\D", "\\W",
                                   "\\n", "\\x61", "\\u0062", "\\.", "[ab]", "[^a]", "[a-c]", "[\\d\\s]", "[^\\w]",
                                   "[.-]", "[^]", "\u00e9", "[\\S\\n]"};
    if (depth < 3 && pick(4) == 0) {
      static const char* kOpen[] = {"(", "(?:", "(?<g>"};
      atom = kOpen[pick(3)];
      atom += disjunction(depth + 1);
      atom += ')';
    } else {
      atom = kAtoms[pick(sizeof kAtoms / sizeof kAtoms[0])];
    }
    static const char* kQuantifiers[] = {"", "", "", "*", "+", "?", "{2}", "{1,3}", "{0,}", "{2,}", "{0,1}", "*?", "+?", "{1,2}?"};
    atom += kQuantifiers[pick(sizeof kQuantifiers / sizeof kQuantifiers[0])];
    return atom;
  }
  std::mt19937_64& rng_;
};

TEST(RegexRe2CrossCheck, RandomPatterns) {
  std::mt19937_64 rng(99);
  PatternGenerator gen(rng);
  Tally t;
  const std::string alphabet[] = {"a", "b", "1", "-", "\n", "\xC3\xA9"};
  std::vector<std::string> small = {""};
  for (size_t begin = 0, len = 0; len < 3; ++len) {
    const size_t end = small.size();
    for (size_t i = begin; i < end; ++i) {
      for (const std::string& c : alphabet) {
        std::string longer = small[i];
        longer += c;
        small.push_back(std::move(longer));
      }
    }
    begin = end;
  }
  for (int k = 0; k < 800; ++k) {
    const std::string pattern = gen.pattern();
    cross_check(pattern, 8, 2, /*json=*/k % 8 == 0, rng, t, small);
  }
  print_tally("random", t);
  EXPECT_EQ(t.mismatches, 0);
  EXPECT_GE(t.patterns_checked, 500);
  EXPECT_GE(t.strings, 150000);
}

TEST(RegexRe2Translation, RewritesOnlyEcmaScriptSpellings) {
  EXPECT_EQ(to_re2(R"(^a\d+$)"), R"(^a\d+$)");
  EXPECT_EQ(to_re2(R"(\u0041\x42)"), R"(\x{41}\x{42})");
  EXPECT_EQ(to_re2(R"(\uD83D\uDE00)"), R"(\x{1F600})");
  EXPECT_EQ(to_re2(R"((?<n>a))"), R"((?P<n>a))");
  EXPECT_EQ(to_re2(R"(.)"), R"([^\n\r\x{2028}\x{2029}])");
  EXPECT_EQ(to_re2(R"([^])"), R"([\x{0}-\x{10FFFF}])");
  EXPECT_EQ(to_re2(R"(\1)"), std::nullopt);
  // RE2 really disagrees with ECMAScript on the rewritten spellings (else the rewrite would be pointless).
  EXPECT_FALSE(RE2::FullMatch("\v", R"(\s)"));
  EXPECT_TRUE(RE2::FullMatch("\v", *to_re2(R"(\s)")));
  EXPECT_TRUE(RE2::FullMatch("\xE2\x80\xA8", "."));
  EXPECT_FALSE(RE2::FullMatch("\xE2\x80\xA8", *to_re2(".")));
}

}  // namespace
}  // namespace stencil::grammar
