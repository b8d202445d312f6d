// String grammars (see string_grammar.h).
//
// Formats are written out as grammar from their RFCs (3339 dates and times with
// day-of-month and leap-year checks, 3986 URIs, 4291 IPv6, ...), restricted where
// validators disagree to the strict common subset: every value produced is valid
// for python-jsonschema's format checkers.
#include "schema/string_grammar.h"

#include <map>

#include "grammar/utf8.h"
#include "schema/schema_node.h"

namespace stencil::schema {
namespace {

using grammar::ExprId;
using grammar::Grammar;
using grammar::kUnbounded;
using grammar::Range;

// Code points written raw in canonical spelling: everything but ", \ and controls.
const std::vector<Range> kRawRanges = {{0x20, 0x21}, {0x23, 0x5B}, {0x5D, grammar::kMaxCodepoint}};

std::string escape_for(uint32_t cp) {
  switch (cp) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: {
      static const char* kHex = "0123456789abcdef";
      return std::string("\\u00") + kHex[(cp >> 4) & 0xF] + kHex[cp & 0xF];
    }
  }
}

bool is_raw(uint32_t cp) { return cp >= 0x20 && cp != '"' && cp != '\\'; }

// A small builder vocabulary for the format grammars (ASCII only).
struct B {
  Grammar& g;
  ExprId lit(std::string_view s) { return g.literal(s); }
  ExprId cls(std::vector<Range> r) { return g.byte_class(std::move(r)); }
  ExprId seq(std::vector<ExprId> v) { return g.sequence(std::move(v)); }
  ExprId alt(std::vector<ExprId> v) { return g.choice(std::move(v)); }
  ExprId rep(ExprId e, int32_t lo, int32_t hi) { return g.repeat(e, lo, hi); }
  ExprId opt(ExprId e) { return g.optional(e); }
  ExprId digit() { return cls({{'0', '9'}}); }
  ExprId digits(int32_t n) { return rep(digit(), n, n); }
  ExprId hex() { return cls({{'0', '9'}, {'a', 'f'}, {'A', 'F'}}); }
  ExprId alpha() { return cls({{'a', 'z'}, {'A', 'Z'}}); }
};

ExprId date_expr(B& b) {
  ExprId d = b.digit();
  ExprId year = b.alt({b.seq({b.cls({{'1', '9'}}), b.digits(3)}), b.seq({b.lit("0"), b.cls({{'1', '9'}}), b.digits(2)}),
                       b.seq({b.lit("00"), b.cls({{'1', '9'}}), d}), b.seq({b.lit("000"), b.cls({{'1', '9'}})})});
  ExprId day28 = b.alt({b.seq({b.lit("0"), b.cls({{'1', '9'}})}), b.seq({b.lit("1"), d}), b.seq({b.lit("2"), b.cls({{'0', '8'}})})});
  ExprId day30 = b.alt({b.seq({b.lit("0"), b.cls({{'1', '9'}})}), b.seq({b.cls({{'1', '2'}}), d}), b.lit("30")});
  ExprId day31 = b.alt({b.seq({b.lit("0"), b.cls({{'1', '9'}})}), b.seq({b.cls({{'1', '2'}}), d}), b.seq({b.lit("3"), b.cls({{'0', '1'}})})});
  ExprId m31 = b.alt({b.seq({b.lit("0"), b.cls({{'1', '1'}, {'3', '3'}, {'5', '5'}, {'7', '8'}})}), b.seq({b.lit("1"), b.cls({{'0', '0'}, {'2', '2'}})})});
  ExprId m30 = b.alt({b.seq({b.lit("0"), b.cls({{'4', '4'}, {'6', '6'}, {'9', '9'}})}), b.lit("11")});
  ExprId md = b.alt({b.seq({m31, b.lit("-"), day31}), b.seq({m30, b.lit("-"), day30}), b.seq({b.lit("02-"), day28})});
  // Leap years: divisible by 4 but not by 100, or by 400 (never 0000).
  ExprId by4 = b.alt({b.seq({b.lit("0"), b.cls({{'4', '4'}, {'8', '8'}})}), b.seq({b.cls({{'2', '2'}, {'4', '4'}, {'6', '6'}, {'8', '8'}}), b.cls({{'0', '0'}, {'4', '4'}, {'8', '8'}})}),
                      b.seq({b.cls({{'1', '1'}, {'3', '3'}, {'5', '5'}, {'7', '7'}, {'9', '9'}}), b.cls({{'2', '2'}, {'6', '6'}})})});
  ExprId by4_any = b.alt({b.seq({b.cls({{'0', '0'}, {'2', '2'}, {'4', '4'}, {'6', '6'}, {'8', '8'}}), b.cls({{'0', '0'}, {'4', '4'}, {'8', '8'}})}),
                          b.seq({b.cls({{'1', '1'}, {'3', '3'}, {'5', '5'}, {'7', '7'}, {'9', '9'}}), b.cls({{'2', '2'}, {'6', '6'}})})});
  ExprId leap = b.alt({b.seq({b.digits(2), by4}), b.seq({by4, b.lit("00")})});
  (void)by4_any;
  return b.alt({b.seq({year, b.lit("-"), md}), b.seq({leap, b.lit("-02-29")})});
}

ExprId time_expr(B& b) {
  ExprId hh = b.alt({b.seq({b.cls({{'0', '1'}}), b.digit()}), b.seq({b.lit("2"), b.cls({{'0', '3'}})})});
  ExprId mm = b.seq({b.cls({{'0', '5'}}), b.digit()});
  ExprId frac = b.opt(b.seq({b.lit("."), b.rep(b.digit(), 1, kUnbounded)}));
  ExprId offset = b.alt({b.lit("Z"), b.seq({b.cls({{'+', '+'}, {'-', '-'}}), hh, b.lit(":"), mm})});
  return b.seq({hh, b.lit(":"), mm, b.lit(":"), mm, frac, offset});
}

ExprId duration_expr(B& b) {
  // RFC 3339 appendix A: each unit may only be followed by the next smaller one (no "PT1H2S").
  ExprId n = b.rep(b.digit(), 1, kUnbounded);
  auto unit = [&](const char* u) { return b.seq({n, b.lit(u)}); };
  ExprId second = unit("S");
  ExprId minute = b.seq({unit("M"), b.opt(second)});
  ExprId hour = b.seq({unit("H"), b.opt(minute)});
  ExprId time = b.seq({b.lit("T"), b.alt({hour, minute, second})});
  ExprId day = unit("D");
  ExprId month = b.seq({unit("M"), b.opt(day)});
  ExprId year = b.seq({unit("Y"), b.opt(month)});
  ExprId date = b.alt({year, month, day});
  return b.seq({b.lit("P"), b.alt({b.seq({date, b.opt(time)}), time, unit("W")})});
}

ExprId json_pointer_expr(B& b) {
  // RFC 6901: ("/" (unescaped | "~0" | "~1")*)*; inside a JSON string, so " \ and controls are excluded.
  ExprId unescaped = b.g.char_class({{0x20, 0x21}, {0x23, 0x2E}, {0x30, 0x5B}, {0x5D, 0x7D}, {0x7F, grammar::kMaxCodepoint}});
  ExprId ref_token = b.rep(b.alt({unescaped, b.lit("~0"), b.lit("~1")}), 0, kUnbounded);
  return b.rep(b.seq({b.lit("/"), ref_token}), 0, kUnbounded);
}

ExprId relative_json_pointer_expr(B& b) {
  ExprId nonneg = b.alt({b.lit("0"), b.seq({b.cls({{'1', '9'}}), b.rep(b.digit(), 0, kUnbounded)})});
  return b.seq({nonneg, b.alt({b.lit("#"), json_pointer_expr(b)})});
}

ExprId ipv4_expr(B& b) {
  ExprId d = b.digit();
  ExprId octet = b.alt({b.seq({b.lit("25"), b.cls({{'0', '5'}})}), b.seq({b.lit("2"), b.cls({{'0', '4'}}), d}),
                        b.seq({b.lit("1"), d, d}), b.seq({b.cls({{'1', '9'}}), d}), d});
  return b.seq({octet, b.rep(b.seq({b.lit("."), octet}), 3, 3)});
}

ExprId ipv6_expr(B& b) {
  ExprId h16 = b.rep(b.hex(), 1, 4);
  ExprId h16c = b.seq({h16, b.lit(":")});
  ExprId ls32 = b.alt({b.seq({h16, b.lit(":"), h16}), ipv4_expr(b)});
  // [ *n( h16 ":" ) h16 ]
  auto pre = [&](int32_t n) { return b.opt(b.seq({b.rep(h16c, 0, n), h16})); };
  std::vector<ExprId> forms = {
      b.seq({b.rep(h16c, 6, 6), ls32}),
      b.seq({b.lit("::"), b.rep(h16c, 5, 5), ls32}),
      b.seq({b.opt(h16), b.lit("::"), b.rep(h16c, 4, 4), ls32}),
      b.seq({pre(1), b.lit("::"), b.rep(h16c, 3, 3), ls32}),
      b.seq({pre(2), b.lit("::"), b.rep(h16c, 2, 2), ls32}),
      b.seq({pre(3), b.lit("::"), h16c, ls32}),
      b.seq({pre(4), b.lit("::"), ls32}),
      b.seq({pre(5), b.lit("::"), h16}),
      b.seq({pre(6), b.lit("::")}),
  };
  return b.alt(forms);
}

ExprId hostname_expr(B& b) {
  ExprId alnum = b.cls({{'a', 'z'}, {'A', 'Z'}, {'0', '9'}});
  // No "--" anywhere, so no punycode A-labels (their validity needs IDNA tables); at most
  // 61 characters per label and 4 labels: never over 253 characters.
  ExprId label = b.seq({alnum, b.rep(b.alt({alnum, b.seq({b.lit("-"), alnum})}), 0, 30)});
  return b.seq({label, b.rep(b.seq({b.lit("."), label}), 0, 3)});
}

ExprId email_expr(B& b) {
  ExprId atext = b.cls({{'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {'!', '!'}, {'#', '\''}, {'*', '+'}, {'-', '-'}, {'/', '/'},
                        {'=', '='}, {'?', '?'}, {'^', '`'}, {'{', '~'}});
  ExprId word = b.rep(atext, 1, 64);
  ExprId local = b.seq({word, b.rep(b.seq({b.lit("."), word}), 0, 4)});
  return b.seq({local, b.lit("@"), hostname_expr(b)});
}

struct UriParts {
  ExprId authority, path_abempty, path_absolute, path_rootless, path_noscheme, query;
};

UriParts uri_parts(B& b) {
  ExprId unreserved = b.cls({{'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {'-', '.'}, {'_', '_'}, {'~', '~'}});
  ExprId sub_delims = b.cls({{'!', '!'}, {'$', '$'}, {'&', ','}, {';', ';'}, {'=', '='}});
  ExprId pct = b.seq({b.lit("%"), b.hex(), b.hex()});
  ExprId pchar_nc = b.alt({unreserved, pct, sub_delims, b.lit("@")});
  ExprId pchar = b.alt({unreserved, pct, sub_delims, b.lit("@"), b.lit(":")});
  ExprId segment = b.rep(pchar, 0, kUnbounded);
  ExprId segment_nz = b.rep(pchar, 1, kUnbounded);
  ExprId userinfo = b.rep(b.alt({unreserved, pct, sub_delims, b.lit(":")}), 0, kUnbounded);
  ExprId reg_name = b.rep(b.alt({unreserved, pct, sub_delims}), 0, kUnbounded);
  ExprId host = b.alt({b.seq({b.lit("["), ipv6_expr(b), b.lit("]")}), reg_name});
  ExprId port = b.rep(b.digit(), 0, kUnbounded);
  UriParts p;
  p.authority = b.seq({b.opt(b.seq({userinfo, b.lit("@")})), host, b.opt(b.seq({b.lit(":"), port}))});
  p.path_abempty = b.rep(b.seq({b.lit("/"), segment}), 0, kUnbounded);
  p.path_absolute = b.seq({b.lit("/"), b.opt(b.seq({segment_nz, p.path_abempty}))});
  p.path_rootless = b.seq({segment_nz, p.path_abempty});
  p.path_noscheme = b.seq({b.rep(pchar_nc, 1, kUnbounded), p.path_abempty});
  p.query = b.rep(b.alt({pchar, b.lit("/"), b.lit("?")}), 0, kUnbounded);
  return p;
}

ExprId uri_expr(B& b, bool reference) {
  UriParts p = uri_parts(b);
  ExprId scheme = b.seq({b.alpha(), b.rep(b.cls({{'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {'+', '+'}, {'-', '.'}}), 0, kUnbounded)});
  ExprId tail = b.seq({b.opt(b.seq({b.lit("?"), p.query})), b.opt(b.seq({b.lit("#"), p.query}))});
  ExprId hier = b.alt({b.seq({b.lit("//"), p.authority, p.path_abempty}), p.path_absolute, p.path_rootless, b.g.empty()});
  ExprId uri = b.seq({scheme, b.lit(":"), hier, tail});
  if (!reference) return uri;
  ExprId relative = b.alt({b.seq({b.lit("//"), p.authority, p.path_abempty}), p.path_absolute, p.path_noscheme, b.g.empty()});
  return b.alt({uri, b.seq({relative, tail})});
}

}  // namespace

ExprId json_char(Grammar& g, bool allow_escapes) {
  ExprId raw = g.char_class(kRawRanges);
  if (!allow_escapes) return raw;
  B b{g};
  ExprId hex = b.hex();
  // \uXXXX that is not a surrogate; a high surrogate followed by a low one counts as one character.
  ExprId non_surrogate = b.alt({b.seq({b.cls({{'0', '9'}, {'a', 'c'}, {'A', 'C'}}), hex, hex, hex}),
                                b.seq({b.cls({{'e', 'f'}, {'E', 'F'}}), hex, hex, hex}),
                                b.seq({b.cls({{'d', 'd'}, {'D', 'D'}}), b.cls({{'0', '7'}}), hex, hex})});
  ExprId high = b.seq({b.cls({{'d', 'd'}, {'D', 'D'}}), b.cls({{'8', '9'}, {'a', 'b'}, {'A', 'B'}}), hex, hex});
  ExprId low = b.seq({b.cls({{'d', 'd'}, {'D', 'D'}}), b.cls({{'c', 'f'}, {'C', 'F'}}), hex, hex});
  ExprId escape = b.seq({b.lit("\\"), b.alt({b.cls({{'"', '"'}, {'\\', '\\'}, {'/', '/'}, {'b', 'b'}, {'f', 'f'}, {'n', 'n'}, {'r', 'r'}, {'t', 't'}}),
                                           b.seq({b.lit("u"), non_surrogate}), b.seq({b.lit("u"), high, b.lit("\\u"), low})})});
  return g.choice({raw, escape});
}

std::optional<ExprId> string_body(Grammar& g, int64_t min_chars, int64_t max_chars, bool allow_escapes,
                                  int32_t max_repetition) {
  if (max_chars != kNoMax && max_chars < min_chars) return std::nullopt;
  auto clamp = [&](int64_t v) { return static_cast<int32_t>(std::min<int64_t>(v, INT32_MAX)); };
  (void)max_repetition;
  return g.repeat(json_char(g, allow_escapes), clamp(min_chars), max_chars == kNoMax ? kUnbounded : clamp(max_chars));
}

std::optional<std::string> canonical_json_string(std::string_view utf8) {
  std::string out = "\"";
  size_t pos = 0;
  while (pos < utf8.size()) {
    const size_t start = pos;
    const int32_t cp = grammar::decode_utf8(utf8, pos);
    if (cp < 0) return std::nullopt;
    if (is_raw(static_cast<uint32_t>(cp))) {
      out.append(utf8.substr(start, pos - start));
    } else {
      out += escape_for(static_cast<uint32_t>(cp));
    }
  }
  out += "\"";
  return out;
}

ExprId quoted_string_excluding(Grammar& g, const std::vector<std::string>& excluded) {
  // A trie over code points; node 0 is the root.
  struct TrieNode {
    std::map<uint32_t, int32_t> children;
    bool terminal = false;
  };
  std::vector<TrieNode> trie(1);
  for (const std::string& name : excluded) {
    int32_t at = 0;
    size_t pos = 0;
    bool ok = true;
    std::vector<uint32_t> cps;
    while (pos < name.size()) {
      int32_t cp = grammar::decode_utf8(name, pos);
      if (cp < 0) {
        ok = false;
        break;
      }
      cps.push_back(static_cast<uint32_t>(cp));
    }
    if (!ok) continue;  // not valid UTF-8: no canonical spelling collides with it
    for (uint32_t cp : cps) {
      auto it = trie[static_cast<size_t>(at)].children.find(cp);
      if (it == trie[static_cast<size_t>(at)].children.end()) {
        trie.push_back({});
        const auto next = static_cast<int32_t>(trie.size() - 1);
        trie[static_cast<size_t>(at)].children.emplace(cp, next);
        at = next;
      } else {
        at = it->second;
      }
    }
    trie[static_cast<size_t>(at)].terminal = true;
  }
  // Canonical characters: raw code points, and the escapes of the others.
  const ExprId any_canonical = [&] {
    std::vector<ExprId> alts = {g.char_class(kRawRanges)};
    for (uint32_t cp = 0; cp < 0x20; ++cp) alts.push_back(g.literal(escape_for(cp)));
    alts.push_back(g.literal(escape_for('"')));
    alts.push_back(g.literal(escape_for('\\')));
    return g.star(g.choice(alts));
  }();
  auto unit = [&](uint32_t cp) { return is_raw(cp) ? g.char_class({{cp, cp}}) : g.literal(escape_for(cp)); };
  // The escaped characters' literals, shared by every trie node.
  std::map<uint32_t, ExprId> escapes;
  for (uint32_t cp = 0; cp < 0x20; ++cp) escapes[cp] = g.literal(escape_for(cp));
  escapes['"'] = g.literal(escape_for('"'));
  escapes['\\'] = g.literal(escape_for('\\'));
  const ExprId raw_all = g.char_class(kRawRanges);
  const ExprId all_escapes = [&] {
    std::vector<ExprId> v;
    for (const auto& [cp, e] : escapes) v.push_back(e);
    return g.choice(v);
  }();
  // Children are created after their parents, so a reverse walk builds each node's tail first.
  std::vector<ExprId> tail(trie.size());
  for (size_t i = trie.size(); i-- > 0;) {
    const TrieNode& t = trie[i];
    std::vector<ExprId> alts;
    if (!t.terminal) alts.push_back(g.empty());
    std::vector<Range> raw_children;
    for (const auto& [cp, child] : t.children) {
      alts.push_back(g.sequence({unit(cp), tail[static_cast<size_t>(child)]}));
      if (is_raw(cp)) raw_children.push_back({cp, cp});
    }
    // Leaving the trie: any other first character, then anything.
    std::vector<ExprId> others;
    if (raw_children.empty()) {
      others.push_back(raw_all);
    } else {
      std::vector<Range> remaining;
      for (Range r : kRawRanges) {  // kRawRanges minus raw_children (both sorted)
        uint32_t lo = r.lo;
        for (const Range& c : raw_children) {
          if (c.lo < lo || c.lo > r.hi) continue;
          if (c.lo > lo) remaining.push_back({lo, c.lo - 1});
          lo = c.lo + 1;
        }
        if (lo <= r.hi) remaining.push_back({lo, r.hi});
      }
      if (!remaining.empty()) others.push_back(g.char_class(remaining));
    }
    if (raw_children.size() == t.children.size()) {
      others.push_back(all_escapes);
    } else {
      for (const auto& [cp, e] : escapes) {
        if (!t.children.count(cp)) others.push_back(e);
      }
    }
    if (!others.empty()) alts.push_back(g.sequence({g.choice(others), any_canonical}));
    tail[i] = alts.empty() ? g.char_class({}) : g.choice(alts);
  }
  return g.sequence({g.literal("\""), tail[0], g.literal("\"")});
}

std::optional<ExprId> format_body(Grammar& g, std::string_view format) {
  B b{g};
  if (format == "date") return date_expr(b);
  if (format == "time") return time_expr(b);
  if (format == "date-time") return b.seq({date_expr(b), b.lit("T"), time_expr(b)});
  if (format == "duration") return duration_expr(b);
  if (format == "email") return email_expr(b);
  if (format == "hostname") return hostname_expr(b);
  if (format == "ipv4") return ipv4_expr(b);
  if (format == "ipv6") return ipv6_expr(b);
  if (format == "uuid") {
    ExprId h = b.hex();
    return b.seq({b.rep(h, 8, 8), b.lit("-"), b.rep(h, 4, 4), b.lit("-"), b.rep(h, 4, 4), b.lit("-"), b.rep(h, 4, 4), b.lit("-"), b.rep(h, 12, 12)});
  }
  if (format == "uri") return uri_expr(b, false);
  if (format == "uri-reference") return uri_expr(b, true);
  if (format == "json-pointer") return json_pointer_expr(b);
  if (format == "relative-json-pointer") return relative_json_pointer_expr(b);
  return std::nullopt;
}

std::pair<int64_t, int64_t> format_length_range(std::string_view format) {
  if (format == "date") return {10, 10};
  if (format == "uuid") return {36, 36};
  if (format == "ipv4") return {7, 15};
  if (format == "ipv6") return {2, 45};
  if (format == "time") return {9, kNoMax};
  if (format == "date-time") return {20, kNoMax};
  if (format == "hostname") return {1, 247};
  if (format == "duration") return {3, kNoMax};
  if (format == "email") return {3, kNoMax};
  if (format == "uri") return {2, kNoMax};
  return {0, kNoMax};
}

}  // namespace stencil::schema
