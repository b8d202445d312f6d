// The reference Earley recognizer (see recognizer.h). It lowers the IR to plain
// productions lazily, one nonterminal at a time as the parse first predicts it:
//
//   expr e = kEmpty              ->  (nothing)
//            kLiteral "b1..bn"   ->  b1 ... bn                (one byte terminal each)
//            kCharClass/kByteClass -> <terminal e>            (scanned by decoding the input)
//            kRuleRef r          ->  <rule r>
//            kSequence c1..ck    ->  <c1> ... <ck>
//            kChoice c1..ck      ->  <c1> | ... | <ck>
//            kRepeat c{m,M}      ->  <c> x m, then <tail e, M-m>  (or <tail e, inf>)
//   tail e,k                     ->  (nothing) | <c> <tail e,k-1>   (k-1 = 0: just <c>)
//   tail e,inf                   ->  (nothing) | <c> <tail e,inf>
//
// so counted repeats cost only as many nonterminals as the input actually reaches.
// The recognizer is textbook Earley (predict / scan / complete) with the usual fix
// for empty productions: a nonterminal completed with its origin in the current set
// is remembered, and any item later waiting for it in that set is advanced at once.
// A char-class terminal spans the 1-4 bytes of one UTF-8 code point, so a scan may
// add to a set further than the next one; sets are processed in order, so that is fine.
#include "grammar/recognizer.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "grammar/utf8.h"
#include "stencil/errors.h"

namespace stencil::grammar {
namespace {

struct Symbol {
  enum Kind : uint8_t { kByte, kClass, kNonterminal };
  Kind kind;
  int32_t value;  // kByte: the byte; kClass: the ExprId of a char/byte class; kNonterminal: its index
};

struct Production {
  int32_t lhs;
  std::vector<Symbol> rhs;
};

struct Item {
  int32_t production;
  int32_t dot;
  int32_t origin;
  friend bool operator==(const Item&, const Item&) = default;
};

struct ItemHash {
  size_t operator()(const Item& it) const {
    uint64_t h = static_cast<uint32_t>(it.production);
    h = h * 0x9E3779B97F4A7C15ULL + static_cast<uint32_t>(it.dot);
    h = h * 0x9E3779B97F4A7C15ULL + static_cast<uint32_t>(it.origin);
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

bool in_ranges(const std::vector<Range>& ranges, uint32_t v) {
  return std::any_of(ranges.begin(), ranges.end(), [v](const Range& r) { return r.lo <= v && v <= r.hi; });
}

class Earley {
 public:
  Earley(const Grammar& g, std::string_view input) : g_(g), input_(input) {}

  bool run() {
    const int32_t start = nonterminal(kRuleTag, g_.root(), 0);
    const size_t n = input_.size();
    sets_.assign(n + 1, {});
    seen_.assign(n + 1, {});
    for (int32_t p : productions_of(start)) add(0, Item{p, 0, 0});
    for (size_t i = 0; i <= n; ++i) {
      std::set<int32_t> completed_empty;  // nonterminals that derive the empty string at position i
      // sets_[i] grows while we walk it: index, never iterate.
      for (size_t k = 0; k < sets_[i].size(); ++k) {
        const Item item = sets_[i][k];
        const Production& prod = productions_[static_cast<size_t>(item.production)];
        if (item.dot == static_cast<int32_t>(prod.rhs.size())) {
          complete(i, item, prod.lhs, completed_empty);
          continue;
        }
        const Symbol sym = prod.rhs[static_cast<size_t>(item.dot)];
        const Item advanced{item.production, item.dot + 1, item.origin};
        switch (sym.kind) {
          case Symbol::kByte:
            if (i < n && static_cast<uint8_t>(input_[i]) == static_cast<uint32_t>(sym.value)) add(i + 1, advanced);
            break;
          case Symbol::kClass: {
            const size_t end = scan_class(sym.value, i);
            if (end != 0) add(end, advanced);
            break;
          }
          case Symbol::kNonterminal:
            for (int32_t p : productions_of(sym.value)) add(i, Item{p, 0, static_cast<int32_t>(i)});
            if (completed_empty.count(sym.value)) add(i, advanced);
            break;
        }
      }
    }
    for (const Item& item : sets_[n]) {
      const Production& prod = productions_[static_cast<size_t>(item.production)];
      if (prod.lhs == start && item.origin == 0 && item.dot == static_cast<int32_t>(prod.rhs.size())) return true;
    }
    return false;
  }

 private:
  enum Tag { kExprTag, kRuleTag, kTailTag };
  static constexpr int32_t kInfiniteTail = -1;

  void add(size_t set, const Item& item) {
    if (seen_[set].insert(item).second) sets_[set].push_back(item);
  }

  // Advances every item of the origin set that was waiting for `lhs`.
  void complete(size_t i, const Item& item, int32_t lhs, std::set<int32_t>& completed_empty) {
    const auto origin = static_cast<size_t>(item.origin);
    if (origin == i) completed_empty.insert(lhs);
    for (size_t k = 0; k < sets_[origin].size(); ++k) {
      const Item waiting = sets_[origin][k];
      const Production& prod = productions_[static_cast<size_t>(waiting.production)];
      if (waiting.dot < static_cast<int32_t>(prod.rhs.size())) {
        const Symbol sym = prod.rhs[static_cast<size_t>(waiting.dot)];
        if (sym.kind == Symbol::kNonterminal && sym.value == lhs) {
          add(i, Item{waiting.production, waiting.dot + 1, waiting.origin});
        }
      }
    }
  }

  // The input position after the class terminal `expr` matched at `i`, or 0 if it does not match there.
  size_t scan_class(ExprId expr, size_t i) const {
    const Expr& e = g_.expr(expr);
    if (e.kind == ExprKind::kByteClass) {
      if (i < input_.size() && in_ranges(e.ranges, static_cast<uint8_t>(input_[i]))) return i + 1;
      return 0;
    }
    size_t pos = i;
    const int32_t cp = decode_utf8(input_, pos);
    if (cp < 0 || !in_ranges(e.ranges, static_cast<uint32_t>(cp))) return 0;
    return pos;
  }

  int32_t nonterminal(Tag tag, int32_t a, int32_t b) {
    auto [it, inserted] = nonterminals_.emplace(std::make_tuple(static_cast<int>(tag), a, b), 0);
    if (inserted) {
      it->second = static_cast<int32_t>(keys_.size());
      keys_.push_back(it->first);
      expansions_.emplace_back();
      expanded_.push_back(false);
    }
    return it->second;
  }

  Symbol nt(Tag tag, int32_t a, int32_t b = 0) { return Symbol{Symbol::kNonterminal, nonterminal(tag, a, b)}; }

  const std::vector<int32_t>& productions_of(int32_t nonterm) {
    const auto idx = static_cast<size_t>(nonterm);
    if (!expanded_[idx]) {
      expanded_[idx] = true;
      std::vector<std::vector<Symbol>> bodies = lower(keys_[idx]);
      for (auto& body : bodies) {
        productions_.push_back(Production{nonterm, std::move(body)});
        expansions_[idx].push_back(static_cast<int32_t>(productions_.size() - 1));
      }
    }
    return expansions_[idx];
  }

  // The right-hand sides of one nonterminal (see the table at the top of the file).
  std::vector<std::vector<Symbol>> lower(const std::tuple<int, int32_t, int32_t>& key) {
    const auto [tag, a, b] = key;
    if (tag == kRuleTag) {
      if (a < 0 || a >= g_.rule_count() || g_.rule(a).body < 0) return {};  // undefined: matches nothing
      return {{nt(kExprTag, g_.rule(a).body)}};
    }
    const Expr& e = g_.expr(a);
    if (tag == kTailTag) {
      const ExprId child = e.children[0];
      if (b == kInfiniteTail) return {{}, {nt(kExprTag, child), nt(kTailTag, a, kInfiniteTail)}};
      if (b == 1) return {{}, {nt(kExprTag, child)}};
      return {{}, {nt(kExprTag, child), nt(kTailTag, a, b - 1)}};
    }
    switch (e.kind) {
      case ExprKind::kEmpty:
        return {{}};
      case ExprKind::kLiteral: {
        std::vector<Symbol> body;
        for (char c : e.bytes) body.push_back(Symbol{Symbol::kByte, static_cast<uint8_t>(c)});
        return {body};
      }
      case ExprKind::kCharClass:
      case ExprKind::kByteClass:
        return {{Symbol{Symbol::kClass, a}}};
      case ExprKind::kRuleRef:
        return {{nt(kRuleTag, e.rule)}};
      case ExprKind::kSequence: {
        std::vector<Symbol> body;
        for (ExprId c : e.children) body.push_back(nt(kExprTag, c));
        return {body};
      }
      case ExprKind::kChoice: {
        std::vector<std::vector<Symbol>> bodies;
        for (ExprId c : e.children) bodies.push_back({nt(kExprTag, c)});
        return bodies;
      }
      case ExprKind::kRepeat: {
        std::vector<Symbol> body(static_cast<size_t>(e.min), nt(kExprTag, e.children[0]));
        if (e.max == kUnbounded) {
          body.push_back(nt(kTailTag, a, kInfiniteTail));
        } else if (e.max > e.min) {
          body.push_back(nt(kTailTag, a, e.max - e.min));
        }
        return {body};
      }
    }
    return {};
  }

  const Grammar& g_;
  std::string_view input_;
  std::map<std::tuple<int, int32_t, int32_t>, int32_t> nonterminals_;  // (tag, a, b) -> index
  std::vector<std::tuple<int, int32_t, int32_t>> keys_;                // index -> (tag, a, b)
  std::vector<std::vector<int32_t>> expansions_;                       // index -> its production ids
  std::vector<bool> expanded_;                                         // index -> lowered yet?
  std::vector<Production> productions_;
  std::vector<std::vector<Item>> sets_;  // (input.size() + 1): Earley set i = items after i bytes
  std::vector<std::unordered_set<Item, ItemHash>> seen_;
};

}  // namespace

bool recognizes(const Grammar& grammar, std::string_view bytes) {
  if (grammar.root() < 0 || grammar.root() >= grammar.rule_count()) {
    throw ArgumentError("recognizes: the grammar has no root rule");
  }
  return Earley(grammar, bytes).run();
}

}  // namespace stencil::grammar
