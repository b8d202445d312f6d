// Pre-tokenizer splitting on RE2 (see tokenizer_pretokenize.h for what is translated and why).
#include "runtime/tokenizer_pretokenize.h"

#include <re2/re2.h>

#include <string>

#include "grammar/utf8.h"
#include "stencil/errors.h"

namespace stencil::runtime::detail {
namespace {

// Unicode White_Space, the set Oniguruma's and llama.cpp's `\s` use (RE2's `\s` is [\t\n\f\r ]).
constexpr std::string_view kWhiteSpaceRanges =
    R"(\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
constexpr std::string_view kWordRanges = R"(\p{L}\p{M}\p{Nd}\p{Pc})";

[[noreturn]] void unsupported(std::string_view pattern, size_t pos, std::string_view what) {
  throw VocabularyError("pre-tokenizer regex: " + std::string(what) + " is not supported: " + std::string(pattern),
                        "pre_tokenizer offset " + std::to_string(pos));
}


// Whether s is made only of Unicode White_Space characters (kWhiteSpaceRanges).
bool is_space_run(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    const int32_t cp = grammar::decode_utf8(s, pos);
    const bool ws = (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
                    (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
                    cp == 0x3000;
    if (!ws) return false;
  }
  return !s.empty();
}

}  // namespace

std::string translate_pretokenizer_regex(std::string_view p, bool* ws_lookahead) {
  *ws_lookahead = false;
  std::string out;
  out.reserve(p.size() + 64);
  bool in_class = false;
  constexpr std::string_view kLook = R"(\s+(?!\S))";
  constexpr std::string_view kLookAlt = R"(\s+(?!\S)|\s+)";
  for (size_t i = 0; i < p.size();) {
    if (!in_class && p.substr(i, kLook.size()) == kLook) {
      if (*ws_lookahead) unsupported(p, i, "a second \\s+(?!\\S)");
      *ws_lookahead = true;
      out += "([";
      out += kWhiteSpaceRanges;
      out += "]+)";
      i += p.substr(i, kLookAlt.size()) == kLookAlt ? kLookAlt.size() : kLook.size();
      continue;
    }
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) unsupported(p, i, "a trailing backslash");
      const char e = p[i + 1];
      switch (e) {
        case 's':
          out += in_class ? std::string(kWhiteSpaceRanges) : "[" + std::string(kWhiteSpaceRanges) + "]";
          break;
        case 'S':
          if (in_class) unsupported(p, i, "\\S inside a character class");
          out += "[^" + std::string(kWhiteSpaceRanges) + "]";
          break;
        case 'd':
          out += "\\p{Nd}";
          break;
        case 'w':
          out += in_class ? std::string(kWordRanges) : "[" + std::string(kWordRanges) + "]";
          break;
        case 'D':
        case 'W':
        case 'b':
        case 'B':
        case 'G':
        case 'k':
        case 'g':
          unsupported(p, i, std::string("\\") + e);
        default:
          if (e >= '1' && e <= '9') unsupported(p, i, "a backreference");
          out += c;
          out += e;
          // \p{..}, \x{..}: copy the braces through unchanged.
          if ((e == 'p' || e == 'P' || e == 'x') && i + 2 < p.size() && p[i + 2] == '{') {
            const size_t close = p.find('}', i + 2);
            if (close == std::string_view::npos) unsupported(p, i, "an unclosed \\p{");
            out.append(p.substr(i + 2, close - (i + 2) + 1));
            i = close + 1;
            continue;
          }
          break;
      }
      i += 2;
      continue;
    }
    if (in_class) {
      if (c == '[') unsupported(p, i, "a nested character class");
      if (c == ']') in_class = false;
      out += c;
      ++i;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      ++i;
      // A ']' or '^]' right after '[' is a literal.
      if (i < p.size() && p[i] == '^') out += p[i++];
      if (i < p.size() && p[i] == ']') out += p[i++];
      continue;
    }
    if (c == '(') {
      if (i + 1 < p.size() && p[i + 1] == '?') {
        if (i + 2 < p.size() && (p[i + 2] == '=' || p[i + 2] == '!' || p[i + 2] == '<' || p[i + 2] == '>')) {
          unsupported(p, i, "lookaround or atomic group");
        }
        out += c;
        ++i;
        continue;
      }
      out += "(?:";  // keep group 1 for the whitespace fixup
      ++i;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

struct PreTokenizer::Step {
  std::unique_ptr<re2::RE2> re;  // null for a literal step
  std::string literal;
  bool ws_lookahead = false;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
};

PreTokenizer::PreTokenizer() = default;
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

void PreTokenizer::add_regex(std::string_view pattern, SplitBehavior behavior, bool invert) {
  auto step = std::make_unique<Step>();
  const std::string translated = translate_pretokenizer_regex(pattern, &step->ws_lookahead);
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_encoding(re2::RE2::Options::EncodingUTF8);
  opts.set_max_mem(64 << 20);  // Unicode classes make big DFAs; below this RE2 falls back to its slow NFA
  step->re = std::make_unique<re2::RE2>(translated, opts);
  if (!step->re->ok()) {
    throw VocabularyError("pre-tokenizer regex does not compile (" + step->re->error() + "): " + std::string(pattern),
                          "pre_tokenizer");
  }
  step->behavior = behavior;
  step->invert = invert;
  steps_.push_back(std::move(step));
}

void PreTokenizer::add_literal(std::string_view literal, SplitBehavior behavior, bool invert) {
  if (literal.empty()) throw VocabularyError("pre-tokenizer Split with an empty string pattern", "pre_tokenizer");
  auto step = std::make_unique<Step>();
  step->literal = std::string(literal);
  step->behavior = behavior;
  step->invert = invert;
  steps_.push_back(std::move(step));
}

void PreTokenizer::split(std::string_view text, std::vector<Piece>& pieces, std::vector<Piece>& scratch) const {
  pieces.clear();
  if (text.empty()) return;
  pieces.push_back({0, text.size()});
  for (const auto& step : steps_) {
    scratch.clear();
    for (const Piece& piece : pieces) split_one(*step, text, piece, scratch);
    pieces.swap(scratch);
  }
}

// One Split step on one piece: find the delimiters (the matches; the gaps if inverted), then
// apply the behaviour. Works in byte offsets of the whole text.
void PreTokenizer::split_one(const Step& step, std::string_view text, Piece piece, std::vector<Piece>& out) const {
  // Collect (begin, end, is_match) segments covering the piece.
  struct Seg {
    size_t begin, end;
    bool match;
  };
  thread_local std::vector<Seg> segs;  // reused: no allocation per piece once grown
  segs.clear();
  const std::string_view sub = text.substr(piece.begin, piece.end - piece.begin);
  size_t pos = 0;       // start of the current gap
  size_t search = 0;    // where the next search starts
  while (search < sub.size()) {
    size_t ms, me;
    if (step.re) {
      // Group 0 only: asking RE2 for submatches would force its slower engines on every match.
      re2::StringPiece m;
      if (!step.re->Match(re2::StringPiece(sub.data(), sub.size()), search, sub.size(), re2::RE2::UNANCHORED, &m, 1)) {
        break;
      }
      ms = static_cast<size_t>(m.data() - sub.data());
      me = ms + m.size();
      if (step.ws_lookahead && me < sub.size() && me - ms > 1 && is_space_run(sub.substr(ms, me - ms)) &&
          !is_space_run(sub.substr(me, utf8_len_from_lead(static_cast<unsigned char>(sub[me]))))) {
        // A whitespace run of 2+ characters that a non-space follows: if it came from (WS+), the
        // one alternative standing for `\s+(?!\S)`, leave its last character to the next match.
        re2::StringPiece groups[2];
        if (step.re->Match(re2::StringPiece(sub.data(), sub.size()), ms, sub.size(), re2::RE2::ANCHOR_START, groups, 2) &&
            groups[1].data() != nullptr) {
          size_t last = me - 1;
          while (last > ms && (static_cast<unsigned char>(sub[last]) & 0xC0) == 0x80) --last;
          if (last > ms) me = last;
        }
      }
    } else {
      const size_t f = sub.find(step.literal, search);
      if (f == std::string_view::npos) break;
      ms = f;
      me = f + step.literal.size();
    }
    if (me == ms) {  // an empty match delimits nothing; step over one character
      search = ms + utf8_len_from_lead(static_cast<unsigned char>(sub[ms]));
      continue;
    }
    if (ms > pos) segs.push_back({pos, ms, false});
    segs.push_back({ms, me, true});
    pos = search = me;
  }
  if (pos < sub.size()) segs.push_back({pos, sub.size(), false});

  // Delimiters are the matches, or the gaps when inverted.
  bool pending_next = false;  // kMergedWithNext: a delimiter waiting to be prepended
  size_t pending_begin = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Seg& s = segs[i];
    const bool delim = s.match != step.invert;
    const size_t b = piece.begin + s.begin, e = piece.begin + s.end;
    if (!delim) {
      if (pending_next) {
        out.push_back({pending_begin, e});
        pending_next = false;
      } else {
        out.push_back({b, e});
      }
      continue;
    }
    switch (step.behavior) {
      case SplitBehavior::kIsolated:
        out.push_back({b, e});
        break;
      case SplitBehavior::kRemoved:
        break;
      case SplitBehavior::kContiguous:
        // Consecutive delimiters form one piece; segments already merge adjacent matches only
        // when the regex does, so this equals kIsolated except for literal runs.
        if (i > 0 && segs[i - 1].match != step.invert && !out.empty() && out.back().end == b) {
          out.back().end = e;
        } else {
          out.push_back({b, e});
        }
        break;
      case SplitBehavior::kMergedWithPrevious:
        if (i > 0 && !out.empty() && out.back().end == b) {
          out.back().end = e;
        } else {
          out.push_back({b, e});
        }
        break;
      case SplitBehavior::kMergedWithNext:
        if (pending_next) {
          // two delimiters in a row: the first stands alone
          out.push_back({pending_begin, b});
        }
        pending_next = true;
        pending_begin = b;
        break;
    }
  }
  if (pending_next) out.push_back({pending_begin, piece.end});
}

}  // namespace stencil::runtime::detail
