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

bool Resolver::validate(const Json& value, NodeId id) { return validate_at(value, id, 0); }

bool Resolver::validate_at(const Json& value, NodeId id, int depth) {
  if (id == kTrueNode) return true;
  if (id == kFalseNode) return false;
  if (depth > options_.max_depth) return false;
  const NodeId f = flatten(id);
  const Node& n = arena_.at(f);  // stable: the arena is a deque
  const uint8_t t = type_of(value);
  if ((n.types & t) == 0) return false;
  if (n.enum_values && std::find(n.enum_values->begin(), n.enum_values->end(), value) == n.enum_values->end()) return false;
  for (size_t gi = 0; gi < n.any_of.size(); ++gi) {
    int matches = 0;
    for (NodeId alt : n.any_of[gi]) matches += validate_at(value, alt, depth + 1) ? 1 : 0;
    if (n.any_of_is_one_of[gi] ? matches != 1 : matches == 0) return false;
  }
  if (t == kString) {
    const std::string s = value.get<std::string>();
    const int64_t len = code_points(s);
    if (len < n.min_length || (n.max_length != kNoMax && len > n.max_length)) return false;
    for (const std::string& p : n.patterns) {
      if (!regex_search(p, s).value_or(false)) return false;
    }
    for (const std::string& fmt : n.formats) {
      if (!format_ok(fmt, s)) return false;
    }
  } else if (t == kInteger || t == kFraction) {
    const Decimal d = *json_decimal(value);
    if (n.minimum) {
      int c = compare(d, *n.minimum);
      if (c < 0 || (c == 0 && n.minimum_exclusive)) return false;
    }
    if (n.maximum) {
      int c = compare(d, *n.maximum);
      if (c > 0 || (c == 0 && n.maximum_exclusive)) return false;
    }
    for (const Decimal& m : n.multiple_of) {
      if (!is_multiple(d, m).value_or(false)) return false;
    }
  } else if (t == kObject) {
    const auto size = static_cast<int64_t>(value.size());
    if (size < n.min_properties || (n.max_properties != kNoMax && size > n.max_properties)) return false;
    for (const std::string& r : n.required) {
      if (!value.contains(r)) return false;
    }
    for (const auto& [key, names] : n.dependent_required) {
      if (!value.contains(key)) continue;
      for (const std::string& r : names) {
        if (!value.contains(r)) return false;
      }
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (n.property_names && !validate_at(Json(it.key()), *n.property_names, depth + 1)) return false;
      bool matched = false;
      for (const auto& [name, sub] : n.properties) {
        if (name == it.key()) {
          matched = true;
          if (!validate_at(it.value(), sub, depth + 1)) return false;
        }
      }
      for (const auto& [pattern, sub] : n.pattern_properties) {
        auto m = regex_search(pattern, it.key());
        if (!m) return false;
        if (*m) {
          matched = true;
          if (!validate_at(it.value(), sub, depth + 1)) return false;
        }
      }
      if (!matched && n.additional && !validate_at(it.value(), *n.additional, depth + 1)) return false;
    }
  } else if (t == kArray) {
    const auto size = static_cast<int64_t>(value.size());
    if (size < n.min_items || (n.max_items != kNoMax && size > n.max_items)) return false;
    int64_t contained = 0;
    for (size_t i = 0; i < value.size(); ++i) {
      NodeId sub = i < n.prefix_items.size() ? n.prefix_items[i] : n.items.value_or(kTrueNode);
      if (!validate_at(value[i], sub, depth + 1)) return false;
      if (n.contains && validate_at(value[i], *n.contains, depth + 1)) ++contained;
    }
    if (n.contains) {
      if (contained < n.min_contains || (n.max_contains != kNoMax && contained > n.max_contains)) return false;
    }
  }
  return true;
}

bool Resolver::provably_disjoint(NodeId a_id, NodeId b_id) {
  if (a_id == kFalseNode || b_id == kFalseNode) return true;
  if (depth_ > kMaxDisjointDepth) return false;
  const Node& a = arena_.at(flatten(a_id));
  const Node& b = arena_.at(flatten(b_id));
  if (a.types == 0 || b.types == 0) return true;
  if (a.enum_values) {
    return std::none_of(a.enum_values->begin(), a.enum_values->end(), [&](const Json& v) { return validate(v, b_id); });
  }
  if (b.enum_values) {
    return std::none_of(b.enum_values->begin(), b.enum_values->end(), [&](const Json& v) { return validate(v, a_id); });
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
