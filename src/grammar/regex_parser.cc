// The regex front end: ECMAScript-style patterns (the JSON Schema `pattern`
// dialect) to the grammar IR. Implements parse_regex and add_regex_rule (grammar.h).
//
// Three passes over the pattern, each over a flat, index-based tree:
//  1. parse: the pattern (UTF-8, read as code points, i.e. ECMAScript's `u` reading)
//     becomes a small AST of classes (a literal character is a class of one code
//     point), sequences, alternations, repeats and the two anchors. Recursive descent
//     with a depth guard on group nesting (kMaxRegexDepth).
//  2. plan anchors: JSON Schema patterns are NOT anchored — `abc` matches any string
//     containing abc (ECMAScript search semantics, the default of add_regex_rule). The
//     grammar must match whole strings, so every place where the match may start or end
//     without an anchor gets an "any string" filler. The plan pass walks the left and
//     right edges of the pattern (through alternations, sequences and groups) and decides
//     where the fillers go, so `^a|b$` becomes `a.* | .*b` and `(?:^|,)x` becomes
//     `(|.*,)x.*`. With RegexOptions::full_match (parse_regex, compile_regex) the edges
//     start out anchored and no filler is ever added. Either way an anchor anywhere else
//     (`a^b`, `(^a)*`) is an error naming its column.
//  3. lower: AST -> IR. Counted repeats stay kRepeat nodes (never unrolled). With
//     RegexOptions::inside_json_string each code point is produced in its JSON string
//     encodings (raw where JSON allows it, `\"` `\\` `\/`, short escapes, `\u00XX` for
//     control characters, and optionally `\uXXXX` / surrogate pairs for everything).
//
// Not supported, each a GrammarError with "1:column": backreferences, lookaround, word
// boundaries, unicode property escapes, inline flags, possessive quantifiers, POSIX
// classes, octal escapes, unknown letter escapes. Repeat bounds above kMaxRegexRepeat
// are a LimitError. ECMAScript's Annex B leniencies that are unambiguous are kept: a
// `{` that does not start a valid quantifier is a literal, as are lone `]` and `}`.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/utf8.h"
#include "stencil/errors.h"

namespace stencil::grammar {
namespace {

// Deepest nesting of groups in one pattern; deeper patterns are a LimitError.
constexpr int32_t kMaxRegexDepth = 100;
// Largest bound of a counted repeat {m,n}; larger bounds are a LimitError.
constexpr int64_t kMaxRegexRepeat = 10000;

constexpr uint32_t kSurrogateLo = 0xD800;
constexpr uint32_t kSurrogateHi = 0xDFFF;

// ---- Code point sets: sorted, disjoint, non-adjacent ranges ----------------------------------------------

using Ranges = std::vector<Range>;

Ranges normalise(Ranges ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  Ranges out;
  for (const Range& r : ranges) {
    if (!out.empty() && r.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

Ranges complement(const Ranges& set) { return complement_ranges(set, kMaxCodepoint); }

Ranges intersect(const Ranges& a, const Ranges& b) {
  Ranges out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const uint32_t lo = std::max(a[i].lo, b[j].lo);
    const uint32_t hi = std::min(a[i].hi, b[j].hi);
    if (lo <= hi) out.push_back({lo, hi});
    (a[i].hi < b[j].hi) ? ++i : ++j;
  }
  return out;
}

bool contains(const Ranges& set, uint32_t cp) {
  return std::any_of(set.begin(), set.end(), [cp](const Range& r) { return r.lo <= cp && cp <= r.hi; });
}

// The class escapes: ECMAScript's (ASCII \d and \w; \s with U+FEFF), and with portable classes
// (RegexOptions) in two widths. JSON Schema means ECMAScript's, but validators run other dialects: Python's re, for one, takes Unicode digits and
// letters for \d and \w, and U+001C-U+001F and U+0085 but not U+FEFF for \s. So that whatever
// we produce matches in any of them, an escape stands for what every dialect puts in it (narrow)
// and its complement for what none does (the complement of wide): \S never yields U+0085, \D
// and \W only ASCII. Inside a negated class the two swap, as the class is complemented.
const Ranges kDigit = {{'0', '9'}};
const Ranges kDigitWide = {{'0', '9'}, {0x80, kMaxCodepoint}};  // (stands for Unicode's decimal digits)
const Ranges kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const Ranges kWordWide = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}, {0x80, kMaxCodepoint}};
const Ranges kSpace = {{0x09, 0x0D},     {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
                       {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
const Ranges kSpaceNarrow = {{0x09, 0x0D},     {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
                             {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}};
const Ranges kSpaceWide = {{0x09, 0x0D},     {0x1C, 0x20},     {0x85, 0x85},     {0xA0, 0xA0},
                           {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F},
                           {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
const Ranges kLineTerminators = {{0x0A, 0x0A}, {0x0D, 0x0D}, {0x2028, 0x2029}};
const Ranges kAny = {{0, kMaxCodepoint}};

// ---- AST ---------------------------------------------------------------------------------------------------

enum class NodeKind : uint8_t {
  kClass,   // one code point in `ranges` (a literal character is a class of one)
  kSeq,     // `children` one after another (any number, including none)
  kAlt,     // one of `children` (at least two)
  kRepeat,  // children[0] between `min` and `max` times (max may be kUnbounded)
  kStart,   // the anchor ^
  kEnd,     // the anchor $
};

struct Node {
  NodeKind kind;
  int32_t column;  // 1-based code point column of the node in the pattern, for errors
  Ranges ranges;
  std::vector<int32_t> children;
  int32_t min = 0;
  int32_t max = 0;
};

// ---- Parser ------------------------------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::string_view pattern, bool portable) : portable_(portable) {
    size_t pos = 0;
    while (pos < pattern.size()) {
      const int32_t cp = decode_utf8(pattern, pos);
      if (cp < 0) throw GrammarError("the pattern is not valid UTF-8", "1:" + std::to_string(cps_.size() + 1));
      cps_.push_back(static_cast<uint32_t>(cp));
    }
  }

  // Parses the whole pattern; returns the root node. Nodes are in nodes().
  int32_t parse() {
    const int32_t root = parse_disjunction(0);
    if (pos_ < cps_.size()) fail("unmatched ')'");  // the only thing a disjunction stops at
    return root;
  }

  std::vector<Node>& nodes() { return nodes_; }

 private:
  static constexpr int32_t kEof = -1;

  int32_t peek(size_t ahead = 0) const {
    return pos_ + ahead < cps_.size() ? static_cast<int32_t>(cps_[pos_ + ahead]) : kEof;
  }
  bool lookahead(std::string_view ascii) const {
    for (size_t i = 0; i < ascii.size(); ++i) {
      if (peek(i) != static_cast<unsigned char>(ascii[i])) return false;
    }
    return true;
  }
  int32_t column(size_t at) const { return static_cast<int32_t>(at + 1); }

  [[noreturn]] void fail_at(size_t at, const std::string& message) const {
    throw GrammarError(message, "1:" + std::to_string(at + 1));
  }
  [[noreturn]] void fail(const std::string& message) const { fail_at(pos_, message); }

  int32_t add(Node node) {
    nodes_.push_back(std::move(node));
    return static_cast<int32_t>(nodes_.size() - 1);
  }
  int32_t add_class(size_t at, Ranges ranges) {
    return add(Node{NodeKind::kClass, column(at), normalise(std::move(ranges)), {}});
  }

  // disjunction := alternative ('|' alternative)*
  int32_t parse_disjunction(int32_t depth) {
    const size_t start = pos_;
    std::vector<int32_t> alternatives = {parse_alternative(depth)};
    while (peek() == '|') {
      ++pos_;
      alternatives.push_back(parse_alternative(depth));
    }
    if (alternatives.size() == 1) return alternatives[0];
    return add(Node{NodeKind::kAlt, column(start), {}, std::move(alternatives)});
  }

  // alternative := term*
  int32_t parse_alternative(int32_t depth) {
    const size_t start = pos_;
    std::vector<int32_t> items;
    while (peek() != kEof && peek() != '|' && peek() != ')') items.push_back(parse_term(depth));
    if (items.size() == 1) return items[0];
    return add(Node{NodeKind::kSeq, column(start), {}, std::move(items)});
  }

  // term := '^' | '$' | atom quantifier?
  int32_t parse_term(int32_t depth) {
    const size_t start = pos_;
    const int32_t c = peek();
    if (c == '^' || c == '$') {
      ++pos_;
      if (at_quantifier()) fail("nothing to repeat: an anchor cannot be quantified");
      return add(Node{c == '^' ? NodeKind::kStart : NodeKind::kEnd, column(start), {}, {}});
    }
    if (c == '*' || c == '+' || c == '?' || (c == '{' && braces_quantifier(pos_))) {
      fail("nothing to repeat before '" + std::string(1, static_cast<char>(c)) + "'");
    }
    const int32_t atom = parse_atom(depth);
    return parse_quantifiers(atom, start);
  }

  bool at_quantifier() const {
    const int32_t c = peek();
    return c == '*' || c == '+' || c == '?' || (c == '{' && braces_quantifier(pos_));
  }

  struct Bounds {
    int64_t min;
    int64_t max;  // -1: unbounded
    size_t end;   // position after the closing brace
  };

  // Reads `{m}`, `{m,}` or `{m,n}` at `at`; nullopt when the text there is not one
  // (then the `{` is a literal, as in ECMAScript's Annex B and RE2). Saturates large numbers.
  std::optional<Bounds> braces_quantifier(size_t at) const {
    auto cp = [&](size_t i) -> int32_t { return i < cps_.size() ? static_cast<int32_t>(cps_[i]) : kEof; };
    if (cp(at) != '{') return std::nullopt;
    size_t i = at + 1;
    auto number = [&](int64_t& value) {
      const size_t begin = i;
      value = 0;
      while (cp(i) >= '0' && cp(i) <= '9') {
        value = std::min<int64_t>(value * 10 + (cp(i) - '0'), int64_t{1} << 40);
        ++i;
      }
      return i > begin;
    };
    Bounds b{0, 0, 0};
    if (!number(b.min)) return std::nullopt;
    b.max = b.min;
    if (cp(i) == ',') {
      ++i;
      if (!number(b.max)) b.max = -1;
    }
    if (cp(i) != '}') return std::nullopt;
    b.end = i + 1;
    return b;
  }

  int32_t parse_quantifiers(int32_t atom, size_t start) {
    const int32_t c = peek();
    int64_t min = 0;
    int64_t max = 0;
    const size_t quantifier_at = pos_;
    if (c == '*') {
      min = 0, max = -1, ++pos_;
    } else if (c == '+') {
      min = 1, max = -1, ++pos_;
    } else if (c == '?') {
      min = 0, max = 1, ++pos_;
    } else if (auto b = braces_quantifier(pos_)) {
      min = b->min, max = b->max, pos_ = b->end;
      if (min > kMaxRegexRepeat || max > kMaxRegexRepeat) {
        throw LimitError("repetition count " + std::to_string(std::max(min, max)) + " exceeds kMaxRegexRepeat (" +
                             std::to_string(kMaxRegexRepeat) + ")",
                         "1:" + std::to_string(quantifier_at + 1));
      }
      if (max != -1 && max < min) fail_at(quantifier_at, "numbers out of order in {m,n} quantifier");
    } else {
      return atom;
    }
    if (peek() == '?') ++pos_;  // lazy: the same language as greedy
    if (peek() == '+') fail("possessive quantifiers are not supported");
    if (at_quantifier()) fail("nothing to repeat: a quantifier cannot follow a quantifier");
    return add(Node{NodeKind::kRepeat, column(start), {}, {atom}, static_cast<int32_t>(min),
                    max == -1 ? kUnbounded : static_cast<int32_t>(max)});
  }

  int32_t parse_atom(int32_t depth) {
    const size_t start = pos_;
    const int32_t c = peek();
    if (c == '(') return parse_group(depth);
    if (c == '[') return parse_class();
    if (c == '.') {
      ++pos_;
      return add_class(start, complement(kLineTerminators));
    }
    if (c == '\\') {
      if (peek(1) == 'b' || peek(1) == 'B') fail("word boundaries (\\b, \\B) are not supported");
      return add_class(start, parse_escape(/*in_class=*/false));
    }
    ++pos_;  // a literal code point, including lone ']' and '}' and a '{' that is not a quantifier
    return add_class(start, {{static_cast<uint32_t>(c), static_cast<uint32_t>(c)}});
  }

  int32_t parse_group(int32_t depth) {
    const size_t start = pos_;
    if (depth + 1 > kMaxRegexDepth) {
      throw LimitError("groups nested deeper than kMaxRegexDepth (" + std::to_string(kMaxRegexDepth) + ")",
                       "1:" + std::to_string(start + 1));
    }
    ++pos_;  // (
    if (peek() == '?') {
      if (lookahead("?=") || lookahead("?!")) fail_at(start, "lookahead assertions (?= (?! are not supported");
      if (lookahead("?<=") || lookahead("?<!")) fail_at(start, "lookbehind assertions (?<= (?<! are not supported");
      if (lookahead("?:")) {
        pos_ += 2;
      } else if (lookahead("?<")) {
        pos_ += 2;
        parse_group_name();
      } else {
        fail_at(start, "unsupported group syntax '(?" + (peek(1) == kEof ? std::string() : utf8(static_cast<uint32_t>(peek(1)))) +
             "' (inline flags and other extensions are not ECMAScript)");
      }
    }
    const int32_t inner = parse_disjunction(depth + 1);
    if (peek() != ')') fail_at(start, "missing ')' for this group");
    ++pos_;
    return inner;
  }

  // Group names are ECMAScript identifiers; we accept [A-Za-z_$][A-Za-z0-9_$]* and non-ASCII letters.
  void parse_group_name() {
    const size_t start = pos_;
    while (peek() != kEof && peek() != '>') {
      const int32_t c = peek();
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '$' || c >= 0x80 ||
                      (pos_ > start && c >= '0' && c <= '9');
      if (!ok) fail("invalid character in group name");
      ++pos_;
    }
    if (pos_ == start) fail("empty group name");
    if (peek() != '>') fail("missing '>' after group name");
    ++pos_;
  }

  static std::string utf8(uint32_t cp) {
    std::string s;
    append_utf8(s, std::min(cp, kMaxCodepoint));
    return s;
  }

  // class := '[' '^'? (atom ('-' atom)?)* ']'
  int32_t parse_class() {
    const size_t start = pos_;
    ++pos_;  // [
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    negated_class_ = negated;
    Ranges ranges;
    while (peek() != ']') {
      if (peek() == kEof) fail_at(start, "missing ']' for this character class");
      const size_t atom_at = pos_;
      Ranges lo = parse_class_atom();
      if (peek() == '-' && peek(1) != ']' && peek(1) != kEof) {
        ++pos_;  // -
        Ranges hi = parse_class_atom();
        const bool single = lo.size() == 1 && lo[0].lo == lo[0].hi && hi.size() == 1 && hi[0].lo == hi[0].hi;
        if (!single) {
          // Annex B: a class escape at either end makes the '-' a literal ([\d-z] is \d, '-', 'z').
          ranges.insert(ranges.end(), lo.begin(), lo.end());
          ranges.insert(ranges.end(), hi.begin(), hi.end());
          ranges.push_back({'-', '-'});
          continue;
        }
        if (lo[0].lo > hi[0].lo) fail_at(atom_at, "character class range out of order");
        ranges.push_back({lo[0].lo, hi[0].lo});
      } else {
        ranges.insert(ranges.end(), lo.begin(), lo.end());
      }
    }
    ++pos_;  // ]
    negated_class_ = false;
    ranges = normalise(std::move(ranges));
    return add_class(start, negated ? complement(ranges) : ranges);
  }

  Ranges parse_class_atom() {
    const int32_t c = peek();
    if (c == '\\') return parse_escape(/*in_class=*/true);
    if (c == '[' && peek(1) == ':') {
      // ECMAScript reads [[:alpha:]] as the characters "[:alph" then a literal ']'; nobody means that.
      size_t i = 2;
      while (peek(i) >= 'a' && peek(i) <= 'z') ++i;
      if (i > 2 && peek(i) == ':' && peek(i + 1) == ']') fail("POSIX character classes like [:alpha:] are not supported");
    }
    ++pos_;
    return {{static_cast<uint32_t>(c), static_cast<uint32_t>(c)}};
  }

  int32_t hex_value(int32_t c) const {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Reads exactly `n` hex digits at pos_; -1 (pos_ unchanged) if they are not there.
  int64_t hex_digits(size_t n) {
    int64_t value = 0;
    for (size_t i = 0; i < n; ++i) {
      const int32_t d = hex_value(peek(i));
      if (d < 0) return -1;
      value = value * 16 + d;
    }
    pos_ += n;
    return value;
  }

  // After "\u": XXXX (joining a surrogate pair written as two escapes) or {X...}.
  uint32_t parse_unicode_escape(size_t escape_at) {
    if (peek() == '{') {
      ++pos_;
      int64_t value = 0;
      size_t digits = 0;
      while (hex_value(peek()) >= 0) {
        value = std::min<int64_t>(value * 16 + hex_value(peek()), int64_t{1} << 32);
        ++pos_, ++digits;
      }
      if (digits == 0 || peek() != '}') fail_at(escape_at, "malformed \\u{...} escape");
      ++pos_;
      if (value > kMaxCodepoint) fail_at(escape_at, "\\u{...} escape above U+10FFFF");
      return static_cast<uint32_t>(value);
    }
    const int64_t value = hex_digits(4);
    if (value < 0) fail_at(escape_at, "\\u needs four hex digits or {...}");
    if (value >= 0xD800 && value <= 0xDBFF && lookahead("\\u")) {
      const size_t save = pos_;
      pos_ += 2;
      const int64_t low = hex_digits(4);
      if (low >= 0xDC00 && low <= 0xDFFF) return static_cast<uint32_t>(0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00));
      pos_ = save;  // not a pair: the high surrogate stands alone (and matches nothing)
    }
    return static_cast<uint32_t>(value);
  }

  // At a backslash. Returns the set of code points the escape stands for.
  Ranges parse_escape(bool in_class) {
    const size_t at = pos_;
    ++pos_;  // backslash
    const int32_t c = peek();
    if (c == kEof) fail_at(at, "'\\' at the end of the pattern");
    ++pos_;
    auto one = [](uint32_t cp) { return Ranges{{cp, cp}}; };
    // Portable: what every dialect puts in the escape, or (in a [^...] class, which is complemented)
    // what any does; see kDigit.
    const bool swap = in_class && negated_class_;
    const Ranges& digit = !portable_ ? kDigit : swap ? kDigitWide : kDigit;
    const Ranges& not_digit = !portable_ ? kDigit : swap ? kDigit : kDigitWide;
    const Ranges& word = !portable_ ? kWord : swap ? kWordWide : kWord;
    const Ranges& not_word = !portable_ ? kWord : swap ? kWord : kWordWide;
    const Ranges& space = !portable_ ? kSpace : swap ? kSpaceWide : kSpaceNarrow;
    const Ranges& not_space = !portable_ ? kSpace : swap ? kSpaceNarrow : kSpaceWide;
    switch (c) {
      case 'd': return digit;
      case 'D': return complement(not_digit);
      case 'w': return word;
      case 'W': return complement(not_word);
      case 's': return space;
      case 'S': return complement(not_space);
      case 'n': return one('\n');
      case 'r': return one('\r');
      case 't': return one('\t');
      case 'f': return one('\f');
      case 'v': return one('\v');
      case 'b':
        if (in_class) return one('\b');
        fail_at(at, "word boundaries (\\b, \\B) are not supported");
      case 'B': fail_at(at, "word boundaries (\\b, \\B) are not supported");
      case '0':
        if (peek() >= '0' && peek() <= '9') fail_at(at, "octal escapes are not supported");
        return one(0);
      case 'x': {
        const int64_t value = hex_digits(2);
        if (value < 0) fail_at(at, "\\x needs two hex digits");
        return one(static_cast<uint32_t>(value));
      }
      case 'u': return one(parse_unicode_escape(at));
      case 'c': {
        const int32_t letter = peek();
        if (!((letter >= 'a' && letter <= 'z') || (letter >= 'A' && letter <= 'Z'))) {
          fail_at(at, "\\c needs a letter");
        }
        ++pos_;
        return one(static_cast<uint32_t>(letter % 32));
      }
      case 'k': fail_at(at, "named backreferences (\\k<name>) are not supported");
      case 'p':
      case 'P': fail_at(at, "unicode property escapes (\\p{...}, \\P{...}) are not supported");
      default: break;
    }
    if (c >= '1' && c <= '9') {
      fail_at(at, in_class ? "octal escapes are not supported" : "backreferences (\\1 ...) are not supported");
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      fail_at(at, "unknown escape '\\" + std::string(1, static_cast<char>(c)) + "'");
    }
    return one(static_cast<uint32_t>(c));  // an escaped syntax character or other punctuation stands for itself
  }

  std::vector<uint32_t> cps_;  // the pattern, decoded
  size_t pos_ = 0;             // index into cps_
  const bool portable_;         // RegexOptions::portable_classes
  bool negated_class_ = false;  // parsing the atoms of a [^...] class (see kDigit)
  std::vector<Node> nodes_;
};

// ---- Anchor plan -------------------------------------------------------------------------------------------

// How a node sits at one edge (start or end) of the match.
enum class Edge : uint8_t {
  kInside,    // not at that edge: an anchor there is an error
  kOpen,      // at the edge, unanchored so far: the node must let any text precede (follow) it
  kAnchored,  // at the edge and already anchored: nothing may precede (follow) it
};

// Decides, for every node, which edges it stands at (see the file comment). Alternations,
// sequences and anchors pass an edge on; any other node at an open edge gets a filler.
class AnchorPlan {
 public:
  explicit AnchorPlan(const std::vector<Node>& nodes) : nodes_(nodes), start_(nodes.size()), end_(nodes.size()) {}

  void plan(int32_t node, Edge start, Edge end) {
    const Node& n = nodes_[static_cast<size_t>(node)];
    start_[static_cast<size_t>(node)] = start;
    end_[static_cast<size_t>(node)] = end;
    switch (n.kind) {
      case NodeKind::kStart:
        if (start == Edge::kInside) fail(n, "'^' is only supported at the start of the pattern or of an alternative");
        break;
      case NodeKind::kEnd:
        if (end == Edge::kInside) fail(n, "'$' is only supported at the end of the pattern or of an alternative");
        break;
      case NodeKind::kAlt:
        for (int32_t child : n.children) plan(child, start, end);
        break;
      case NodeKind::kRepeat:
        plan(n.children[0], Edge::kInside, Edge::kInside);
        break;
      case NodeKind::kClass:
        break;
      case NodeKind::kSeq: {
        const auto [first, last] = core(node);
        const Edge inner_start = anchored_start(node) ? Edge::kAnchored : start;
        const Edge inner_end = anchored_end(node) ? Edge::kAnchored : end;
        for (size_t i = 0; i < n.children.size(); ++i) {
          if (i < first || i >= last) {  // the stripped leading ^ / trailing $
            plan(n.children[i], i < first ? start : Edge::kInside, i >= last ? end : Edge::kInside);
            continue;
          }
          plan(n.children[i], i == first ? inner_start : Edge::kInside, i + 1 == last ? inner_end : Edge::kInside);
        }
        break;
      }
    }
  }

  Edge start(int32_t node) const { return start_[static_cast<size_t>(node)]; }
  Edge end(int32_t node) const { return end_[static_cast<size_t>(node)]; }

  // For a sequence: [first, last) of its children after stripping leading ^ (at a start
  // edge) and trailing $ (at an end edge).
  std::pair<size_t, size_t> core(int32_t seq) const {
    const Node& n = nodes_[static_cast<size_t>(seq)];
    size_t first = 0, last = n.children.size();
    if (start_[static_cast<size_t>(seq)] != Edge::kInside) {
      while (first < last && kind(n.children[first]) == NodeKind::kStart) ++first;
    }
    if (end_[static_cast<size_t>(seq)] != Edge::kInside) {
      while (last > first && kind(n.children[last - 1]) == NodeKind::kEnd) --last;
    }
    return {first, last};
  }
  bool anchored_start(int32_t seq) const { return core(seq).first > 0; }
  bool anchored_end(int32_t seq) const {
    return core(seq).second < nodes_[static_cast<size_t>(seq)].children.size();
  }

 private:
  NodeKind kind(int32_t node) const { return nodes_[static_cast<size_t>(node)].kind; }
  [[noreturn]] static void fail(const Node& n, const std::string& message) {
    throw GrammarError(message, "1:" + std::to_string(n.column));
  }

  const std::vector<Node>& nodes_;
  std::vector<Edge> start_;
  std::vector<Edge> end_;
};

// ---- Lowering ----------------------------------------------------------------------------------------------

class Lowerer {
 public:
  Lowerer(Grammar& g, const std::vector<Node>& nodes, const AnchorPlan& plan, const RegexOptions& options)
      : g_(g), nodes_(nodes), plan_(plan), json_(options.inside_json_string),
        unicode_escapes_(options.inside_json_string && options.allow_unicode_escapes) {}

  ExprId lower(int32_t id) {
    const Node& n = nodes_[static_cast<size_t>(id)];
    switch (n.kind) {
      case NodeKind::kAlt: {
        std::vector<ExprId> alternatives;
        for (int32_t child : n.children) {
          alternatives.push_back(lower(child));
          if (universal_.count(alternatives.back())) return alternatives.back();  // absorbs the others
        }
        return g_.choice(std::move(alternatives));
      }
      case NodeKind::kSeq:
        return lower_seq(id);
      case NodeKind::kStart:
        // ^ satisfies the start edge; it may still stand at an open end (`^` alone, `^|x`).
        return plan_.end(id) == Edge::kOpen ? any_string() : g_.empty();
      case NodeKind::kEnd:
        return plan_.start(id) == Edge::kOpen ? any_string() : g_.empty();
      case NodeKind::kClass:
      case NodeKind::kRepeat:
        return with_fillers(id, lower_core(id));
    }
    return g_.empty();
  }

 private:
  ExprId with_fillers(int32_t id, ExprId core) {
    const bool open = plan_.start(id) == Edge::kOpen || plan_.end(id) == Edge::kOpen;
    if (open && g_.expr(core).kind == ExprKind::kEmpty) return any_string();  // one filler, not two
    std::vector<ExprId> parts;
    if (plan_.start(id) == Edge::kOpen) parts.push_back(any_string());
    parts.push_back(core);
    if (plan_.end(id) == Edge::kOpen) parts.push_back(any_string());
    return g_.sequence(std::move(parts));
  }

  ExprId lower_core(int32_t id) {
    const Node& n = nodes_[static_cast<size_t>(id)];
    if (n.kind == NodeKind::kRepeat) {
      // Next to a filler, X{m,n} is X{m}: the filler absorbs the optional copies (.*X{m,n} = .*X{m}).
      // So unanchored `.*` or `a?` become just the filler, and `x+` at an edge becomes `x`:
      // the same language with less ambiguity for the engine.
      const bool open = plan_.start(id) == Edge::kOpen || plan_.end(id) == Edge::kOpen;
      if (open) return n.min == 0 ? g_.empty() : g_.repeat(lower(n.children[0]), n.min, n.min);
      return g_.repeat(lower(n.children[0]), n.min, n.max);
    }
    if (auto text = unique_encoding(n.ranges)) return g_.literal(*text);
    return code_point(n.ranges);
  }

  ExprId lower_seq(int32_t id) {
    const Node& n = nodes_[static_cast<size_t>(id)];
    const auto [first, last] = plan_.core(id);
    const bool open_start = plan_.start(id) == Edge::kOpen && first == 0;
    const bool open_end = plan_.end(id) == Edge::kOpen && last == n.children.size();
    if (first == last) return open_start || open_end ? any_string() : g_.empty();
    // Children at the edges carry their own fillers (the plan passed the edges on).
    std::vector<ExprId> parts;
    std::string pending;  // adjacent single-encoding characters, merged into one literal
    for (size_t i = first; i < last; ++i) {
      const int32_t child = n.children[i];
      const Node& c = nodes_[static_cast<size_t>(child)];
      std::optional<std::string> text;
      if (c.kind == NodeKind::kClass && plan_.start(child) != Edge::kOpen && plan_.end(child) != Edge::kOpen) {
        text = unique_encoding(c.ranges);
      }
      if (text) {
        pending += *text;
        continue;
      }
      if (!pending.empty()) parts.push_back(g_.literal(pending));
      pending.clear();
      parts.push_back(lower(child));
    }
    if (!pending.empty()) parts.push_back(g_.literal(pending));
    return g_.sequence(std::move(parts));
  }

  // Any string (the filler of an unanchored edge): any code point, in JSON form if needed.
  ExprId any_string() {
    const ExprId any = g_.star(code_point(kAny));
    universal_.insert(any);
    return any;
  }

  // The one byte string a one-code-point set produces, when there is exactly one.
  std::optional<std::string> unique_encoding(const Ranges& set) const {
    if (set.size() != 1 || set[0].lo != set[0].hi) return std::nullopt;
    const uint32_t cp = set[0].lo;
    if (cp >= kSurrogateLo && cp <= kSurrogateHi) return std::nullopt;  // never matches: not a literal
    std::string out;
    if (!json_) {
      append_utf8(out, cp);
      return out;
    }
    if (unicode_escapes_ || cp < 0x20 || cp == '/') return std::nullopt;  // several JSON spellings
    if (cp == '"') return "\\\"";
    if (cp == '\\') return "\\\\";
    append_utf8(out, cp);
    return out;
  }

  // One code point of `set`; inside a JSON string, every spelling JSON has for it.
  ExprId code_point(const Ranges& set) {
    if (!json_) return g_.char_class(set);
    std::vector<ExprId> parts;
    // Raw: everything but the characters JSON requires escaped.
    const Ranges raw = intersect(set, {{0x20, 0x21}, {0x23, 0x5B}, {0x5D, kMaxCodepoint}});
    if (!raw.empty()) parts.push_back(g_.char_class(raw));
    if (contains(set, '"')) parts.push_back(g_.literal("\\\""));
    if (contains(set, '\\')) parts.push_back(g_.literal("\\\\"));
    if (contains(set, '/')) parts.push_back(g_.literal("\\/"));
    static constexpr std::pair<uint32_t, const char*> kShort[] = {
        {'\b', "\\b"}, {'\t', "\\t"}, {'\n', "\\n"}, {'\f', "\\f"}, {'\r', "\\r"}};
    for (const auto& [cp, escape] : kShort) {
      if (contains(set, cp)) parts.push_back(g_.literal(escape));
    }
    // \uXXXX: for control characters always (JSON's only spelling of most of them), for
    // the rest of the BMP and (as surrogate pairs) above it when unicode escapes are allowed.
    const Ranges bmp = intersect(set, unicode_escapes_ ? Ranges{{0, kSurrogateLo - 1}, {kSurrogateHi + 1, 0xFFFF}}
                                                       : Ranges{{0, 0x1F}});
    if (!bmp.empty()) {
      std::vector<ExprId> hex;
      for (const Range& r : bmp) hex.push_back(hex_range(r.lo, r.hi, 4));
      parts.push_back(g_.sequence({g_.literal("\\u"), g_.choice(std::move(hex))}));
    }
    if (unicode_escapes_) {
      for (const Range& r : intersect(set, {{0x10000, kMaxCodepoint}})) parts.push_back(surrogate_pairs(r));
    }
    if (parts.empty()) return g_.char_class({});  // the empty class: matches nothing
    return g_.choice(std::move(parts));
  }

  // `digits` hex digits (either case) whose value is in [lo, hi].
  ExprId hex_range(uint32_t lo, uint32_t hi, int digits) {
    if (digits == 1) return hex_digit(lo, hi);
    const uint32_t base = 1u << (4 * (digits - 1));
    const uint32_t top_lo = lo / base, top_hi = hi / base;
    if (top_lo == top_hi) return g_.sequence({hex_digit(top_lo, top_lo), hex_range(lo % base, hi % base, digits - 1)});
    std::vector<ExprId> parts;
    uint32_t full_lo = top_lo, full_hi = top_hi;  // top digits whose whole block is inside [lo, hi]
    if (lo % base != 0) {
      parts.push_back(g_.sequence({hex_digit(top_lo, top_lo), hex_range(lo % base, base - 1, digits - 1)}));
      ++full_lo;
    }
    const bool partial_high = hi % base != base - 1;
    if (partial_high) --full_hi;
    if (full_lo <= full_hi) {
      parts.push_back(g_.sequence({hex_digit(full_lo, full_hi), g_.repeat(hex_digit(0, 15), digits - 1, digits - 1)}));
    }
    if (partial_high) parts.push_back(g_.sequence({hex_digit(top_hi, top_hi), hex_range(0, hi % base, digits - 1)}));
    return g_.choice(std::move(parts));
  }

  // One hex digit with value in [lo, hi] (0..15), upper or lower case.
  ExprId hex_digit(uint32_t lo, uint32_t hi) {
    Ranges r;
    if (lo <= 9) r.push_back({'0' + lo, '0' + std::min(hi, 9u)});
    if (hi >= 10) {
      const uint32_t a = std::max(lo, 10u) - 10, b = hi - 10;
      r.push_back({'a' + a, 'a' + b});
      r.push_back({'A' + a, 'A' + b});
    }
    return g_.char_class(std::move(r));
  }

  // The code points of [lo, hi] (all above U+FFFF) as JSON surrogate-pair escapes.
  ExprId surrogate_pairs(const Range& r) {
    auto high = [](uint32_t cp) { return 0xD800 + ((cp - 0x10000) >> 10); };
    auto low = [](uint32_t cp) { return 0xDC00 + ((cp - 0x10000) & 0x3FF); };
    auto pair = [&](uint32_t h_lo, uint32_t h_hi, uint32_t l_lo, uint32_t l_hi) {
      return g_.sequence({g_.literal("\\u"), hex_range(h_lo, h_hi, 4), g_.literal("\\u"), hex_range(l_lo, l_hi, 4)});
    };
    const uint32_t h_lo = high(r.lo), h_hi = high(r.hi);
    if (h_lo == h_hi) return pair(h_lo, h_lo, low(r.lo), low(r.hi));
    std::vector<ExprId> parts;
    uint32_t full_lo = h_lo, full_hi = h_hi;
    if (low(r.lo) != 0xDC00) {
      parts.push_back(pair(h_lo, h_lo, low(r.lo), 0xDFFF));
      ++full_lo;
    }
    const bool partial_high = low(r.hi) != 0xDFFF;
    if (partial_high) --full_hi;
    if (full_lo <= full_hi) parts.push_back(pair(full_lo, full_hi, 0xDC00, 0xDFFF));
    if (partial_high) parts.push_back(pair(h_hi, h_hi, 0xDC00, low(r.hi)));
    return g_.choice(std::move(parts));
  }

  Grammar& g_;
  const std::vector<Node>& nodes_;
  const AnchorPlan& plan_;
  bool json_;
  bool unicode_escapes_;
  std::set<ExprId> universal_;  // the fillers: exprs that match every string
};

}  // namespace

RuleId add_regex_rule(Grammar& grammar, std::string_view pattern, const RegexOptions& options) {
  // Parse and plan first: every GrammarError is thrown before `grammar` is touched.
  Parser parser(pattern, options.portable_classes);
  const int32_t root = parser.parse();
  AnchorPlan plan(parser.nodes());
  const Edge edge = options.full_match ? Edge::kAnchored : Edge::kOpen;
  plan.plan(root, edge, edge);
  const ExprId body = Lowerer(grammar, parser.nodes(), plan, options).lower(root);
  const RuleId rule = grammar.fresh_rule(options.rule_name_prefix);
  grammar.define_rule(rule, body);
  return rule;
}

Grammar parse_regex(std::string_view pattern, bool portable_classes) {
  Grammar grammar;
  RegexOptions options;
  options.portable_classes = portable_classes;
  options.rule_name_prefix = "root";
  options.full_match = true;
  grammar.set_root(add_regex_rule(grammar, pattern, options));
  return grammar;
}

}  // namespace stencil::grammar
