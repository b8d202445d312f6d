// Instances in the order strict mode writes them: JSON Schema does not order an object's
// members, but the compiled grammar writes properties in schema order (like OpenAI), so a
// dataset instance is tried again with its keys sorted by where each first appears in the
// schema text. Shared by the JSONSchemaBench test and bench/schema_mask_bench.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace stencil::testing {

// Every key of the schema (at any depth), numbered in order of first appearance.
inline void schema_key_order(const nlohmann::ordered_json& schema, std::map<std::string, size_t>& order, int depth = 0) {
  if (depth > 200) return;
  if (schema.is_object()) {
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      order.emplace(it.key(), order.size());
      schema_key_order(it.value(), order, depth + 1);
    }
  } else if (schema.is_array()) {
    for (const auto& v : schema) schema_key_order(v, order, depth + 1);
  }
}

// `v` with every object's keys stably sorted by `order` (unknown keys last).
inline nlohmann::ordered_json in_schema_order(const nlohmann::ordered_json& v, const std::map<std::string, size_t>& order,
                                              int depth = 0) {
  if (depth > 200) return v;
  if (v.is_array()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& e : v) out.push_back(in_schema_order(e, order, depth + 1));
    return out;
  }
  if (!v.is_object()) return v;
  std::vector<std::string> keys;
  for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(it.key());
  std::stable_sort(keys.begin(), keys.end(), [&](const std::string& a, const std::string& b) {
    auto ia = order.find(a), ib = order.find(b);
    return (ia == order.end() ? SIZE_MAX : ia->second) < (ib == order.end() ? SIZE_MAX : ib->second);
  });
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& k : keys) out[k] = in_schema_order(v.at(k), order, depth + 1);
  return out;
}

}  // namespace stencil::testing
