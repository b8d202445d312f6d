// Grammar IR -> Automaton.
//
// 1. Rule analysis (rule_analysis.h): which rules are recursive, and what to inline.
// 2. Per rule that keeps its own automaton (the root, recursive rules, and
//    large rules called from several places, so their token-mask cache is
//    shared): a Thompson NFA over bytes, with calls of inlined rules expanded in
//    place and calls of the others as call edges.
// 3. Subset construction per rule (epsilon closures; byte edges split into
//    disjoint ranges; call edges grouped by rule), then minimisation of the
//    whole automaton (minimise.h).
// 4. Whole-automaton analysis (automaton_analysis.h).
#include <algorithm>
#include <unordered_map>

#include "engine/automaton.h"
#include "engine/automaton_analysis.h"
#include "engine/minimise.h"
#include "engine/rule_analysis.h"
#include "engine/set_index.h"
#include "engine/utf8_ranges.h"
#include "stencil/errors.h"

namespace stencil::engine {
namespace {

using grammar::Expr;
using grammar::ExprId;
using grammar::ExprKind;
using grammar::Grammar;

// Builds of one rule that may drop counted loops that cannot count (see mark_loops) before all are unrolled.
constexpr int kMaxCountingAttempts = 4;

// A Thompson NFA for one rule.
struct Nfa {
  struct State {
    std::vector<int32_t> eps;
    std::vector<ByteEdge> bytes;
    std::vector<CallEdge> calls;
  };
  std::vector<State> states;
  int32_t start = 0, final = 0;
  // A counted optional repetition (see CountedLoop): the states [first, last) are the
  // boundary and one copy of the repeated expression; `overflow` starts the unrolled tail.
  struct Loop {
    ExprId repeat;  // the repetition expression
    int32_t boundary, begins, first, last, overflow, limit;  // begins: where an iteration of X starts
  };
  std::vector<Loop> loops;
  int32_t add() {
    states.emplace_back();
    return static_cast<int32_t>(states.size() - 1);
  }
};

class NfaBuilder {
 public:
  // Optional repetitions longer than their slack (see emit_counted) become counted loops, except
  // the repetition expressions in `uncounted` (sorted). longest_token 0: none.
  // What the builders of one grammar share about counting, per expression (-1: not known yet).
  struct CountingMemo {
    std::vector<int32_t> min_bytes;  // min_bytes()
    std::vector<int8_t> counted;     // holds_counted()
  };
  NfaBuilder(const Grammar& g, RuleAnalysis& analysis, const CompileLimits& limits, int64_t& total_states,
             std::vector<int32_t>& called_rules, int32_t longest_token, const std::vector<ExprId>& uncounted,
             CountingMemo& memo)
      : g_(g), analysis_(analysis), limits_(limits), total_states_(total_states), called_(called_rules),
        longest_token_(longest_token), uncounted_(uncounted), memo_(memo) {}

  Nfa build(int32_t rule) {
    nfa_ = Nfa{};
    tails_.clear();
    suffixes_.clear();
    nfa_.start = add();
    nfa_.final = add();
    emit(g_.rule(rule).body, nfa_.start, nfa_.final, 0);
    return std::move(nfa_);
  }

 private:
  int32_t add() {
    if (static_cast<int64_t>(nfa_.states.size()) + total_states_ > 4 * static_cast<int64_t>(limits_.max_automaton_states)) {
      throw LimitError("the grammar needs more than max_automaton_states (" +
                       std::to_string(limits_.max_automaton_states) + ") automaton states");
    }
    return nfa_.add();
  }
  void eps(int32_t from, int32_t to) { nfa_.states[from].eps.push_back(to); }
  void byte(int32_t from, uint8_t lo, uint8_t hi, int32_t to) { nfa_.states[from].bytes.push_back({lo, hi, 0, to}); }

  // Every fragment emit(e, in, out) builds adds edges only out of `in` and its own fresh states, and
  // only into its fresh states and `out`: nothing enters `in` or leaves `out`. So a composite
  // expression emitted twice towards the same `out` (a shared tail, as in the alternatives
  // "member j then the rest" | "the rest" of an object's optional members) is built once, from a
  // fresh start state, and entered by an epsilon edge the second time: the same language, without
  // the copy that makes such grammars exponential.
  void emit(ExprId id, int32_t in, int32_t out, int depth) {
    const Expr& e = g_.expr(id);
    const bool composite = e.kind == ExprKind::kSequence || e.kind == ExprKind::kChoice ||
                           e.kind == ExprKind::kRepeat || (e.kind == ExprKind::kRuleRef && inlined(e.rule));
    if (!composite) return emit_fragment(id, in, out, depth);
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(id)) << 32) | static_cast<uint32_t>(out);
    if (auto it = tails_.find(key); it != tails_.end()) {
      eps(in, it->second);
      return;
    }
    const int32_t start = add();
    tails_.emplace(key, start);
    eps(in, start);
    emit_fragment(id, start, out, depth);
  }

  void emit_fragment(ExprId id, int32_t in, int32_t out, int depth) {
    if (depth > kMaxExpressionDepth) throw LimitError("grammar nesting deeper than kMaxExpressionDepth (2000)");
    const Expr& e = g_.expr(id);
    switch (e.kind) {
      case ExprKind::kEmpty: eps(in, out); return;
      case ExprKind::kLiteral: {
        int32_t cur = in;
        for (size_t i = 0; i < e.bytes.size(); ++i) {
          const int32_t next = i + 1 == e.bytes.size() ? out : add();
          const auto b = static_cast<uint8_t>(e.bytes[i]);
          byte(cur, b, b, next);
          cur = next;
        }
        return;
      }
      case ExprKind::kByteClass:
        for (const auto& r : e.ranges) byte(in, static_cast<uint8_t>(r.lo), static_cast<uint8_t>(r.hi), out);
        return;
      case ExprKind::kCharClass: {
        std::vector<Utf8Sequence> seqs;
        for (const auto& r : e.ranges) utf8_sequences(r.lo, r.hi, seqs);
        for (const auto& seq : seqs) {
          int32_t cur = in;
          for (size_t i = 0; i < seq.size(); ++i) {
            const int32_t next = i + 1 == seq.size() ? out : add();
            byte(cur, seq[i].lo, seq[i].hi, next);
            cur = next;
          }
        }
        return;
      }
      case ExprKind::kRuleRef:
        if (inlined(e.rule)) {
          emit(g_.rule(e.rule).body, in, out, depth + 1);
        } else {
          nfa_.states[in].calls.push_back({e.rule, out});
          called_.push_back(e.rule);
        }
        return;
      case ExprKind::kSequence:
        emit_sequence(e.children, in, out, depth);
        return;
      case ExprKind::kChoice:
        // Children share `in` and `out`: no fragment loops back into `in` or out of `out` (see emit).
        for (ExprId c : e.children) emit(c, in, out, depth + 1);
        return;
      case ExprKind::kRepeat: {
        const int64_t optional = e.max == grammar::kUnbounded ? 0 : int64_t{e.max} - e.min;
        const int32_t slack = optional > 1 ? counted_slack(id, e.children[0]) : 0;
        const bool counted = slack > 0 && optional > int64_t{slack} + 1;
        if (!counted && e.max != grammar::kUnbounded && e.max > limits_.max_repetition) {
          throw LimitError("repetition bound " + std::to_string(e.max) + " exceeds max_repetition (" +
                           std::to_string(limits_.max_repetition) + ")");
        }
        if (e.min > limits_.max_repetition) {
          throw LimitError("repetition bound " + std::to_string(e.min) + " exceeds max_repetition (" +
                           std::to_string(limits_.max_repetition) + ")");
        }
        int32_t cur = in;
        for (int32_t i = 0; i < e.min; ++i) {
          const int32_t next = add();
          emit(e.children[0], cur, next, depth + 1);
          cur = next;
        }
        if (counted) {
          emit_counted(id, e.children[0], cur, out, static_cast<int32_t>(optional), slack, depth);
        } else if (e.max == grammar::kUnbounded) {
          const int32_t loop = add(), body_in = add(), body_out = add();
          eps(cur, loop);
          eps(loop, body_in);
          emit(e.children[0], body_in, body_out, depth + 1);
          eps(body_out, loop);
          eps(loop, out);
        } else {
          for (int32_t i = e.min; i < e.max; ++i) {
            eps(cur, out);
            const int32_t next = i + 1 == e.max ? out : add();
            emit(e.children[0], cur, next, depth + 1);
            cur = next;
          }
          if (e.min == e.max) eps(cur, out);
        }
        return;
      }
    }
  }

  // Whether a reference to `rule` is expanded here. Inside the iterations of a counted loop, a rule
  // holding a counted loop of its own is called instead: loops do not nest (a node has one count),
  // and a list of long strings is then a short loop of calls to one counted string.
  bool inlined(int32_t rule) {
    if (!analysis_.inline_call(rule, g_.root())) return false;
    return in_counted_ == 0 || !holds_counted(g_.rule(rule).body, 0);
  }

  // The expression (with the rules it inlines) has a repetition this builder would count.
  bool holds_counted(ExprId id, int depth) {
    int8_t& memo = memo_.counted[static_cast<size_t>(id)];
    if (memo >= 0) return memo != 0;
    if (depth > kMaxExpressionDepth) return false;
    memo = 0;  // a recursive reference meets this
    const Expr& e = g_.expr(id);
    bool found = false;
    if (e.kind == ExprKind::kRepeat && e.max != grammar::kUnbounded) {
      const int64_t optional = int64_t{e.max} - e.min;
      const int32_t slack = optional > 1 ? counted_slack(id, e.children[0]) : 0;
      found = slack > 0 && optional > int64_t{slack} + 1;
    }
    if (e.kind == ExprKind::kRuleRef) {
      found = analysis_.inline_call(e.rule, g_.root()) && holds_counted(g_.rule(e.rule).body, depth + 1);
    }
    for (size_t i = 0; !found && i < e.children.size(); ++i) found = holds_counted(e.children[i], depth + 1);
    memo = found ? 1 : 0;
    return found;
  }

  // The iterations of `child` one token can complete: its first (maybe only its last byte) and
  // then one per min_bytes(child). 0 when the repetition is not to be counted.
  int32_t counted_slack(ExprId repeat, ExprId child) {
    if (longest_token_ <= 0 || std::binary_search(uncounted_.begin(), uncounted_.end(), repeat)) return 0;
    const int32_t m = std::max(1, min_bytes(child, 0));
    return 1 + (longest_token_ - 1) / m;
  }

  // Fewest bytes the expression matches (a lower bound where rules recurse).
  int32_t min_bytes(ExprId id, int depth) {
    int32_t& memo = memo_.min_bytes[static_cast<size_t>(id)];
    if (memo >= 0) return memo;
    if (depth > kMaxExpressionDepth) return 0;
    memo = 0;  // a recursive reference meets this bound
    const Expr& e = g_.expr(id);
    int64_t n = 0;
    switch (e.kind) {
      case ExprKind::kEmpty: break;
      case ExprKind::kLiteral: n = static_cast<int64_t>(e.bytes.size()); break;
      case ExprKind::kCharClass:
      case ExprKind::kByteClass: n = 1; break;
      case ExprKind::kRuleRef: n = min_bytes(g_.rule(e.rule).body, depth + 1); break;
      case ExprKind::kSequence:
        for (ExprId c : e.children) n += min_bytes(c, depth + 1);
        break;
      case ExprKind::kChoice:
        n = kInfiniteBytes;
        for (ExprId c : e.children) n = std::min<int64_t>(n, min_bytes(c, depth + 1));
        break;
      case ExprKind::kRepeat: n = int64_t{e.min} * min_bytes(e.children[0], depth + 1); break;
    }
    memo = static_cast<int32_t>(std::min<int64_t>(n, kInfiniteBytes));
    return memo;
  }

  // X{0,n} as a counted loop: a boundary with one copy of X cycling back to it, the exit, and the
  // tail X{0,slack} unrolled from `overflow` (where the run continues after n - slack iterations).
  void emit_counted(ExprId repeat, ExprId child, int32_t in, int32_t out, int32_t n, int32_t slack, int depth) {
    const int32_t boundary = add();
    eps(in, boundary);
    eps(boundary, out);
    const int32_t body_in = add(), body_out = add();
    eps(boundary, body_in);
    ++in_counted_;
    emit(child, body_in, body_out, depth + 1);
    eps(body_out, boundary);
    const int32_t last = static_cast<int32_t>(nfa_.states.size());
    const int32_t overflow = add();
    int32_t cur = overflow;
    for (int32_t i = 0; i < slack; ++i) {
      eps(cur, out);
      const int32_t next = i + 1 == slack ? out : add();
      emit(child, cur, next, depth + 1);
      cur = next;
    }
    --in_counted_;
    nfa_.loops.push_back({repeat, boundary, body_in, boundary, last, overflow, n - slack});
  }

  // A sequence, sharing what it can with sequences emitted before (see emit for why sharing is sound):
  //  - suffixes: the state between children i-1 and i accepts exactly children[i..] then `out`, so a
  //    later sequence ending in the same children towards the same `out` joins it there instead of
  //    copying them. This is what keeps one copy of each optional object member: the member with its
  //    tail is a suffix of "separator, member, tail".
  //  - separated lists: `X (S X)*` (an array's items, an object's extra members) is emitted with one
  //    copy of X: S loops back to X's start. Without it every level of nesting doubles the automaton.
  void emit_sequence(const std::vector<ExprId>& ch, int32_t in, int32_t out, int depth) {
    if (depth > kMaxExpressionDepth) throw LimitError("grammar nesting deeper than kMaxExpressionDepth (2000)");
    const size_t n = ch.size();
    std::vector<uint64_t> hash(n + 1);
    hash[n] = 0x9E3779B97F4A7C15ull ^ static_cast<uint32_t>(out);
    for (size_t i = n; i-- > 0;) {
      hash[i] = (hash[i + 1] ^ static_cast<uint32_t>(ch[i])) * 0x100000001B3ull;
      hash[i] ^= hash[i] >> 29;
    }
    // The longest proper suffix already emitted towards `out`.
    size_t join = n;
    int32_t join_state = out;
    for (size_t i = 1; i < n; ++i) {
      if (const int32_t at = find_suffix(hash[i], ch, i, out); at >= 0) {
        join = i;
        join_state = at;
        break;
      }
    }
    int32_t cur = in;
    size_t i = 0;
    while (i < join) {
      if (i + 1 < join && separated_list(ch[i], ch[i + 1])) {
        // X (S X)*: X from a fresh start to a fresh end; S from the end back to the start.
        const std::vector<ExprId>& body = g_.expr(g_.expr(ch[i + 1]).children[0]).children;
        const int32_t start = add(), end = add();
        eps(cur, start);
        emit(ch[i], start, end, depth + 1);
        int32_t at = end;
        for (size_t k = 0; k + 1 < body.size(); ++k) {
          const int32_t next = k + 2 == body.size() ? start : add();
          emit(body[k], at, next, depth + 1);
          at = next;
        }
        i += 2;
        if (i < n) remember_suffix(hash[i - 1], ch, i - 1, out, end);
        if (i == join) eps(end, join_state);
        cur = end;
        continue;
      }
      const int32_t next = i + 1 == join ? join_state : add();
      emit(ch[i], cur, next, depth + 1);
      if (i + 1 < join) remember_suffix(hash[i + 1], ch, i + 1, out, next);
      cur = next;
      ++i;
    }
  }

  // `list` is (S X)* with S non-empty, unbounded, and `item` is that X.
  bool separated_list(ExprId item, ExprId list) const {
    const Expr& r = g_.expr(list);
    if (r.kind != ExprKind::kRepeat || r.min != 0 || r.max != grammar::kUnbounded) return false;
    const Expr& body = g_.expr(r.children[0]);
    return body.kind == ExprKind::kSequence && body.children.size() >= 2 && body.children.back() == item;
  }

  struct Suffix {
    const std::vector<ExprId>* children;
    size_t from;
    int32_t out;
    int32_t start;
  };
  int32_t find_suffix(uint64_t hash, const std::vector<ExprId>& ch, size_t from, int32_t out) const {
    auto [lo, hi] = suffixes_.equal_range(hash);
    for (auto it = lo; it != hi; ++it) {
      const Suffix& s = it->second;
      if (s.out == out && s.children->size() - s.from == ch.size() - from &&
          std::equal(ch.begin() + static_cast<std::ptrdiff_t>(from), ch.end(),
                     s.children->begin() + static_cast<std::ptrdiff_t>(s.from))) {
        return s.start;
      }
    }
    return -1;
  }
  void remember_suffix(uint64_t hash, const std::vector<ExprId>& ch, size_t from, int32_t out, int32_t start) {
    suffixes_.emplace(hash, Suffix{&ch, from, out, start});
  }

  const Grammar& g_;
  RuleAnalysis& analysis_;
  const CompileLimits& limits_;
  int64_t& total_states_;
  std::vector<int32_t>& called_;
  const int32_t longest_token_;
  const std::vector<ExprId>& uncounted_;
  CountingMemo& memo_;
  int32_t in_counted_ = 0;  // emitting the iterations of a counted loop (see inlined)
  Nfa nfa_;
  std::unordered_map<uint64_t, int32_t> tails_;  // (expression, out) -> the start of its fragment
  std::unordered_multimap<uint64_t, Suffix> suffixes_;  // hash of (children[from..], out) -> its start
};

// Subset construction of one rule's NFA, appending the DFA states to `out`.
class Determiniser {
 public:
  Determiniser(const Nfa& nfa, int32_t rule, Automaton& out, const CompileLimits& limits)
      : nfa_(nfa), rule_(rule), out_(out), limits_(limits) {}

  // Returns the global index of the start state, or -1 (with nothing appended) when some counted
  // loop of the NFA does not determinise into a countable cycle (see mark_loops): their
  // repetition expressions are added to `uncountable`, and the caller builds the rule again.
  int32_t run(std::vector<std::vector<ByteEdge>>& byte_edges, std::vector<std::vector<CallEdge>>& call_edges,
              std::vector<ExprId>& uncountable) {
    index_.clear();
    by_targets_.clear();
    pending_.clear();
    first_global_ = static_cast<int32_t>(out_.states.size());
    const int32_t seed[1] = {nfa_.start};
    const int32_t start = intern_targets(seed);
    std::vector<int32_t> overflow;
    for (const Nfa::Loop& loop : nfa_.loops) {
      const int32_t at[1] = {loop.overflow};
      overflow.push_back(intern_targets(at));
    }
    classify_members();
    for (size_t next = 0; next < pending_.size(); ++next) {
      const int32_t global = first_global_ + static_cast<int32_t>(next);
      // Copied: interning more sets while expanding may move the index's arena.
      const std::span<const int32_t> set = index_.set(pending_[next]);
      members_.assign(set.begin(), set.end());
      expand(global, members_, byte_edges, call_edges);
    }
    if (!nfa_.loops.empty() && !mark_loops(overflow, byte_edges, call_edges, uncountable)) {
      out_.states.resize(static_cast<size_t>(first_global_));
      byte_edges.resize(std::min(byte_edges.size(), static_cast<size_t>(first_global_)));
      call_edges.resize(std::min(call_edges.size(), static_cast<size_t>(first_global_)));
      return -1;
    }
    return start;
  }

 private:
  // Member classes of the NFA states, for the flags of the DFA edges (see expand).
  static constexpr uint8_t kFromIterationStart = 1, kFromInsideIteration = 2, kFromOutside = 4;

  // Each loop NFA state either starts an iteration (the closure of the loop's `begins`: no
  // byte of one iteration leads back there) or is inside one; other states are outside.
  // Loops that nest are not counted (a node has one count): the inner ones are marked bad.
  void classify_members() {
    loop_of_nfa_.clear();
    member_class_.clear();
    bad_.assign(nfa_.loops.size(), false);
    if (nfa_.loops.empty()) return;
    const size_t n_loops = nfa_.loops.size();
    for (size_t l = 0; l < n_loops; ++l) {
      for (size_t k = 0; k < n_loops; ++k) {
        const Nfa::Loop &inner = nfa_.loops[l], &outer = nfa_.loops[k];
        if (k != l && inner.first >= outer.first && inner.last <= outer.last) bad_[l] = true;
      }
    }
    loop_of_nfa_.assign(nfa_.states.size(), -1);
    member_class_.assign(nfa_.states.size(), kFromOutside);
    for (size_t l = 0; l < n_loops; ++l) {
      if (bad_[l]) continue;
      for (int32_t q = nfa_.loops[l].first; q < nfa_.loops[l].last; ++q) {
        loop_of_nfa_[static_cast<size_t>(q)] = static_cast<int32_t>(l);
        member_class_[static_cast<size_t>(q)] = kFromInsideIteration;
      }
      const int32_t seed[1] = {nfa_.loops[l].begins};
      closure(seed, closure_);
      for (int32_t q : closure_) {
        if (loop_of_nfa_[static_cast<size_t>(q)] == static_cast<int32_t>(l)) member_class_[static_cast<size_t>(q)] = kFromIterationStart;
      }
    }
    // Only the boundary's epsilon edge enters the start states: otherwise a state could be both.
    for (size_t q = 0; q < nfa_.states.size(); ++q) {
      const int32_t l = loop_of_nfa_[q];
      if (l < 0) continue;
      auto into_start = [&](int32_t t) {
        return member_class_[static_cast<size_t>(t)] == kFromIterationStart && static_cast<int32_t>(q) != nfa_.loops[static_cast<size_t>(l)].boundary &&
               member_class_[q] != kFromIterationStart;
      };
      const Nfa::State& st = nfa_.states[q];
      bool bad = false;
      for (int32_t t : st.eps) bad |= into_start(t);
      for (const ByteEdge& e : st.bytes) bad |= member_class_[static_cast<size_t>(e.target)] == kFromIterationStart;
      for (const CallEdge& c : st.calls) bad |= member_class_[static_cast<size_t>(c.target)] == kFromIterationStart;
      if (bad) bad_[static_cast<size_t>(l)] = true;
    }
  }

  // Turns the edges' member classes into counting flags and records the loops. Counting is exact
  // when every DFA step into a loop state is one of: from a state of the same loop and only from
  // start members (kStartsIteration), or only from inside members (the count carries on); or
  // into a state with no iteration begun (only the loop's boundary closure), from outside or
  // from outside members only (kEntersLoop, count 0). Call returns into a loop carry the
  // caller's count (or enter). A DFA state holds one loop's states at most. Otherwise the
  // offending repetitions (ambiguous ones such as (a|ab){0,999}, ones whose continuation starts
  // like them, the inner of two nested ones) go to `uncountable` and the result is false.
  bool mark_loops(const std::vector<int32_t>& overflow, std::vector<std::vector<ByteEdge>>& byte_edges,
                  const std::vector<std::vector<CallEdge>>& call_edges, std::vector<ExprId>& uncountable) {
    const size_t n_loops = nfa_.loops.size();
    std::vector<std::vector<int32_t>> fresh(n_loops);  // the loop states of the boundary's closure
    for (size_t l = 0; l < n_loops; ++l) {
      if (bad_[l]) continue;
      const int32_t seed[1] = {nfa_.loops[l].boundary};
      closure(seed, closure_);
      for (int32_t q : closure_) {
        if (loop_of_nfa_[static_cast<size_t>(q)] == static_cast<int32_t>(l)) fresh[l].push_back(q);
      }
    }
    std::vector<int32_t> loop_of_state(pending_.size(), -1);
    std::vector<uint8_t> is_fresh(pending_.size(), 1);
    std::vector<int32_t> part;
    for (size_t i = 0; i < pending_.size(); ++i) {
      const std::span<const int32_t> set = index_.set(pending_[i]);
      int32_t loop = -1;
      part.clear();
      for (int32_t q : set) {
        const int32_t l = loop_of_nfa_.empty() ? -1 : loop_of_nfa_[static_cast<size_t>(q)];
        if (l < 0) continue;
        if (loop >= 0 && loop != l) bad_[static_cast<size_t>(l)] = bad_[static_cast<size_t>(loop)] = true;
        loop = l;
        part.push_back(q);
      }
      loop_of_state[i] = loop;
      if (loop >= 0) {
        const std::vector<int32_t>& f = fresh[static_cast<size_t>(loop)];
        is_fresh[i] = std::includes(f.begin(), f.end(), part.begin(), part.end());
      }
    }
    auto local = [&](int32_t global) { return static_cast<size_t>(global - first_global_); };
    for (size_t i = 0; i < pending_.size(); ++i) {
      const size_t global = static_cast<size_t>(first_global_) + i;
      if (global >= byte_edges.size()) continue;
      for (ByteEdge& e : byte_edges[global]) {
        const uint8_t sources = e.flags;
        e.flags = 0;
        const size_t t = local(e.target);
        const int32_t lt = loop_of_state[t];
        if (lt < 0) continue;  // leaves (or stays out of) every loop
        const bool same = loop_of_state[i] == lt;
        if (same && sources == kFromIterationStart) {
          e.flags = kStartsIteration;
        } else if (same && sources == kFromInsideIteration) {
          // the count carries on
        } else if ((!same || sources == kFromOutside) && is_fresh[t]) {
          e.flags = kEntersLoop;
        } else {
          bad_[static_cast<size_t>(lt)] = true;
          if (loop_of_state[i] >= 0) bad_[static_cast<size_t>(loop_of_state[i])] = true;
        }
      }
      if (global >= call_edges.size()) continue;
      for (const CallEdge& c : call_edges[global]) {
        const size_t t = local(c.target);
        if (loop_of_state[t] >= 0 && loop_of_state[t] != loop_of_state[i] && !is_fresh[t]) bad_[static_cast<size_t>(loop_of_state[t])] = true;
      }
    }
    bool any_bad = false;
    for (size_t l = 0; l < n_loops; ++l) {
      if (bad_[l]) uncountable.push_back(nfa_.loops[l].repeat), any_bad = true;
    }
    if (any_bad) return false;
    std::vector<int32_t> index(n_loops, -1);
    for (size_t l = 0; l < n_loops; ++l) {
      index[l] = static_cast<int32_t>(out_.loops.size());
      out_.loops.push_back({nfa_.loops[l].limit, overflow[l]});
    }
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (loop_of_state[i] >= 0) out_.states[static_cast<size_t>(first_global_) + i].loop = index[static_cast<size_t>(loop_of_state[i])];
    }
    return true;
  }

  // The DFA state of the epsilon closure of `targets` (sorted, unique). Many DFA states step to the
  // same target set, so sets are looked up before their closure is computed.
  int32_t intern_targets(std::span<const int32_t> targets) {
    if (const int32_t known = by_targets_.find(targets); known >= 0) return known;
    closure(targets, closure_);
    const int32_t id = intern(closure_);
    by_targets_.insert(targets, id);
    return id;
  }

  void closure(std::span<const int32_t> seeds, std::vector<int32_t>& result) {
    if (mark_.size() < nfa_.states.size()) mark_.assign(nfa_.states.size(), 0);
    ++generation_;
    stack_.assign(seeds.begin(), seeds.end());
    result.clear();
    while (!stack_.empty()) {
      const int32_t s = stack_.back();
      stack_.pop_back();
      if (mark_[s] == generation_) continue;
      mark_[s] = generation_;
      result.push_back(s);
      for (int32_t t : nfa_.states[s].eps) {
        if (mark_[t] != generation_) stack_.push_back(t);
      }
    }
    std::sort(result.begin(), result.end());
  }

  int32_t intern(const std::vector<int32_t>& set) {
    if (const int32_t known = index_.find(set); known >= 0) return known;
    if (static_cast<int64_t>(out_.states.size()) >= limits_.max_automaton_states) {
      throw LimitError("the grammar needs more than max_automaton_states (" +
                       std::to_string(limits_.max_automaton_states) + ") automaton states");
    }
    const int32_t global = static_cast<int32_t>(out_.states.size());
    bool is_final = std::binary_search(set.begin(), set.end(), nfa_.final);
    out_.states.push_back(AutomatonState{rule_, 0, 0, 0, 0, is_final, kInfiniteBytes});
    pending_.push_back(index_.insert(set, global));
    return global;
  }

  void expand(int32_t global, const std::vector<int32_t>& members, std::vector<std::vector<ByteEdge>>& byte_edges,
              std::vector<std::vector<CallEdge>>& call_edges) {
    // Bytes: cut [0, 255] at every edge boundary; each edge adds its target to the pieces it covers.
    // With counted loops, an edge's flags say which kind of member it leaves from (classify_members);
    // a piece's flags are those of every edge it takes, resolved in mark_loops.
    edges_.clear();
    for (int32_t s : members) {
      const uint8_t from = member_class_.empty() ? 0 : member_class_[static_cast<size_t>(s)];
      for (ByteEdge e : nfa_.states[s].bytes) {
        e.flags = from;
        edges_.push_back(e);
      }
      if (from == kFromIterationStart && !nfa_.states[s].calls.empty()) bad_[static_cast<size_t>(loop_of_nfa_[static_cast<size_t>(s)])] = true;
    }
    std::vector<ByteEdge> dfa_bytes;
    if (!edges_.empty()) {
      cuts_.clear();
      for (const ByteEdge& e : edges_) {
        cuts_.push_back(e.lo);
        cuts_.push_back(e.hi + 1);
      }
      std::sort(cuts_.begin(), cuts_.end());
      cuts_.erase(std::unique(cuts_.begin(), cuts_.end()), cuts_.end());
      const size_t pieces = cuts_.size() - 1;
      if (piece_targets_.size() < pieces) piece_targets_.resize(pieces);
      piece_sources_.assign(pieces, 0);
      for (size_t p = 0; p < pieces; ++p) piece_targets_[p].clear();
      for (const ByteEdge& e : edges_) {
        const auto first = static_cast<size_t>(std::lower_bound(cuts_.begin(), cuts_.end(), e.lo) - cuts_.begin());
        for (size_t p = first; p < pieces && cuts_[p] <= e.hi; ++p) {
          piece_targets_[p].push_back(e.target);
          piece_sources_[p] |= e.flags;
        }
      }
      int32_t prev_state = -1;
      for (size_t p = 0; p < pieces; ++p) {
        std::vector<int32_t>& targets = piece_targets_[p];
        if (targets.empty()) continue;
        const int lo = cuts_[p], hi = cuts_[p + 1] - 1;
        std::sort(targets.begin(), targets.end());
        targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
        const int32_t target = intern_targets(targets);
        const uint8_t sources = piece_sources_[p];
        if (!dfa_bytes.empty() && target == prev_state && dfa_bytes.back().hi + 1 == lo && dfa_bytes.back().flags == sources) {
          dfa_bytes.back().hi = static_cast<uint8_t>(hi);
        } else {
          dfa_bytes.push_back({static_cast<uint8_t>(lo), static_cast<uint8_t>(hi), sources, target});
        }
        prev_state = target;
      }
    }
    // Calls: one edge per called rule, to the set of its return points.
    calls_.clear();
    for (int32_t s : members) {
      for (const CallEdge& c : nfa_.states[s].calls) calls_.push_back(c);
    }
    std::vector<CallEdge> dfa_calls;
    if (!calls_.empty()) {
      std::sort(calls_.begin(), calls_.end(),
                [](const CallEdge& x, const CallEdge& y) { return x.rule != y.rule ? x.rule < y.rule : x.target < y.target; });
      for (size_t i = 0; i < calls_.size();) {
        size_t j = i;
        call_targets_.clear();
        for (; j < calls_.size() && calls_[j].rule == calls_[i].rule; ++j) {
          if (call_targets_.empty() || call_targets_.back() != calls_[j].target) call_targets_.push_back(calls_[j].target);
        }
        dfa_calls.push_back({calls_[i].rule, intern_targets(call_targets_)});
        i = j;
      }
    }
    if (byte_edges.size() <= static_cast<size_t>(global)) {
      byte_edges.resize(global + 1);
      call_edges.resize(global + 1);
    }
    byte_edges[global] = std::move(dfa_bytes);
    call_edges[global] = std::move(dfa_calls);
  }

  const Nfa& nfa_;
  int32_t rule_;
  Automaton& out_;
  const CompileLimits& limits_;
  SetIndex index_;                // closed set -> DFA state
  SetIndex by_targets_;           // step targets -> DFA state
  std::vector<int32_t> pending_;  // (DFA states of this rule,) the id of the state's set in index_
  int32_t first_global_ = 0;
  std::vector<int32_t> mark_;
  int32_t generation_ = 0;
  // Scratch, reused across states.
  std::vector<int32_t> stack_, closure_, cuts_, members_, call_targets_;
  std::vector<uint8_t> piece_sources_;
  // Counted loops (empty without): per NFA state its loop (-1) and member class, per loop whether it cannot count.
  std::vector<int32_t> loop_of_nfa_;
  std::vector<uint8_t> member_class_;
  std::vector<bool> bad_;
  std::vector<ByteEdge> edges_;
  std::vector<CallEdge> calls_;
  std::vector<std::vector<int32_t>> piece_targets_;
};

}  // namespace

Automaton build_automaton(const Grammar& g, const CompileLimits& limits, int32_t longest_token) {
  if (g.root() < 0 || g.root() >= g.rule_count()) throw GrammarError("the grammar has no root rule");
  RuleAnalysis analysis(g);
  Automaton a;
  a.root_rule = g.root();
  a.rule_start.assign(g.rule_count(), -1);
  for (int32_t r = 0; r < g.rule_count(); ++r) a.rule_names.push_back(g.rule(r).name);

  std::vector<std::vector<ByteEdge>> byte_edges;
  std::vector<std::vector<CallEdge>> call_edges;
  int64_t nfa_states = 0;
  std::vector<int32_t> queue{g.root()};
  NfaBuilder::CountingMemo memo{std::vector<int32_t>(static_cast<size_t>(g.expr_count()), -1),
                                std::vector<int8_t>(static_cast<size_t>(g.expr_count()), -1)};
  std::vector<bool> queued(g.rule_count(), false);
  queued[g.root()] = true;
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    const int32_t rule = queue[qi];
    std::vector<int32_t> called;
    int32_t start = -1;
    // Counted loops where they determinise into countable cycles: a rule with some that do not
    // is built again with those unrolled (within max_repetition), at worst all of them.
    std::vector<ExprId> uncounted;
    for (int attempt = 0; start < 0; ++attempt) {
      called.clear();
      NfaBuilder builder(g, analysis, limits, nfa_states, called, attempt < kMaxCountingAttempts ? longest_token : 0, uncounted,
                         memo);
      Nfa nfa = builder.build(rule);
      Determiniser det(nfa, rule, a, limits);
      start = det.run(byte_edges, call_edges, uncounted);
      std::sort(uncounted.begin(), uncounted.end());
      if (start >= 0) nfa_states += static_cast<int64_t>(nfa.states.size());
    }
    a.rule_start[rule] = start;
    for (int32_t c : called) {
      if (!queued[c]) {
        queued[c] = true;
        queue.push_back(c);
      }
    }
  }
  byte_edges.resize(a.states.size());
  call_edges.resize(a.states.size());
  minimise(a, byte_edges, call_edges);
  for (size_t i = 0; i < a.states.size(); ++i) {
    AutomatonState& s = a.states[i];
    s.byte_begin = static_cast<uint32_t>(a.byte_edges.size());
    a.byte_edges.insert(a.byte_edges.end(), byte_edges[i].begin(), byte_edges[i].end());
    s.byte_end = static_cast<uint32_t>(a.byte_edges.size());
    s.call_begin = static_cast<uint32_t>(a.call_edges.size());
    a.call_edges.insert(a.call_edges.end(), call_edges[i].begin(), call_edges[i].end());
    s.call_end = static_cast<uint32_t>(a.call_edges.size());
  }
  compute_min_bytes(a);
  if (a.states[a.root_start()].min_bytes_to_end >= kInfiniteBytes) {
    throw GrammarError("the grammar accepts no string: rule '" + a.rule_names[a.root_rule] +
                       "' can never finish (every alternative recurses without end)");
  }
  prune_dead_edges(a);
  check_left_recursion(a);
  index_returns(a);
  return a;
}

std::string describe(const Automaton& a) {
  std::string out;
  for (size_t i = 0; i < a.states.size(); ++i) {
    const AutomatonState& s = a.states[i];
    out += std::to_string(i) + " [" + a.rule_names[s.rule] + "]" + (s.is_final ? " final" : "") +
           " min=" + std::to_string(s.min_bytes_to_end);
    if (s.loop >= 0) {
      const CountedLoop& loop = a.loops[static_cast<size_t>(s.loop)];
      out += " loop" + std::to_string(s.loop) + "(" + std::to_string(loop.limit) + " then " + std::to_string(loop.overflow) + ")";
    }
    out += ":";
    for (uint32_t k = s.byte_begin; k < s.byte_end; ++k) {
      const ByteEdge& e = a.byte_edges[k];
      out += " " + std::to_string(e.lo) + "-" + std::to_string(e.hi) + "->" + std::to_string(e.target);
      if (e.flags & kStartsIteration) out += "+";
      if (e.flags & kEntersLoop) out += "!";
    }
    for (uint32_t k = s.call_begin; k < s.call_end; ++k) {
      out += " call " + a.rule_names[a.call_edges[k].rule] + "->" + std::to_string(a.call_edges[k].target);
    }
    out += "\n";
  }
  return out;
}

}  // namespace stencil::engine
