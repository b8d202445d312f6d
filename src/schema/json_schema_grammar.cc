// The schema-to-grammar emitter (see json_schema_grammar.h).
//
// Pipeline: text -> Json (key order kept) -> typed nodes (schema_parser) ->
// flattened nodes (resolve: $ref/allOf merged) -> grammar, then pruning.
//
// Rules versus inline expressions: a subschema that involves `$ref` or `allOf`
// (a node with `all_of`) becomes a rule, memoised per node (and per nesting
// depth under the pretty layout), and its body is built from a work list; that is
// how recursive schemas become recursive rules rather than expansions. Everything
// else is built inline under a depth guard (JsonOptions::max_depth).
//
// anyOf/oneOf are distributed: the value is one of (node without the group AND
// branch). oneOf branches that are not provably disjoint (resolve.h) become
// "branch i AND NOT branch j" for each overlapping j, which makes the choice exact.
//
// `not` (also the negative half of if/then/else and of dependentSchemas) is pushed
// down one level at a time (Resolver::negation): an anyOf of positive alternatives,
// each violating one keyword of the negated schema. Keywords without a positive
// complement (pattern, format, additionalProperties, ...) lose their alternative:
// sound, and listed in the warnings as values that are not produced.
#include "schema/json_schema_grammar.h"

#include <algorithm>
#include <deque>
#include <map>
#include <numeric>
#include <unordered_map>

#include "schema/containers.h"
#include "schema/grammar_prune.h"
#include "schema/json_layout.h"
#include "schema/number_grammar.h"
#include "schema/pattern_length.h"
#include "schema/resolve.h"
#include "schema/schema_parser.h"
#include "schema/string_grammar.h"
#include "stencil/errors.h"

namespace stencil::schema {
namespace {

using grammar::ExprId;
using grammar::Grammar;
using grammar::RuleId;

constexpr int64_t kMaxCountStates = 20000;  // object count automaton (minProperties/maxProperties)
constexpr size_t kMaxAnyOfCombinations = 256;  // several anyOf groups in one node are multiplied out
constexpr size_t kMaxDependentVariants = 16;   // dependentRequired: 2^(optional keys with dependencies)
constexpr int kMaxNegationExpansions = 2000;  // distinct nodes whose `not` is pushed down (see negated())

std::string rule_name_for(const std::string& pointer) {
  std::string name = "s";
  for (char c : pointer) {
    if (std::isalnum(static_cast<unsigned char>(c))) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (name.back() != '-') name += '-';
  }
  while (name.size() > 1 && name.back() == '-') name.pop_back();
  if (name.size() > 48) name = "s-" + name.substr(name.size() - 46);
  return name;
}

class Emitter {
 public:
  Emitter(Grammar& g, Resolver& resolver, const JsonOptions& options, std::vector<std::string>& warnings)
      : g_(g), r_(resolver), opt_(options), warnings_(warnings), layout_(g, options) {}

  // The root rule for node `root`.
  RuleId emit_root(NodeId root) {
    RuleId rule = g_.declare_rule("root");
    auto body = value(root, 0, 0);
    g_.define_rule(rule, body ? *body : never());
    drain();
    return rule;
  }

  RuleId emit_any_root() {
    RuleId rule = g_.declare_rule("root");
    g_.define_rule(rule, any_value(0));
    drain();
    return rule;
  }

  const std::vector<std::pair<std::string, std::string>>& errors() const { return errors_; }

 private:
  // ---- helpers ------------------------------------------------------------------------------
  ExprId never() {
    if (never_rule_ < 0) never_rule_ = g_.declare_rule("never");  // declared, never defined: matches nothing
    return g_.rule_ref(never_rule_);
  }

  std::nullopt_t fail(const std::string& pointer, const std::string& message) {
    errors_.emplace_back(pointer, message);
    return std::nullopt;
  }

  // An unsupported construct: an error, or (lenient) a warning; returns whether to go on ignoring it.
  bool unsupported(const std::string& pointer, const std::string& what) {
    const std::string message = what.find("unsupported") == std::string::npos ? "unsupported: " + what : what;
    if (opt_.lenient) {
      warnings_.push_back((pointer.empty() ? std::string("#") : pointer) + ": " + message + " ignored (lenient)");
      return true;
    }
    errors_.emplace_back(pointer, message);
    return false;
  }

  int depth_key(int depth) const { return layout_.depth_sensitive() ? depth : 0; }

  void drain() {
    while (!work_.empty()) {
      auto [rule, node, depth] = work_.front();
      work_.pop_front();
      std::optional<ExprId> body;
      body = inline_value(r_.flatten(node), depth, 0);
      g_.define_rule(rule, body ? *body : never());
    }
  }

  // ---- values ---------------------------------------------------------------------------------
  // A node that is nothing but one `$ref` (annotations aside) is its target: one rule for all such references.
  NodeId canonical(NodeId id) {
    for (int hops = 0; hops < 64 && id > kFalseNode; ++hops) {
      const Node& n = r_.arena().at(id);
      if (n.all_of.size() != 1) break;
      Node bare = n;
      bare.all_of.clear();
      bare.pointer.clear();
      if (!is_unconstrained(bare)) break;
      id = n.all_of[0];
    }
    return id;
  }

  static bool is_unconstrained(const Node& n) {
    const Node d;
    return n.types == d.types && !n.enum_values && n.all_of.empty() && n.any_of.empty() && n.nots.empty() &&
           n.not_strings.empty() && n.min_length == 0 &&
           n.max_length == kNoMax && n.patterns.empty() && n.formats.empty() && !n.minimum && !n.maximum &&
           n.multiple_of.empty() && n.properties.empty() && n.required.empty() && !n.additional &&
           n.pattern_properties.empty() && !n.property_names && n.min_properties == 0 && n.max_properties == kNoMax &&
           n.dependent_required.empty() && n.prefix_items.empty() && !n.items && !n.contains && n.min_items == 0 &&
           n.max_items == kNoMax;
  }

  std::optional<ExprId> value(NodeId id, int depth, int guard) {
    // Anything reached through $ref/allOf is a rule (that is what ends recursion), keyed by its target.
    // Negations are rules too: a negated recursive schema recurses through them.
    const bool via_ref = id > kFalseNode && (!r_.arena().at(id).all_of.empty() || !r_.arena().at(id).nots.empty());
    id = canonical(id);
    if (id == kFalseNode) return std::nullopt;
    if (id == kTrueNode) return any_value(depth);
    if (layout_.depth_sensitive() && depth > opt_.max_depth) return std::nullopt;  // pretty layout stops here
    if (via_ref) {
      const NodeId flat = r_.flatten(id);
      const Node& f = r_.arena().at(flat);
      if (f.types == 0 || (f.enum_values && f.enum_values->empty())) return std::nullopt;
      auto key = std::make_pair(id, depth_key(depth));
      if (auto it = rules_.find(key); it != rules_.end()) return g_.rule_ref(it->second);
      RuleId rule = g_.fresh_rule(rule_name_for(r_.arena().at(id).pointer));
      rules_[key] = rule;
      work_.push_back({rule, id, depth});
      return g_.rule_ref(rule);
    }
    return inline_value(id, depth, guard + 1);
  }

  std::optional<ExprId> inline_value(NodeId id, int depth, int guard) {
    if (id == kFalseNode) return std::nullopt;
    if (id == kTrueNode) return any_value(depth);
    // `guard` also counts anyOf distribution and merged nodes, so it gets twice the schema nesting limit.
    if (guard > 2 * opt_.max_depth) {
      throw LimitError("schema nesting exceeds max_depth (" + std::to_string(opt_.max_depth) + ")", r_.arena().at(id).pointer);
    }
    const Node& n = r_.arena().at(id);  // stable: the arena is a deque
    if (!n.any_of.empty()) return distribute(id, n, depth, guard);
    if (n.types == 0) return std::nullopt;
    if (n.enum_values) {
      // Each value against the node's other keywords (membership in its own enum is given: no O(n^2)).
      Node others = n;
      others.enum_values.reset();
      const bool plain = is_unconstrained(others) || (others.types != kAllTypes && [&] {
        Node t = others;
        t.types = kAllTypes;
        return is_unconstrained(t);
      }());
      const uint8_t types = n.types;
      const NodeId others_id = plain ? kTrueNode : r_.arena().add(std::move(others));
      std::vector<ExprId> alts;
      for (const Json& v : *r_.arena().at(id).enum_values) {
        if (plain ? !type_allows(types, v) : !r_.validate(v, others_id)) continue;
        if (auto e = const_value(v, depth, 0)) alts.push_back(*e);
      }
      if (alts.empty()) return std::nullopt;
      return g_.choice(alts);
    }
    if (!n.nots.empty()) return negated(id, n, depth, guard);
    std::vector<ExprId> alts;
    if (n.types & kNull) alts.push_back(g_.literal("null"));
    if (n.types & kBoolean) alts.push_back(g_.choice({g_.literal("true"), g_.literal("false")}));
    if (n.types & (kInteger | kFraction)) {
      if (auto e = number(n)) alts.push_back(*e);
    }
    if (n.types & kString) {
      if (auto e = string(n)) alts.push_back(*e);
    }
    if (n.types & kObject) {
      if (auto e = object(id, n, depth, guard)) alts.push_back(*e);
    }
    if (n.types & kArray) {
      if (auto e = array(n, depth, guard)) alts.push_back(*e);
    }
    if (alts.empty()) return std::nullopt;
    return g_.choice(alts);
  }

  bool pairwise_disjoint(const std::vector<NodeId>& nodes) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      for (size_t j = i + 1; j < nodes.size(); ++j) {
        if (!r_.provably_disjoint(nodes[i], nodes[j])) return false;
      }
    }
    return true;
  }

  // Branches (each already AND the rest of the node) with one property, declared by all of them with
  // pairwise disjoint schemas, made required in each; nullopt if there is no such property.
  std::optional<std::vector<NodeId>> require_discriminator(const std::vector<NodeId>& branches) {
    if (branches.size() < 2) return std::nullopt;
    std::vector<NodeId> flat;
    for (NodeId b : branches) flat.push_back(r_.flatten(b));
    for (const auto& [name, unused] : r_.arena().at(flat[0]).properties) {
      std::vector<NodeId> schemas;
      for (NodeId f : flat) {
        auto ks = r_.key_schema(r_.arena().at(f), name);
        if (!ks) break;
        schemas.push_back(*ks);
      }
      if (schemas.size() != flat.size() || !pairwise_disjoint(schemas)) continue;
      Node req;
      req.pointer = r_.arena().at(flat[0]).pointer;
      req.required = {name};
      const NodeId req_id = r_.arena().add(std::move(req));
      std::vector<NodeId> out;
      for (NodeId b : branches) out.push_back(r_.conjunction(b, req_id));
      if (pairwise_disjoint(out)) return out;
    }
    return std::nullopt;
  }

  static bool type_allows(uint8_t types, const Json& v) {
    switch (v.type()) {
      case Json::value_t::null: return types & kNull;
      case Json::value_t::boolean: return types & kBoolean;
      case Json::value_t::string: return types & kString;
      case Json::value_t::object: return types & kObject;
      case Json::value_t::array: return types & kArray;
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned: return types & kInteger;
      case Json::value_t::number_float: {
        const double d = v.get<double>();
        return (types & (std::isfinite(d) && d == std::floor(d) ? kInteger : kFraction)) != 0;
      }
      default: return false;
    }
  }

  // anyOf/oneOf: (the node without its groups) AND one branch of each group.
  std::optional<ExprId> distribute(NodeId id, const Node& n, int depth, int guard) {
    // One base node per distributed node, so the branch conjunctions below are memoised across visits
    // (a recursive schema reaches the same anyOf again through its rules).
    NodeId base_id;
    if (auto it = distribute_base_.find(id); it != distribute_base_.end()) {
      base_id = it->second;
    } else {
      Node base = n;
      base.any_of.clear();
      base.any_of_is_one_of.clear();
      base_id = r_.arena().add(std::move(base));
      distribute_base_[id] = base_id;
    }
    std::vector<std::vector<NodeId>> combos = {{}};
    for (size_t gi = 0; gi < n.any_of.size(); ++gi) {
      const auto& group = n.any_of[gi];
      if (n.any_of_is_one_of[gi]) {
        // Every pair of branches (each AND the rest of the node) must be provably disjoint.
        std::vector<NodeId> with_base;
        for (NodeId b : group) with_base.push_back(r_.conjunction(base_id, b));
        if (!pairwise_disjoint(with_base)) {
          // A discriminator that is merely optional (`"category": {"const": ...}` not required): making it
          // required in every branch keeps only documents that match exactly one branch (sound, smaller).
          if (auto strengthened = require_discriminator(with_base)) {
            for (size_t i = 0; i < group.size(); ++i) strengthened_[{id, group[i]}] = (*strengthened)[i];
            with_base = *strengthened;
          }
        }
        // Branches that may overlap are made disjoint exactly: branch i AND NOT branch j (the value
        // satisfies the rest of the node already, so `not` of the bare branch is enough).
        std::vector<std::vector<size_t>> overlaps(with_base.size());
        for (size_t i = 0; i < with_base.size(); ++i) {
          for (size_t j = i + 1; j < with_base.size(); ++j) {
            if (!r_.provably_disjoint(with_base[i], with_base[j])) {
              overlaps[i].push_back(j);
              overlaps[j].push_back(i);
            }
          }
        }
        for (size_t i = 0; i < with_base.size(); ++i) {
          if (overlaps[i].empty()) continue;
          NodeId b = with_base[i];
          for (size_t j : overlaps[i]) b = r_.conjunction(b, r_.not_node(group[j]));
          strengthened_[{id, group[i]}] = b;
        }
      }
      std::vector<std::vector<NodeId>> next;
      for (const auto& c : combos) {
        for (NodeId b : group) {
          auto x = c;
          auto st = strengthened_.find({id, b});
          x.push_back(st != strengthened_.end() ? st->second : b);
          next.push_back(std::move(x));
        }
      }
      if (next.size() > kMaxAnyOfCombinations) {
        return fail(n.pointer, "anyOf/oneOf groups multiply out to more than " + std::to_string(kMaxAnyOfCombinations) + " branches");
      }
      combos = std::move(next);
    }
    std::vector<ExprId> alts;
    for (const auto& c : combos) {
      NodeId conj = base_id;
      for (NodeId b : c) conj = r_.conjunction(conj, b);
      if (r_.provably_empty(conj)) continue;
      // Through value(): a branch that involves $ref becomes a memoised rule, so recursion terminates.
      if (auto e = value(conj, depth, guard + 1)) alts.push_back(*e);
    }
    (void)id;
    if (alts.empty()) return std::nullopt;
    return g_.choice(alts);
  }

  // `not`: the node without its first negation AND the negation pushed down one level (an anyOf of
  // positive alternatives, see Resolver::negation); further negations are expanded the same way
  // inside, so each step prunes what the others already exclude.
  std::optional<ExprId> negated(NodeId id, const Node& n, int depth, int guard) {
    NodeId expanded;
    if (auto it = negated_.find(id); it != negated_.end()) {
      expanded = it->second;
    } else {
      if (--negation_budget_ < 0) {
        if (!unsupported(n.pointer, "'not' (or a oneOf made disjoint) expands to too many alternatives")) return std::nullopt;
        Node rest = n;
        rest.nots.clear();
        return inline_value(r_.arena().add(std::move(rest)), depth, guard + 1);
      }
      Node rest = n;
      const NodeId first = rest.nots.front();
      rest.nots.erase(rest.nots.begin());
      const uint8_t types = n.types;
      const NodeId rest_id = r_.arena().add(std::move(rest));
      std::vector<Resolver::Dropped> dropped;
      const NodeId neg = r_.negation(first, types, dropped, rest_id, opt_.strict);
      for (const auto& d : dropped) {
        note_incomplete(d.pointer, "values failing '" + d.keyword + "' are not produced where it is negated ('not', " +
                                       "if/then/else, dependentSchemas or an overlapping oneOf)");
      }
      expanded = r_.conjunction(rest_id, neg);
      negated_[id] = expanded;
    }
    return value(expanded, depth, guard + 1);
  }

  // A sound but incomplete spot (some valid values are not produced): one warning per place, also
  // kept apart so that a schema of which nothing can be produced fails naming these spots.
  void note_incomplete(const std::string& pointer, const std::string& what) {
    const std::string w = (pointer.empty() ? std::string("#") : pointer) + ": " + what;
    if (std::find(warnings_.begin(), warnings_.end(), w) == warnings_.end()) {
      warnings_.push_back(w);
      incomplete_.emplace_back(pointer, what);
    }
  }

 public:
  const std::vector<std::pair<std::string, std::string>>& incomplete() const { return incomplete_; }

 private:

  // ---- the builtin any-JSON value ---------------------------------------------------------------
  ExprId any_value(int depth) {
    if (layout_.depth_sensitive() && depth > opt_.max_depth) return scalar_value();
    const int key = depth_key(depth);
    if (auto it = any_rules_.find(key); it != any_rules_.end()) return g_.rule_ref(it->second);
    RuleId rule = g_.fresh_rule(key == 0 ? "value" : "value-" + std::to_string(key));
    any_rules_[key] = rule;
    // Define now: the body only refers to rules (itself or the next depth).
    const ExprId inner = layout_.depth_sensitive() && depth + 1 > opt_.max_depth ? scalar_value() : any_value(depth + 1);
    const ExprId sep = layout_.separator(depth);
    const ExprId str = any_string();
    const ExprId member = g_.sequence({str, layout_.colon(), inner});
    const ExprId object = g_.choice({layout_.empty('{', '}'),
                                     g_.sequence({layout_.open('{', depth), member, g_.star(g_.sequence({sep, member})), layout_.close('}', depth)})});
    const ExprId array = g_.choice({layout_.empty('[', ']'),
                                    g_.sequence({layout_.open('[', depth), inner, g_.star(g_.sequence({sep, inner})), layout_.close(']', depth)})});
    g_.define_rule(rule, g_.choice({scalar_value(), object, array}));
    return g_.rule_ref(rule);
  }

  ExprId scalar_value() {
    if (scalar_ < 0) {
      scalar_ = g_.choice({g_.literal("null"), g_.literal("true"), g_.literal("false"), any_number(g_), any_string()});
    }
    return scalar_;
  }

  // A quoted string value, one rule per distinct body (the grammar is hash-consed,
  // so equal bodies are one expression): a counted string unrolls into a state
  // per character, so places that share a body (several `maxLength: 255` fields,
  // the same pattern twice) share that chain instead of copying it (the
  // automaton builder calls a big rule used more than once, inlines the rest).
  ExprId quoted(ExprId body) {
    auto [it, fresh] = quoted_strings_.try_emplace(body, -1);
    if (fresh) {
      const RuleId r = g_.fresh_rule("string");
      g_.define_rule(r, g_.sequence({g_.literal("\""), body, g_.literal("\"")}));
      it->second = g_.rule_ref(r);
    }
    return it->second;
  }

  ExprId any_string() {
    if (any_string_ < 0) {
      RuleId r = g_.fresh_rule("string");
      g_.define_rule(r, g_.sequence({g_.literal("\""), *string_body(g_, 0, kNoMax, opt_.allow_escapes, 0), g_.literal("\"")}));
      any_string_ = g_.rule_ref(r);
    }
    return any_string_;
  }

  // ---- const / enum values -------------------------------------------------------------------
  std::optional<ExprId> const_value(const Json& v, int depth, int guard) {
    if (guard > opt_.max_depth) throw LimitError("enum/const value nesting exceeds max_depth", "");
    switch (v.type()) {
      case Json::value_t::null: return g_.literal("null");
      case Json::value_t::boolean: return g_.literal(v.get<bool>() ? "true" : "false");
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned: return g_.literal(v.dump());
      case Json::value_t::number_float: {
        const double d = v.get<double>();
        if (!std::isfinite(d)) return std::nullopt;
        // 1.0 and 1 are the same number in JSON Schema: offer both spellings.
        const std::string text = decimal_from_double(d).to_string();
        if (text == v.dump()) return g_.literal(text);
        return g_.choice({g_.literal(text), g_.literal(v.dump())});
      }
      case Json::value_t::string: {
        auto s = canonical_json_string(v.get<std::string>());
        if (!s) return std::nullopt;
        if (!opt_.allow_escapes && s->find('\\') != std::string::npos) return std::nullopt;
        return g_.literal(*s);
      }
      case Json::value_t::array: {
        if (v.empty()) return layout_.empty('[', ']');
        std::vector<ExprId> parts = {layout_.open('[', depth)};
        for (size_t i = 0; i < v.size(); ++i) {
          if (i > 0) parts.push_back(layout_.separator(depth));
          auto e = const_value(v[i], depth + 1, guard + 1);
          if (!e) return std::nullopt;
          parts.push_back(*e);
        }
        parts.push_back(layout_.close(']', depth));
        return g_.sequence(parts);
      }
      case Json::value_t::object: {
        if (v.empty()) return layout_.empty('{', '}');
        std::vector<ExprId> parts = {layout_.open('{', depth)};
        bool first = true;
        for (auto it = v.begin(); it != v.end(); ++it) {
          if (!first) parts.push_back(layout_.separator(depth));
          first = false;
          auto key = canonical_json_string(it.key());
          auto e = const_value(it.value(), depth + 1, guard + 1);
          if (!key || !e) return std::nullopt;
          parts.push_back(g_.literal(*key));
          parts.push_back(layout_.colon());
          parts.push_back(*e);
        }
        parts.push_back(layout_.close('}', depth));
        return g_.sequence(parts);
      }
      default: return std::nullopt;
    }
  }

  // ---- numbers ---------------------------------------------------------------------------------
  std::optional<ExprId> number(const Node& n) {
    std::optional<Decimal> lo = n.minimum;
    std::optional<Decimal> hi = n.maximum;
    bool integers_only = !(n.types & kFraction);
    std::optional<Decimal> int_multiple;
    std::optional<int> frac_digits;  // multipleOf 10^-p on numbers: at most p fraction digits
    for (const Decimal& m : n.multiple_of) {
      if (m.is_integer()) {
        if (m.int_digits == "1") {
          integers_only = true;
          continue;
        }
        if (int_multiple && compare(*int_multiple, m) != 0) {
          // Several integer multipleOf (from allOf): their least common multiple, when it is small.
          if (int_multiple->int_digits.size() < 9 && m.int_digits.size() < 9) {
            const long long a = std::stoll(int_multiple->int_digits), b = std::stoll(m.int_digits);
            int_multiple = decimal_from_int(a / std::gcd(a, b) * b);
            integers_only = true;
            continue;
          }
          if (!unsupported(n.pointer + "/multipleOf", "several different integer multipleOf values")) return std::nullopt;
          continue;
        }
        int_multiple = m;
        integers_only = true;
      } else if (m.int_digits == "0" && m.frac_digits.back() == '1' &&
                 m.frac_digits.find_first_not_of('0') == m.frac_digits.size() - 1) {
        const int p = static_cast<int>(m.frac_digits.size());
        frac_digits = frac_digits ? std::min(*frac_digits, p) : p;
      } else if (!unsupported(n.pointer + "/multipleOf", "multipleOf " + m.to_string() + " (only integers and powers of ten are supported)")) {
        return std::nullopt;
      }
    }
    if (!(n.types & kInteger)) {
      // Non-integer numbers only (a negated `type: integer`): none under an integer multipleOf.
      if (integers_only) return std::nullopt;
      return fractions_only(n, lo, hi, frac_digits);
    }
    if (integers_only) {
      std::optional<Decimal> ilo, ihi;
      if (lo) ilo = (n.minimum_exclusive && lo->is_integer()) ? add_one(*lo) : ceil_integer(*lo);
      if (hi) ihi = (n.maximum_exclusive && hi->is_integer()) ? sub_one(*hi) : floor_integer(*hi);
      if (int_multiple) {
        bool unsup = false;
        auto e = integer_multiple(g_, *int_multiple, ilo, ihi, unsup);
        if (unsup) {
          if (!unsupported(n.pointer + "/multipleOf", "multipleOf " + int_multiple->to_string() + " with these bounds")) return std::nullopt;
          return integer_range(g_, ilo, ihi);
        }
        return e;
      }
      return integer_range(g_, ilo, ihi);
    }
    if (frac_digits) {
      if (lo || hi) {
        if (!unsupported(n.pointer + "/multipleOf", "fractional multipleOf together with minimum/maximum")) return std::nullopt;
        return number_range(g_, lo, n.minimum_exclusive, hi, n.maximum_exclusive);
      }
      return g_.sequence({any_integer(g_), g_.optional(g_.sequence({g_.literal("."), g_.repeat(g_.byte_class({{'0', '9'}}), 1, *frac_digits)}))});
    }
    return number_range(g_, lo, n.minimum_exclusive, hi, n.maximum_exclusive);
  }

  // Numbers with a non-zero fraction, m.f or -m.f: the whole part m ranges over the unit intervals
  // that lie entirely inside the bounds (exact for integer bounds; otherwise the partial intervals at
  // the ends are left out, with a warning). `frac_digits`: at most that many fraction digits.
  std::optional<ExprId> fractions_only(const Node& n, const std::optional<Decimal>& lo, const std::optional<Decimal>& hi,
                                       const std::optional<int>& frac_digits) {
    if ((lo && !lo->is_integer()) || (hi && !hi->is_integer())) {
      note_incomplete(n.pointer, "non-integer numbers next to a non-integer bound are not produced");
    }
    const ExprId digit = g_.byte_class({{'0', '9'}});
    const ExprId tail = g_.sequence({g_.literal("."),
                                     frac_digits ? g_.repeat(digit, 0, *frac_digits - 1) : g_.star(digit),
                                     g_.byte_class({{'1', '9'}})});
    const Decimal zero = decimal_from_int(0);
    auto part = [&](std::optional<Decimal> m_lo, std::optional<Decimal> m_hi) -> std::optional<ExprId> {
      if (!m_lo || compare(*m_lo, zero) < 0) m_lo = zero;
      if (m_hi && compare(*m_hi, *m_lo) < 0) return std::nullopt;
      auto whole = integer_range(g_, m_lo, m_hi);
      if (!whole) return std::nullopt;
      return g_.sequence({*whole, tail});
    };
    // Positive: m.f with m >= ceil(lo) and m + 1 <= floor(hi). Negative: -(m.f) with m >= ceil(-hi), m + 1 <= floor(-lo).
    std::vector<ExprId> alts;
    if (!hi || compare(*hi, zero) > 0) {
      if (auto e = part(lo ? std::optional<Decimal>(ceil_integer(*lo)) : std::nullopt,
                        hi ? std::optional<Decimal>(sub_one(floor_integer(*hi))) : std::nullopt)) {
        alts.push_back(*e);
      }
    }
    if (!lo || compare(*lo, zero) < 0) {
      if (auto e = part(hi ? std::optional<Decimal>(ceil_integer(hi->negated())) : std::nullopt,
                        lo ? std::optional<Decimal>(sub_one(floor_integer(lo->negated()))) : std::nullopt)) {
        alts.push_back(g_.sequence({g_.literal("-"), *e}));
      }
    }
    if (alts.empty()) return std::nullopt;
    return g_.choice(alts);
  }

  // ---- strings ---------------------------------------------------------------------------------
  std::optional<ExprId> string(const Node& n) {
    const bool has_lengths = n.min_length > 0 || n.max_length != kNoMax;
    if (n.max_length != kNoMax && n.max_length < n.min_length) return std::nullopt;
    std::optional<ExprId> body;
    if (!n.patterns.empty()) {
      if (n.patterns.size() > 1 && !unsupported(n.pointer + "/pattern", "several patterns on one string (from allOf)")) {
        return std::nullopt;
      }
      if (!n.formats.empty() && !unsupported(n.pointer + "/format", "format together with pattern")) return std::nullopt;
      if (has_lengths) {
        const LengthBoundedPattern bounded = length_bounded_pattern(g_, n.patterns.front(), n.min_length, n.max_length,
                                                                         opt_.portable_patterns);
        if (bounded.handled && !bounded.exact) {
          note_incomplete(n.pointer + "/pattern", "matches longer than the share of maxLength given to each part of "
                                                  "the pattern (or matching only inside a longer string) are not produced");
        }
        if (bounded.handled) {
          if (!bounded.body) return std::nullopt;  // no string of the pattern has an allowed length
          if (*bounded.body >= 0) body = *bounded.body;
        } else if (!unsupported(n.pointer + "/pattern", "pattern together with minLength/maxLength")) {
          return std::nullopt;
        }
      }
      if (body) {
        // built by length_bounded_pattern
      } else try {
        grammar::RegexOptions ro;
        ro.inside_json_string = true;
        ro.portable_classes = opt_.portable_patterns;
        body = g_.rule_ref(grammar::add_regex_rule(g_, n.patterns.front(), ro));
      } catch (const Error& e) {
        if (!unsupported(n.pointer + "/pattern", std::string("unsupported pattern: ") + e.message())) return std::nullopt;
      }
    } else if (!n.formats.empty()) {
      if (n.formats.size() > 1 && !unsupported(n.pointer + "/format", "several formats on one string (from allOf)")) return std::nullopt;
      body = format_body(g_, n.formats.front());
      if (!body && !unsupported(n.pointer + "/format", "unsupported format '" + n.formats.front() + "'")) return std::nullopt;
      auto [fmin, fmax] = format_length_range(n.formats.front());
      const bool fits = fmin >= n.min_length && (n.max_length == kNoMax || (fmax != kNoMax && fmax <= n.max_length));
      if (!fits && has_lengths) {
        if (!unsupported(n.pointer + "/format", "format '" + n.formats.front() + "' together with minLength/maxLength")) return std::nullopt;
        body.reset();
      }
    }
    if (!n.not_strings.empty()) {
      // Strings other than a few (a negated enum): canonical spellings only, so no escape spells one of them.
      if (body || has_lengths) {
        note_incomplete(n.pointer, "strings excluded by 'not' together with pattern, format or length bounds are not produced");
        return std::nullopt;
      }
      return quoted_string_excluding(g_, n.not_strings);
    }
    if (!body) body = string_body(g_, n.min_length, n.max_length, opt_.allow_escapes, 0);
    if (!body) return std::nullopt;
    return quoted(*body);
  }

  // ---- objects ---------------------------------------------------------------------------------
  struct PlannedMember {
    std::string name;
    NodeId schema;
    bool required;
  };

  std::optional<ExprId> object(NodeId id, const Node& n, int depth, int guard) {
    std::vector<PlannedMember> plan;
    auto is_required = [&](const std::string& name) {
      return std::find(n.required.begin(), n.required.end(), name) != n.required.end();
    };
    for (const auto& [name, sub] : n.properties) {
      plan.push_back({name, *r_.key_schema(n, name), is_required(name)});
    }
    // Required keys that `properties` does not declare still have to be there.
    for (const std::string& name : n.required) {
      if (std::any_of(plan.begin(), plan.end(), [&](const PlannedMember& m) { return m.name == name; })) continue;
      std::optional<NodeId> s = r_.key_schema(n, name);
      plan.push_back({name, s.value_or(kTrueNode), true});
    }
    // propertyNames applies to declared keys too.
    if (n.property_names) {
      for (auto& m : plan) {
        if (!r_.validate(Json(m.name), *n.property_names)) m.schema = kFalseNode;
      }
    }
    // dependentRequired: a key that must bring others along.
    std::vector<std::pair<size_t, std::vector<std::string>>> optional_deps;
    bool changed = true;
    while (changed) {
      changed = false;
      for (const auto& [key, deps] : n.dependent_required) {
        auto it = std::find_if(plan.begin(), plan.end(), [&](const PlannedMember& m) { return m.name == key; });
        if (it == plan.end() || !it->required) continue;
        for (const std::string& d : deps) {
          auto jt = std::find_if(plan.begin(), plan.end(), [&](const PlannedMember& m) { return m.name == d; });
          if (jt == plan.end()) {
            plan.push_back({d, r_.key_schema(n, d).value_or(kTrueNode), true});
            changed = true;
          } else if (!jt->required) {
            jt->required = true;
            changed = true;
          }
        }
      }
    }
    for (const auto& [key, deps] : n.dependent_required) {
      auto it = std::find_if(plan.begin(), plan.end(), [&](const PlannedMember& m) { return m.name == key; });
      if (it == plan.end() || it->required) continue;
      optional_deps.emplace_back(static_cast<size_t>(it - plan.begin()), deps);
    }
    if ((size_t{1} << std::min<size_t>(optional_deps.size(), 30)) > kMaxDependentVariants) {
      return fail(n.pointer + "/dependentRequired", "too many optional keys with dependencies (the variants multiply out)");
    }
    // Extra members: the key grammar and value grammar.
    const bool strict_closed = !n.additional && opt_.strict;
    std::optional<ExprId> extra;
    std::vector<std::string> declared;
    for (const auto& m : plan) declared.push_back(m.name);
    // Extra keys never spell a declared key, nor a key whose dependencies could not be honoured.
    std::vector<std::string> excluded = declared;
    for (const auto& [key, deps] : n.dependent_required) {
      if (std::find(declared.begin(), declared.end(), key) == declared.end()) excluded.push_back(key);
    }
    if (!n.pattern_properties.empty()) {
      if (n.pattern_properties.size() > 1) {
        if (!unsupported(n.pointer + "/patternProperties", "more than one patternProperties entry")) return std::nullopt;
      } else {
        const auto& [pattern, psub] = n.pattern_properties.front();
        for (const std::string& name : declared) {
          if (regex_search(pattern, name).value_or(true)) {
            return fail(n.pointer + "/patternProperties", "pattern '" + pattern + "' also matches the declared property '" + name + "'");
          }
        }
        const bool extra_open = n.additional ? *n.additional != kFalseNode : !opt_.strict;
        if (extra_open && !unsupported(n.pointer + "/patternProperties", "patternProperties together with additionalProperties")) {
          return std::nullopt;
        }
        if (n.property_names && !unsupported(n.pointer + "/propertyNames", "propertyNames together with patternProperties")) {
          return std::nullopt;
        }
        auto v = value(psub, depth + 1, guard);
        if (v) {
          try {
            // The regex front end gives `pattern` its search semantics (unanchored means anywhere).
            grammar::RegexOptions ro;
            ro.inside_json_string = true;
            ro.portable_classes = opt_.portable_patterns;
            ExprId key = g_.sequence({g_.literal("\""), g_.rule_ref(grammar::add_regex_rule(g_, pattern, ro)), g_.literal("\"")});
            extra = g_.sequence({key, layout_.colon(), *v});
          } catch (const Error& e) {
            if (!unsupported(n.pointer + "/patternProperties", std::string("unsupported pattern: ") + e.message())) {
              return std::nullopt;
            }
          }
        }
      }
    } else if (!strict_closed && !(n.additional && *n.additional == kFalseNode)) {
      const NodeId add = n.additional.value_or(kTrueNode);
      std::optional<ExprId> key;
      if (n.property_names) {
        const NodeId pn = r_.flatten(*n.property_names);
        const Node& pnode = r_.arena().at(pn);
        if (pnode.enum_values) {
          std::vector<ExprId> keys;
          for (const Json& k : *pnode.enum_values) {
            if (!k.is_string() || std::count(excluded.begin(), excluded.end(), k.get<std::string>())) continue;
            if (!r_.validate(k, pn)) continue;
            if (auto s = canonical_json_string(k.get<std::string>())) keys.push_back(g_.literal(*s));
          }
          if (!keys.empty()) key = g_.choice(keys);
        } else if (excluded.empty() && pnode.any_of.empty()) {
          Node as_string = pnode;
          as_string.types &= kString;
          if (as_string.types) key = string(as_string);
        } else if (!unsupported(n.pointer + "/propertyNames", "propertyNames together with declared properties")) {
          return std::nullopt;
        }
      } else {
        key = quoted_string_excluding(g_, excluded);
      }
      if (key) {
        if (auto v = value(add, depth + 1, guard)) extra = g_.sequence({*key, layout_.colon(), *v});
      }
    }
    // Member grammars.
    std::vector<std::optional<ExprId>> member_exprs;
    for (const auto& m : plan) {
      auto key = canonical_json_string(m.name);
      std::optional<ExprId> v = key ? value(m.schema, depth + 1, guard) : std::nullopt;
      if (v && !opt_.allow_escapes && key->find('\\') != std::string::npos) v.reset();
      member_exprs.push_back(v ? std::optional<ExprId>(g_.sequence({g_.literal(*key), layout_.colon(), *v})) : std::nullopt);
    }
    // One object grammar per choice of the optional keys that carry dependencies.
    std::vector<ExprId> alts;
    const size_t variants = size_t{1} << optional_deps.size();
    for (size_t mask = 0; mask < variants; ++mask) {
      std::vector<bool> required(plan.size()), excluded(plan.size());
      for (size_t i = 0; i < plan.size(); ++i) required[i] = plan[i].required;
      for (size_t d = 0; d < optional_deps.size(); ++d) {
        const size_t at = optional_deps[d].first;
        if (mask & (size_t{1} << d)) {
          required[at] = true;
          for (const std::string& dep : optional_deps[d].second) {
            for (size_t i = 0; i < plan.size(); ++i) {
              if (plan[i].name == dep) required[i] = true;
            }
            // A dependency that is not a declared key cannot be written (no extra members for it).
            if (std::none_of(plan.begin(), plan.end(), [&](const PlannedMember& m) { return m.name == dep; })) required[at] = false, excluded[at] = true;
          }
        } else {
          excluded[at] = true;
        }
      }
      std::vector<ObjectMember> members;
      bool impossible = false;
      for (size_t i = 0; i < plan.size(); ++i) {
        // A key this variant leaves out that another present key depends on (a -> b with b's own
        // dependencies off): not a variant at all.
        if (excluded[i] && required[i]) impossible = true;
        if (excluded[i]) continue;
        if (!member_exprs[i]) {
          if (required[i]) impossible = true;
          continue;
        }
        members.push_back({*member_exprs[i], static_cast<bool>(required[i])});
      }
      if (impossible) continue;
      if (auto e = object_grammar(g_, layout_, depth, members, extra, n.min_properties, n.max_properties, kMaxCountStates)) {
        alts.push_back(*e);
      }
    }
    (void)id;
    if (alts.empty()) return std::nullopt;
    return g_.choice(alts);
  }

  // ---- arrays ----------------------------------------------------------------------------------
  std::optional<ExprId> array(const Node& n, int depth, int guard) {
    std::vector<std::optional<ExprId>> prefix;
    for (NodeId p : n.prefix_items) prefix.push_back(value(p, depth + 1, guard));
    std::optional<ExprId> items;
    const NodeId item_schema = n.items.value_or(kTrueNode);
    items = value(item_schema, depth + 1, guard);
    int64_t min_items = n.min_items;
    if (n.contains && n.min_contains > 0) {
      if (n.max_contains != kNoMax && !unsupported(n.pointer + "/maxContains", "maxContains")) return std::nullopt;
      if (!prefix.empty()) {
        if (!unsupported(n.pointer + "/contains", "contains together with prefixItems")) return std::nullopt;
      } else {
        // The first minContains elements are the contained ones (sound; other orders are not produced).
        const NodeId both = r_.conjunction(*n.contains, item_schema);
        auto c = value(both, depth + 1, guard);
        for (int64_t i = 0; i < n.min_contains && i < 10000; ++i) prefix.push_back(c);
        if (n.min_contains >= 10000) return fail(n.pointer + "/minContains", "minContains is too large");
        min_items = std::max(min_items, n.min_contains);
      }
    } else if (n.contains && n.max_contains != kNoMax) {
      if (!unsupported(n.pointer + "/maxContains", "maxContains")) return std::nullopt;
    }
    return array_grammar(g_, layout_, depth, prefix, items, min_items, n.max_items);
  }

  Grammar& g_;
  Resolver& r_;
  const JsonOptions& opt_;
  std::vector<std::string>& warnings_;
  JsonLayout layout_;
  std::map<std::pair<NodeId, int>, RuleId> rules_;
  std::map<int, RuleId> any_rules_;
  std::map<NodeId, NodeId> distribute_base_;  // node with anyOf/oneOf -> the node without them
  std::map<NodeId, NodeId> negated_;          // node with `not` -> its expansion (see negated())
  int negation_budget_ = kMaxNegationExpansions;
  std::vector<std::pair<std::string, std::string>> incomplete_;  // (pointer, what): see note_incomplete()
  std::map<std::pair<NodeId, NodeId>, NodeId> strengthened_;  // (node, oneOf branch) -> branch with its discriminator required
  struct Work {
    RuleId rule;
    NodeId node;
    int depth;
  };
  std::deque<Work> work_;
  std::vector<std::pair<std::string, std::string>> errors_;
  RuleId never_rule_ = -1;
  std::unordered_map<ExprId, ExprId> quoted_strings_;  // string body -> its quoted rule (see quoted())
  ExprId scalar_ = -1;
  ExprId any_string_ = -1;
};

[[noreturn]] void throw_errors(const std::vector<std::pair<std::string, std::string>>& errors) {
  std::string msg = errors.front().second;
  if (errors.size() > 1) {
    msg += " (and " + std::to_string(errors.size() - 1) + " more:";
    for (size_t i = 1; i < errors.size() && i < 6; ++i) {
      msg += " " + (errors[i].first.empty() ? std::string("#") : errors[i].first) + ": " + errors[i].second + ";";
    }
    msg += ")";
  }
  throw SchemaError(msg, errors.front().first);
}

}  // namespace

SchemaGrammar build_json_schema_grammar(std::string_view schema_json, const JsonOptions& options) {
  Json doc = parse_json_text(schema_json);
  // An OpenAI tool definition compiles its parameters.
  if (doc.is_object() && doc.value("type", Json()) == "function" && doc.contains("function") && doc["function"].is_object()) {
    Json params = doc["function"].value("parameters", Json::object());
    doc = std::move(params);
  }
  ParsedSchema parsed = parse_schema(doc, options);
  SchemaGrammar out;
  out.warnings = std::move(parsed.warnings);
  Resolver resolver(parsed.arena, options, out.warnings);
  Grammar g;
  Emitter emitter(g, resolver, options, out.warnings);
  RuleId root = emitter.emit_root(parsed.root);
  g.set_root(root);
  if (!emitter.errors().empty()) throw_errors(emitter.errors());
  auto pruned = prune_grammar(g);
  if (!pruned) {
    // Nothing left: a contradiction in the schema, unless values were left out on purpose.
    const auto& inc = emitter.incomplete();
    if (inc.empty()) throw SchemaError("no JSON value satisfies this schema", "");
    std::vector<std::pair<std::string, std::string>> errors;
    for (const auto& [pointer, what] : inc) errors.emplace_back(pointer, "unsupported: no value can be produced: " + what);
    throw_errors(errors);
  }
  out.grammar = std::move(*pruned);
  return out;
}

SchemaGrammar build_any_json_grammar(const JsonOptions& options) {
  Arena arena;
  std::vector<std::string> warnings;
  Resolver resolver(arena, options, warnings);
  Grammar g;
  Emitter emitter(g, resolver, options, warnings);
  g.set_root(emitter.emit_any_root());
  SchemaGrammar out;
  out.grammar = std::move(*prune_grammar(g));
  return out;
}

}  // namespace stencil::schema
