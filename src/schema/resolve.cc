// Flattening, merging, validation and disjointness of schema nodes (see resolve.h).
//
// Merging follows the specification's meaning of allOf: every constraint of both
// sides holds. Object keywords are merged per key: a key's schema on each side is
// its `properties` entry, or true if a `patternProperties` entry matches (those stay
// in the merged node and are applied where the key is used), or that side's
// `additionalProperties`. Where that reading cannot be expressed by one node (two
// sides' patternProperties interacting with additionalProperties, two different
// `contains`), the merge is an error rather than a guess.
#include "schema/resolve.h"

#include <algorithm>
#include <regex>
#include <string_view>

#include "grammar/recognizer.h"
#include "schema/string_grammar.h"
#include "stencil/errors.h"

namespace stencil::schema {
namespace {

constexpr int kMaxDisjointDepth = 8;

template <typename T>
void append_unique(std::vector<T>& to, const std::vector<T>& from) {
  for (const T& v : from) {
    if (std::find(to.begin(), to.end(), v) == to.end()) to.push_back(v);
  }
}


std::optional<Decimal> json_decimal(const Json& v) {
  if (v.is_number_unsigned()) return decimal_from_uint(v.get<uint64_t>());
  if (v.is_number_integer()) return decimal_from_int(v.get<int64_t>());
  if (v.is_number_float() && std::isfinite(v.get<double>())) return decimal_from_double(v.get<double>());
  return std::nullopt;
}

uint8_t type_of(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return kNull;
    case Json::value_t::boolean: return kBoolean;
    case Json::value_t::string: return kString;
    case Json::value_t::object: return kObject;
    case Json::value_t::array: return kArray;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return kInteger;
    case Json::value_t::number_float: {
      auto d = json_decimal(v);
      return d && d->is_integer() ? kInteger : kFraction;
    }
    default: return 0;
  }
}

int64_t code_points(const std::string& s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Is value a multiple of k? nullopt when the numbers are too large to check here.
std::optional<bool> is_multiple(const Decimal& value, const Decimal& k) {
  const size_t scale = std::max(value.frac_digits.size(), k.frac_digits.size());
  std::string v = value.int_digits + value.frac_digits + std::string(scale - value.frac_digits.size(), '0');
  std::string m = k.int_digits + k.frac_digits + std::string(scale - k.frac_digits.size(), '0');
  m.erase(0, std::min(m.find_first_not_of('0'), m.size() - 1));
  if (m.size() > 18) return std::nullopt;
  const uint64_t mod = std::stoull(m);
  uint64_t r = 0;
  for (char c : v) r = (r * 10 + static_cast<uint64_t>(c - '0')) % mod;
  return r == 0;
}

bool format_ok(const std::string& format, const std::string& text) {
  grammar::Grammar g;
  auto body = format_body(g, format);
  if (!body) return true;
  grammar::RuleId root = g.declare_rule("root");
  g.define_rule(root, *body);
  g.set_root(root);
  return grammar::recognizes(g, text);
}

}  // namespace

std::optional<bool> regex_search(const std::string& pattern, const std::string& text) {
  try {
    std::regex re(pattern, std::regex::ECMAScript);
    return std::regex_search(text, re);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

NodeId Resolver::conjunction(NodeId a, NodeId b) {
  if (a == kTrueNode) return b;
  if (b == kTrueNode || a == b) return a;
  if (a == kFalseNode || b == kFalseNode) return kFalseNode;
  auto key = std::minmax(a, b);
  if (auto it = conj_.find(key); it != conj_.end()) return it->second;
  Node n;
  n.pointer = arena_.at(a).pointer;
  n.all_of = {a, b};
  NodeId id = arena_.add(std::move(n));
  conj_[key] = id;
  return id;
}

NodeId Resolver::flatten(NodeId id) {
  if (id == kTrueNode || id == kFalseNode) return id;
  if (auto it = flat_.find(id); it != flat_.end()) return it->second;
  if (arena_.at(id).all_of.empty()) {
    flat_[id] = id;
    return id;
  }
  const std::string pointer = arena_.at(id).pointer;
  if (in_progress_[id]) {
    throw SchemaError("$ref/allOf cycle that never reaches a constraint (no base case)", pointer);
  }
  if (depth_ >= options_.max_depth) {
    throw LimitError("$ref/allOf nesting exceeds max_depth (" + std::to_string(options_.max_depth) + ")", pointer);
  }
  in_progress_[id] = true;
  ++depth_;
  Node r = arena_.at(id);
  std::vector<NodeId> parts = r.all_of;
  r.all_of.clear();
  try {
    for (NodeId m : parts) {
      NodeId f = flatten(m);
      merge_into(r, arena_.at(f), pointer);
    }
  } catch (...) {
    --depth_;
    in_progress_[id] = false;
    throw;
  }
  --depth_;
  in_progress_[id] = false;
  NodeId out = arena_.add(std::move(r));
  flat_[id] = out;
  flat_[out] = out;
  return out;
}

std::optional<NodeId> Resolver::key_schema(const Node& n, const std::string& key, bool* matched_pattern) {
  std::optional<NodeId> result;
  bool matched = false;
  for (const auto& [name, sub] : n.properties) {
    if (name == key) {
      result = sub;
      matched = true;
    }
  }
  for (const auto& [pattern, sub] : n.pattern_properties) {
    auto m = regex_search(pattern, key);
    if (m.value_or(false)) {
      result = result ? conjunction(*result, sub) : sub;
      matched = true;
      if (matched_pattern) *matched_pattern = true;
    }
  }
  if (matched) return result;
  return n.additional;
}

void Resolver::merge_into(Node& r, const Node& b, const std::string& pointer) {
  r.types &= b.types;
  if (b.enum_values) {
    if (r.enum_values) {
      std::vector<Json> both;
      for (const Json& v : *r.enum_values) {
        if (std::find(b.enum_values->begin(), b.enum_values->end(), v) != b.enum_values->end()) both.push_back(v);
      }
      r.enum_values = std::move(both);
    } else {
      r.enum_values = b.enum_values;
    }
  }
  r.any_of.insert(r.any_of.end(), b.any_of.begin(), b.any_of.end());
  r.any_of_is_one_of.insert(r.any_of_is_one_of.end(), b.any_of_is_one_of.begin(), b.any_of_is_one_of.end());
  append_unique(r.nots, b.nots);
  append_unique(r.not_strings, b.not_strings);
  // strings
  r.min_length = std::max(r.min_length, b.min_length);
  if (b.max_length != kNoMax) r.max_length = r.max_length == kNoMax ? b.max_length : std::min(r.max_length, b.max_length);
  append_unique(r.patterns, b.patterns);
  append_unique(r.formats, b.formats);
  // numbers
  if (b.minimum) {
    int c = r.minimum ? compare(*b.minimum, *r.minimum) : 1;
    if (c > 0) r.minimum = b.minimum, r.minimum_exclusive = b.minimum_exclusive;
    else if (c == 0) r.minimum_exclusive = r.minimum_exclusive || b.minimum_exclusive;
  }
  if (b.maximum) {
    int c = r.maximum ? compare(*b.maximum, *r.maximum) : -1;
    if (c < 0) r.maximum = b.maximum, r.maximum_exclusive = b.maximum_exclusive;
    else if (c == 0) r.maximum_exclusive = r.maximum_exclusive || b.maximum_exclusive;
  }
  for (const Decimal& m : b.multiple_of) {
    if (std::find_if(r.multiple_of.begin(), r.multiple_of.end(), [&](const Decimal& x) { return compare(x, m) == 0; }) ==
        r.multiple_of.end()) {
      r.multiple_of.push_back(m);
    }
  }
  // objects
  auto open_additional = [](const Node& n) { return !n.additional || *n.additional == kTrueNode; };
  if ((!r.pattern_properties.empty() && !open_additional(b)) || (!b.pattern_properties.empty() && !open_additional(r))) {
    throw SchemaError("allOf: cannot merge patternProperties with the other branch's additionalProperties exactly", pointer);
  }
  auto side_value = [&](const Node& n, const std::string& key) -> NodeId {
    for (const auto& [name, sub] : n.properties) {
      if (name == key) return sub;
    }
    for (const auto& [pattern, sub] : n.pattern_properties) {
      if (regex_search(pattern, key).value_or(false)) return kTrueNode;  // applied where the key is used
    }
    return n.additional.value_or(kTrueNode);
  };
  if (!b.properties.empty() || !r.properties.empty()) {
    std::vector<std::pair<std::string, NodeId>> props;
    for (const auto& [name, sub] : r.properties) props.emplace_back(name, conjunction(sub, side_value(b, name)));
    for (const auto& [name, sub] : b.properties) {
      bool seen = std::any_of(r.properties.begin(), r.properties.end(), [&](const auto& p) { return p.first == name; });
      if (!seen) props.emplace_back(name, conjunction(side_value(r, name), sub));
    }
    r.properties = std::move(props);
  }
  if (b.additional) r.additional = r.additional ? conjunction(*r.additional, *b.additional) : *b.additional;
  r.pattern_properties.insert(r.pattern_properties.end(), b.pattern_properties.begin(), b.pattern_properties.end());
  append_unique(r.required, b.required);
  if (b.property_names) r.property_names = r.property_names ? conjunction(*r.property_names, *b.property_names) : *b.property_names;
  r.min_properties = std::max(r.min_properties, b.min_properties);
  if (b.max_properties != kNoMax) {
    r.max_properties = r.max_properties == kNoMax ? b.max_properties : std::min(r.max_properties, b.max_properties);
  }
  r.dependent_required.insert(r.dependent_required.end(), b.dependent_required.begin(), b.dependent_required.end());
  // arrays
  if (!b.prefix_items.empty() || !r.prefix_items.empty()) {
    const size_t n = std::max(r.prefix_items.size(), b.prefix_items.size());
    std::vector<NodeId> prefix;
    for (size_t i = 0; i < n; ++i) {
      NodeId x = i < r.prefix_items.size() ? r.prefix_items[i] : r.items.value_or(kTrueNode);
      NodeId y = i < b.prefix_items.size() ? b.prefix_items[i] : b.items.value_or(kTrueNode);
      prefix.push_back(conjunction(x, y));
    }
    r.prefix_items = std::move(prefix);
  }
  if (b.items) r.items = r.items ? conjunction(*r.items, *b.items) : *b.items;
  if (b.contains) {
    if (r.contains && *r.contains != *b.contains) {
      throw SchemaError("allOf: two different 'contains' cannot be merged exactly", pointer);
    }
    r.contains = b.contains;
    r.min_contains = b.min_contains;
    r.max_contains = b.max_contains;
  }
  r.min_items = std::max(r.min_items, b.min_items);
  if (b.max_items != kNoMax) r.max_items = r.max_items == kNoMax ? b.max_items : std::min(r.max_items, b.max_items);
}

bool Resolver::validate(const Json& value, NodeId id) { return validate_at(value, id, 0) == Truth::kYes; }

bool Resolver::refutes(const Json& value, NodeId id) { return validate_at(value, id, 0) == Truth::kNo; }

namespace {

// std::regex runs on bytes, JSON Schema's regexes on code points: where the two can differ (a
// non-ASCII pattern, or non-ASCII text under `.`, a negated class or a class escape) the answer is a doubt.
bool regex_bytes_may_differ(const std::string& pattern, const std::string& text) {
  auto non_ascii = [](const std::string& x) { return std::any_of(x.begin(), x.end(), [](char c) { return (c & 0x80) != 0; }); };
  if (non_ascii(pattern)) return true;
  if (!non_ascii(text)) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '.' || (c == '[' && i + 1 < pattern.size() && pattern[i + 1] == '^')) return true;
    if (c == '\\' && i + 1 < pattern.size()) {
      if (std::string_view("sSwWdDbBpPu").find(pattern[i + 1]) != std::string_view::npos) return true;
      ++i;
    }
  }
  return false;
}

}  // namespace

// Three-valued: kMaybe where this validator cannot decide (a regex std::regex cannot run or may run
// differently, a multipleOf too large, a format our grammar does not produce, the depth limit).
// A conjunction is kNo as soon as one part is kNo, kYes only when every part is kYes.
Resolver::Truth Resolver::validate_at(const Json& value, NodeId id, int depth) {
  if (id == kTrueNode) return Truth::kYes;
  if (id == kFalseNode) return Truth::kNo;
  if (depth > options_.max_depth) return Truth::kMaybe;
  const NodeId f = flatten(id);
  const Node& n = arena_.at(f);  // stable: the arena is a deque
  const uint8_t t = type_of(value);
  if ((n.types & t) == 0) return Truth::kNo;
  if (n.enum_values && std::find(n.enum_values->begin(), n.enum_values->end(), value) == n.enum_values->end()) {
    return Truth::kNo;
  }
  bool maybe = false;
  // Folds one part in; true when the whole answer is already kNo.
  auto part = [&](Truth x) {
    if (x == Truth::kMaybe) maybe = true;
    return x == Truth::kNo;
  };
  auto opt = [](std::optional<bool> b) { return !b ? Truth::kMaybe : *b ? Truth::kYes : Truth::kNo; };
  for (NodeId x : n.nots) {
    const Truth r = validate_at(value, x, depth + 1);
    if (part(r == Truth::kYes ? Truth::kNo : r == Truth::kNo ? Truth::kYes : Truth::kMaybe)) return Truth::kNo;
  }
  for (size_t gi = 0; gi < n.any_of.size(); ++gi) {
    int yes = 0, unsure = 0;
    for (NodeId alt : n.any_of[gi]) {
      const Truth r = validate_at(value, alt, depth + 1);
      yes += r == Truth::kYes ? 1 : 0;
      unsure += r == Truth::kMaybe ? 1 : 0;
    }
    Truth g;
    if (n.any_of_is_one_of[gi]) {
      g = yes > 1 || yes + unsure == 0 ? Truth::kNo : (yes == 1 && unsure == 0 ? Truth::kYes : Truth::kMaybe);
    } else {
      g = yes > 0 ? Truth::kYes : (unsure == 0 ? Truth::kNo : Truth::kMaybe);
    }
    if (part(g)) return Truth::kNo;
  }
  if (t == kString) {
    const std::string s = value.get<std::string>();
    const int64_t len = code_points(s);
    if (len < n.min_length || (n.max_length != kNoMax && len > n.max_length)) return Truth::kNo;
    if (std::find(n.not_strings.begin(), n.not_strings.end(), s) != n.not_strings.end()) return Truth::kNo;
    for (const std::string& p : n.patterns) {
      if (part(regex_bytes_may_differ(p, s) ? Truth::kMaybe : opt(regex_search(p, s)))) return Truth::kNo;
    }
    for (const std::string& fmt : n.formats) {
      // Our format grammars may be stricter than the format: a text they reject is only a doubt.
      if (!format_ok(fmt, s)) maybe = true;
    }
  } else if (t == kInteger || t == kFraction) {
    const Decimal d = *json_decimal(value);
    if (n.minimum) {
      int c = compare(d, *n.minimum);
      if (c < 0 || (c == 0 && n.minimum_exclusive)) return Truth::kNo;
    }
    if (n.maximum) {
      int c = compare(d, *n.maximum);
      if (c > 0 || (c == 0 && n.maximum_exclusive)) return Truth::kNo;
    }
    for (const Decimal& m : n.multiple_of) {
      if (part(opt(is_multiple(d, m)))) return Truth::kNo;
    }
  } else if (t == kObject) {
    const auto size = static_cast<int64_t>(value.size());
    if (size < n.min_properties || (n.max_properties != kNoMax && size > n.max_properties)) return Truth::kNo;
    for (const std::string& r : n.required) {
      if (!value.contains(r)) return Truth::kNo;
    }
    for (const auto& [key, names] : n.dependent_required) {
      if (!value.contains(key)) continue;
      for (const std::string& r : names) {
        if (!value.contains(r)) return Truth::kNo;
      }
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (n.property_names && part(validate_at(Json(it.key()), *n.property_names, depth + 1))) return Truth::kNo;
      bool matched = false, matched_unsure = false;
      for (const auto& [name, sub] : n.properties) {
        if (name == it.key()) {
          matched = true;
          if (part(validate_at(it.value(), sub, depth + 1))) return Truth::kNo;
        }
      }
      for (const auto& [pattern, sub] : n.pattern_properties) {
        const Truth m = regex_bytes_may_differ(pattern, it.key()) ? Truth::kMaybe : opt(regex_search(pattern, it.key()));
        if (m == Truth::kNo) continue;
        const Truth r = validate_at(it.value(), sub, depth + 1);
        if (m == Truth::kYes) {
          matched = true;
          if (part(r)) return Truth::kNo;
        } else {
          matched_unsure = true;
          if (r != Truth::kYes) maybe = true;
        }
      }
      if (!matched && n.additional) {
        const Truth r = validate_at(it.value(), *n.additional, depth + 1);
        if (matched_unsure) {
          if (r != Truth::kYes) maybe = true;
        } else if (part(r)) {
          return Truth::kNo;
        }
      }
    }
  } else if (t == kArray) {
    const auto size = static_cast<int64_t>(value.size());
    if (size < n.min_items || (n.max_items != kNoMax && size > n.max_items)) return Truth::kNo;
    int64_t contained = 0, unsure = 0;
    for (size_t i = 0; i < value.size(); ++i) {
      NodeId sub = i < n.prefix_items.size() ? n.prefix_items[i] : n.items.value_or(kTrueNode);
      if (part(validate_at(value[i], sub, depth + 1))) return Truth::kNo;
      if (n.contains) {
        const Truth c = validate_at(value[i], *n.contains, depth + 1);
        contained += c == Truth::kYes ? 1 : 0;
        unsure += c == Truth::kMaybe ? 1 : 0;
      }
    }
    if (n.contains) {
      if (contained + unsure < n.min_contains || (n.max_contains != kNoMax && contained > n.max_contains)) return Truth::kNo;
      if (unsure > 0 && (contained < n.min_contains || (n.max_contains != kNoMax && contained + unsure > n.max_contains))) {
        maybe = true;
      }
    }
  }
  return maybe ? Truth::kMaybe : Truth::kYes;
}

bool Resolver::provably_empty(NodeId id, int depth) {
  if (id == kFalseNode) return true;
  if (id == kTrueNode || depth > 2) return false;
  NodeId f;
  try {
    f = flatten(id);
  } catch (const Error&) {
    return false;  // reported where the node is emitted
  }
  const Node& n = arena_.at(f);
  if (n.types == 0) return true;
  if (n.enum_values) {
    if (n.enum_values->size() > 64) return n.enum_values->empty();
    return std::all_of(n.enum_values->begin(), n.enum_values->end(), [&](const Json& v) { return refutes(v, f); });
  }
  uint8_t possible = n.types;
  if (n.max_length != kNoMax && n.max_length < n.min_length) possible &= ~kString;
  if (n.max_items != kNoMax && n.max_items < n.min_items) possible &= ~kArray;
  if (n.max_properties != kNoMax && n.max_properties < n.min_properties) possible &= ~kObject;
  if (n.minimum && n.maximum) {
    const int c = compare(*n.minimum, *n.maximum);
    if (c > 0 || (c == 0 && (n.minimum_exclusive || n.maximum_exclusive))) possible &= ~(kInteger | kFraction);
  }
  if (possible & kObject) {
    for (const std::string& k : n.required) {
      std::optional<NodeId> ks = key_schema(n, k);
      if (ks && provably_empty(*ks, depth + 1)) {
        possible &= ~kObject;
        break;
      }
    }
  }
  if (possible & kArray) {
    for (size_t i = 0; i < n.prefix_items.size() && static_cast<int64_t>(i) < n.min_items; ++i) {
      if (provably_empty(n.prefix_items[i], depth + 1)) {
        possible &= ~kArray;
        break;
      }
    }
  }
  if (possible == 0) return true;
  // An anyOf/oneOf group none of whose branches allows the remaining types.
  for (const auto& group : n.any_of) {
    if (group.size() > 16) continue;
    bool all_empty = true;
    for (NodeId b : group) {
      if (b == kFalseNode) continue;
      try {
        if ((arena_.at(flatten(b)).types & possible) != 0) {
          all_empty = false;
          break;
        }
      } catch (const Error&) {
        all_empty = false;
        break;
      }
    }
    if (all_empty) return true;
  }
  return false;
}

NodeId Resolver::not_node(NodeId s) {
  if (s == kTrueNode) return kFalseNode;
  if (s == kFalseNode) return kTrueNode;
  if (auto it = not_.find(s); it != not_.end()) return it->second;
  Node n;
  n.pointer = arena_.at(s).pointer;
  n.nots = {s};
  const NodeId id = arena_.add(std::move(n));
  not_[s] = id;
  return id;
}

// Negation pushed one level down: not(c1 and c2 and ...) = not c1 or not c2 or ..., each keyword's
// complement restricted to the types the keyword applies to. Sub-schemas are negated lazily
// (not_node), so recursive schemas cost nothing here.
NodeId Resolver::negation(NodeId s, uint8_t types, std::vector<Dropped>& dropped, NodeId context, bool strict) {
  if (types == 0 || s == kTrueNode) return kFalseNode;
  auto typed_node = [&](uint8_t t) {
    Node x;
    x.types = t;
    x.pointer = s == kFalseNode ? std::string() : arena_.at(s).pointer;
    return x;
  };
  if (s == kFalseNode) return types == kAllTypes ? kTrueNode : arena_.add(typed_node(types));
  const auto key = std::make_tuple(s, types, context, strict);
  if (auto it = negation_.find(key); it != negation_.end()) {
    dropped.insert(dropped.end(), it->second.dropped.begin(), it->second.dropped.end());
    return it->second.node;
  }
  const size_t dropped_before = dropped.size();
  const Node& a = arena_.at(flatten(s));  // stable: the arena is a deque
  const Node& c = arena_.at(flatten(context));
  const std::string& ptr = a.pointer;
  auto same = [&](NodeId x, NodeId y) { return x == y || flatten(x) == flatten(y); };
  auto c_has = [&](const auto& list, const auto& v) { return std::find(list.begin(), list.end(), v) != list.end(); };
  // The context's schema for a key, when the context says for sure (declared, or additionalProperties given).
  auto c_key = [&](const std::string& k) -> std::optional<NodeId> {
    for (const auto& [name, sub] : c.properties) {
      if (name == k) return c.pattern_properties.empty() ? std::optional<NodeId>(sub) : std::nullopt;
    }
    if (!c.pattern_properties.empty()) return std::nullopt;
    if (c.additional) return *c.additional;
    if (strict && !c_has(c.required, k)) return kFalseNode;  // never written
    return std::nullopt;
  };
  std::vector<NodeId> alts;
  auto add = [&](Node x) { alts.push_back(arena_.add(std::move(x))); };
  auto drop = [&](const char* keyword) { dropped.push_back({ptr, keyword}); };
  auto typed = [&](uint8_t t) {
    Node x = typed_node(t);
    x.pointer = ptr;
    return x;
  };
  constexpr uint8_t kNumber = kInteger | kFraction;
  if (types & ~a.types) add(typed(types & ~a.types));
  const uint8_t u = types & a.types;  // where a's keywords decide
  if (u != 0) {
    const bool c_enum_inside = a.enum_values && c.enum_values && std::all_of(c.enum_values->begin(), c.enum_values->end(), [&](const Json& v) {
      return c_has(*a.enum_values, v);
    });
    if (a.enum_values && !c_enum_inside) {
      const auto& values = *a.enum_values;
      auto has = [&](const Json& v) { return std::find(values.begin(), values.end(), v) != values.end(); };
      if ((u & kNull) && !has(Json(nullptr))) add(typed(kNull));
      if (u & kBoolean) {
        Node x = typed(kBoolean);
        x.enum_values.emplace();
        for (bool b : {false, true}) {
          if (!has(Json(b))) x.enum_values->push_back(Json(b));
        }
        if (!x.enum_values->empty()) add(std::move(x));
      }
      if (u & kNumber) {
        // The numbers between the excluded ones: open intervals.
        std::vector<Decimal> nums;
        for (const Json& v : values) {
          if (v.is_number_unsigned()) nums.push_back(decimal_from_uint(v.get<uint64_t>()));
          else if (v.is_number_integer()) nums.push_back(decimal_from_int(v.get<int64_t>()));
          else if (v.is_number_float() && std::isfinite(v.get<double>())) nums.push_back(decimal_from_double(v.get<double>()));
        }
        std::sort(nums.begin(), nums.end(), [](const Decimal& x, const Decimal& y) { return compare(x, y) < 0; });
        nums.erase(std::unique(nums.begin(), nums.end(), [](const Decimal& x, const Decimal& y) { return compare(x, y) == 0; }),
                   nums.end());
        for (size_t i = 0; i <= nums.size(); ++i) {
          Node x = typed(u & kNumber);
          if (i > 0) x.minimum = nums[i - 1], x.minimum_exclusive = true;
          if (i < nums.size()) x.maximum = nums[i], x.maximum_exclusive = true;
          add(std::move(x));
        }
      }
      if (u & kString) {
        Node x = typed(kString);
        for (const Json& v : values) {
          if (v.is_string()) x.not_strings.push_back(v.get<std::string>());
        }
        add(std::move(x));
      }
      for (uint8_t t : {uint8_t{kObject}, uint8_t{kArray}}) {
        if (!(u & t)) continue;
        const bool excluded_some = std::any_of(values.begin(), values.end(), [&](const Json& v) {
          return t == kObject ? v.is_object() : v.is_array();
        });
        if (excluded_some) drop(t == kObject ? "enum (objects)" : "enum (arrays)");
        else add(typed(t));
      }
    }
    if (u & kString) {
      if (a.min_length > c.min_length) {
        Node x = typed(kString);
        x.max_length = a.min_length - 1;
        add(std::move(x));
      }
      if (a.max_length != kNoMax && !(c.max_length != kNoMax && c.max_length <= a.max_length)) {
        Node x = typed(kString);
        x.min_length = a.max_length + 1;
        add(std::move(x));
      }
      if (!a.not_strings.empty()) {
        Node x = typed(kString);
        x.enum_values.emplace();
        for (const std::string& t : a.not_strings) x.enum_values->push_back(Json(t));
        add(std::move(x));
      }
      for (const std::string& p : a.patterns) {
        if (!c_has(c.patterns, p)) {
          drop("pattern");
          break;
        }
      }
      for (const std::string& f : a.formats) {
        if (!c_has(c.formats, f)) {
          drop("format");
          break;
        }
      }
    }
    if (u & kNumber) {
      auto implied_min = [&] {
        if (!c.minimum) return false;
        const int k = compare(*c.minimum, *a.minimum);
        return k > 0 || (k == 0 && (c.minimum_exclusive || !a.minimum_exclusive));
      };
      auto implied_max = [&] {
        if (!c.maximum) return false;
        const int k = compare(*c.maximum, *a.maximum);
        return k < 0 || (k == 0 && (c.maximum_exclusive || !a.maximum_exclusive));
      };
      if (a.minimum && !implied_min()) {
        Node x = typed(u & kNumber);
        x.maximum = a.minimum;
        x.maximum_exclusive = !a.minimum_exclusive;
        add(std::move(x));
      }
      if (a.maximum && !implied_max()) {
        Node x = typed(u & kNumber);
        x.minimum = a.maximum;
        x.minimum_exclusive = !a.maximum_exclusive;
        add(std::move(x));
      }
      bool fractions_fail = false, integers_dropped = false;
      for (const Decimal& m : a.multiple_of) {
        if (std::any_of(c.multiple_of.begin(), c.multiple_of.end(), [&](const Decimal& x) { return compare(x, m) == 0; })) continue;
        if (m.is_integer()) {
          fractions_fail = true;  // no fraction is a multiple of an integer
          if (m.int_digits != "1") integers_dropped = true;
        } else {
          integers_dropped = true;
        }
      }
      if (fractions_fail && (u & kFraction)) add(typed(kFraction));
      if (integers_dropped) drop("multipleOf");
    }
    if (u & kObject) {
      for (const std::string& k : a.required) {
        if (c_has(c.required, k)) continue;
        Node x = typed(kObject);
        x.properties = {{k, kFalseNode}};
        add(std::move(x));
      }
      for (const auto& [name, sub] : a.properties) {
        if (sub == kTrueNode) continue;
        if (auto ck = c_key(name); ck && (*ck == kFalseNode || same(*ck, sub))) continue;
        Node x = typed(kObject);
        x.required = {name};
        x.properties = {{name, not_node(sub)}};
        add(std::move(x));
      }
      // The context implies a's additionalProperties when its extra keys get the same schema and each
      // key it declares is declared by a too, or gets that schema.
      auto implies_additional = [&] {
        if (!c.additional || !same(*c.additional, *a.additional) || !c.pattern_properties.empty()) return false;
        return std::all_of(c.properties.begin(), c.properties.end(), [&](const auto& p) {
          return same(p.second, *a.additional) || p.second == kFalseNode ||
                 std::any_of(a.properties.begin(), a.properties.end(), [&](const auto& q) { return q.first == p.first; });
        });
      };
      if (a.additional && *a.additional != kTrueNode && !implies_additional()) {
        drop("additionalProperties");
      }
      if (!a.pattern_properties.empty() && a.pattern_properties != c.pattern_properties) drop("patternProperties");
      if (a.property_names && *a.property_names != kTrueNode && !(c.property_names && same(*c.property_names, *a.property_names))) {
        drop("propertyNames");
      }
      if (a.min_properties > c.min_properties) {
        Node x = typed(kObject);
        x.max_properties = a.min_properties - 1;
        add(std::move(x));
      }
      if (a.max_properties != kNoMax && !(c.max_properties != kNoMax && c.max_properties <= a.max_properties)) {
        Node x = typed(kObject);
        x.min_properties = a.max_properties + 1;
        add(std::move(x));
      }
      for (const auto& [k, deps] : a.dependent_required) {
        if (c_has(c.dependent_required, std::make_pair(k, deps))) continue;
        for (const std::string& d : deps) {
          Node x = typed(kObject);
          x.required = {k};
          x.properties = {{d, kFalseNode}};
          add(std::move(x));
        }
      }
    }
    if (u & kArray) {
      if (a.min_items > c.min_items) {
        Node x = typed(kArray);
        x.max_items = a.min_items - 1;
        add(std::move(x));
      }
      if (a.max_items != kNoMax && !(c.max_items != kNoMax && c.max_items <= a.max_items)) {
        Node x = typed(kArray);
        x.min_items = a.max_items + 1;
        add(std::move(x));
      }
      for (size_t i = 0; i < a.prefix_items.size(); ++i) {
        if (a.prefix_items[i] == kTrueNode) continue;
        if (i < c.prefix_items.size() && same(c.prefix_items[i], a.prefix_items[i])) continue;
        Node x = typed(kArray);
        x.min_items = static_cast<int64_t>(i) + 1;
        x.prefix_items.assign(i, kTrueNode);
        x.prefix_items.push_back(not_node(a.prefix_items[i]));
        add(std::move(x));
      }
      if (a.items && *a.items != kTrueNode && !(c.items && same(*c.items, *a.items) && c.prefix_items.size() >= a.prefix_items.size())) {
        if (*a.items == kFalseNode) {
          Node x = typed(kArray);
          x.min_items = static_cast<int64_t>(a.prefix_items.size()) + 1;
          add(std::move(x));
        } else if (a.prefix_items.empty()) {
          Node x = typed(kArray);
          x.contains = not_node(*a.items);
          add(std::move(x));
        } else {
          drop("items after prefixItems");
        }
      }
      const bool same_contains = a.contains && c.contains && same(*a.contains, *c.contains) &&
                                 c.min_contains >= a.min_contains && c.max_contains == a.max_contains;
      if (a.contains && a.min_contains > 0 && !same_contains) {
        if (a.min_contains == 1) {
          Node x = typed(kArray);
          x.items = not_node(*a.contains);
          add(std::move(x));
        } else {
          drop("minContains");
        }
      }
      if (a.contains && a.max_contains != kNoMax && !same_contains) drop("maxContains");
    }
    for (size_t gi = 0; gi < a.any_of.size(); ++gi) {
      const std::vector<NodeId> group = a.any_of[gi];  // copy: the arena grows below
      bool implied = false;  // the context has the same group (a oneOf implies the anyOf)
      for (size_t ci = 0; ci < c.any_of.size() && !implied; ++ci) {
        implied = c.any_of[ci] == group && (c.any_of_is_one_of[ci] || !a.any_of_is_one_of[gi]);
      }
      if (implied) continue;
      // None of the branches ...
      NodeId none = kTrueNode;
      for (NodeId b : group) none = conjunction(none, not_node(b));
      if (none != kFalseNode) {
        Node x = typed(u);
        x.all_of = {none};
        add(std::move(x));
      }
      // ... or, for oneOf, two of them at once.
      if (a.any_of_is_one_of[gi]) {
        for (size_t i = 0; i < group.size(); ++i) {
          for (size_t j = i + 1; j < group.size(); ++j) {
            if (provably_disjoint(group[i], group[j])) continue;
            Node x = typed(u);
            x.all_of = {group[i], group[j]};
            add(std::move(x));
          }
        }
      }
    }
    for (NodeId x : std::vector<NodeId>(a.nots)) {  // not (not x) = x
      if (c_has(c.nots, x)) continue;
      Node y = typed(u);
      y.all_of = {x};
      add(std::move(y));
    }
  }
  NodeId out;
  if (alts.empty()) {
    out = kFalseNode;
  } else if (alts.size() == 1) {
    out = alts.front();
  } else {
    Node x = typed(types);
    x.any_of.push_back(alts);
    x.any_of_is_one_of.push_back(false);
    out = arena_.add(std::move(x));
  }
  negation_[key] = {out, std::vector<Dropped>(dropped.begin() + static_cast<std::ptrdiff_t>(dropped_before), dropped.end())};
  return out;
}

bool Resolver::provably_disjoint(NodeId a_id, NodeId b_id) {
  if (a_id == kFalseNode || b_id == kFalseNode) return true;
  if (depth_ > kMaxDisjointDepth) return false;
  const Node& a = arena_.at(flatten(a_id));
  const Node& b = arena_.at(flatten(b_id));
  if (a.types == 0 || b.types == 0) return true;
  // `not b` on one side (how an overlapping oneOf is rewritten).
  for (NodeId x : a.nots) {
    if (x == b_id || flatten(x) == flatten(b_id)) return true;
  }
  for (NodeId x : b.nots) {
    if (x == a_id || flatten(x) == flatten(a_id)) return true;
  }
  if (a.enum_values) {
    return std::all_of(a.enum_values->begin(), a.enum_values->end(), [&](const Json& v) { return refutes(v, b_id); });
  }
  if (b.enum_values) {
    return std::all_of(b.enum_values->begin(), b.enum_values->end(), [&](const Json& v) { return refutes(v, a_id); });
  }
  // Branches with anyOf/oneOf inside are not analysed further.
  if (!a.any_of.empty() || !b.any_of.empty()) return (a.types & b.types) == 0;
  const uint8_t common = a.types & b.types;
  for (uint8_t bit = 1; bit < 128; bit <<= 1) {
    if (!(common & bit)) continue;
    if (bit == kObject) {
      bool disjoint = false;
      ++depth_;
      for (int side = 0; side < 2 && !disjoint; ++side) {
        const Node& x = side == 0 ? a : b;
        const Node& y = side == 0 ? b : a;
        for (const std::string& key : x.required) {
          std::optional<NodeId> ys = key_schema(y, key);
          if (ys && *ys == kFalseNode) {
            disjoint = true;
            break;
          }
          // Required on both sides with disjoint schemas: a discriminator.
          if (std::find(y.required.begin(), y.required.end(), key) != y.required.end()) {
            std::optional<NodeId> xs = key_schema(x, key);
            if (xs && ys && provably_disjoint(*xs, *ys)) {
              disjoint = true;
              break;
            }
          }
        }
      }
      --depth_;
      if (!disjoint) return false;
    } else if (bit == kInteger || bit == kFraction) {
      // Disjoint numeric ranges.
      auto below = [](const Node& x, const Node& y) {
        if (!x.maximum || !y.minimum) return false;
        int c = compare(*x.maximum, *y.minimum);
        return c < 0 || (c == 0 && (x.maximum_exclusive || y.minimum_exclusive));
      };
      if (!below(a, b) && !below(b, a)) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace stencil::schema
