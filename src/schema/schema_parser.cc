// JSON Schema document -> typed nodes. See schema_parser.h.
//
// Subschemas nested in the text are parsed recursively under a depth guard
// (JsonOptions::max_depth levels of schema nesting). `$ref` targets are not
// parsed where they are referenced: the reference gets the target's node id at
// once (allocated on first sight, memoised by canonical pointer) and the target is
// parsed later from a work list, so reference chains and cycles cost no stack.
#include "schema/schema_parser.h"

#include <deque>
#include <map>
#include <set>
#include <unordered_map>

#include "stencil/errors.h"

namespace stencil::schema {
namespace {

// Keywords that carry no constraint (annotations, containers, identifiers).
const std::set<std::string, std::less<>> kIgnored = {
    "title",     "description", "default",  "examples", "example",          "$schema",         "$id",
    "id",        "$comment",    "deprecated", "readOnly", "writeOnly",      "$anchor",         "$defs",
    "definitions", "contentMediaType", "contentEncoding", "contentSchema", "$vocabulary", "discriminator",
    "xml",       "externalDocs"};

// JSON Schema keywords we do not compile (error, or warning under lenient).
const std::set<std::string, std::less<>> kUnsupported = {
    "uniqueItems", "unevaluatedProperties", "unevaluatedItems",
    "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor"};

std::string unescape_pointer_segment(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '~' && i + 1 < s.size() && (s[i + 1] == '0' || s[i + 1] == '1')) {
      out += s[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Naive RFC 3986 resolution, enough for `$id`/`$ref` inside one document.
std::string strip_fragment(const std::string& uri) {
  size_t h = uri.find('#');
  return h == std::string::npos ? uri : uri.substr(0, h);
}

bool has_scheme(std::string_view ref) {
  size_t colon = ref.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = ref[i];
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) return false;
  }
  return true;
}

std::string resolve_uri(const std::string& base, const std::string& ref) {
  if (ref.empty()) return base;
  if (has_scheme(ref)) return ref;
  if (ref[0] == '#') return strip_fragment(base) + ref;
  std::string b = strip_fragment(base);
  if (ref[0] == '/') {
    size_t scheme_end = b.find("://");
    size_t path_start = scheme_end == std::string::npos ? 0 : b.find('/', scheme_end + 3);
    return (path_start == std::string::npos ? b : b.substr(0, path_start)) + ref;
  }
  size_t slash = b.rfind('/');
  return (slash == std::string::npos ? std::string() : b.substr(0, slash + 1)) + ref;
}

class Parser {
 public:
  Parser(const Json& doc, const JsonOptions& options, ParsedSchema& out) : doc_(doc), opt_(options), out_(out) {
    if (auto it = doc_.find("$schema"); doc_.is_object() && it != doc_.end() && it->is_string()) {
      const std::string s = it->get<std::string>();
      legacy_ref_ = s.find("draft-07") != std::string::npos || s.find("draft-06") != std::string::npos ||
                    s.find("draft-04") != std::string::npos || s.find("draft-03") != std::string::npos;
    }
    index_ids(doc_, "", "", 0);
  }

  NodeId run() {
    NodeId root = node_for_pointer("", "");
    while (!pending_.empty()) {
      auto [id, ptr, base] = pending_.front();
      pending_.pop_front();
      const Json* j = lookup_pointer(ptr);
      fill(id, *j, ptr, base, 0);
    }
    if (!errors_.empty()) {
      std::string msg = errors_.front().second;
      if (errors_.size() > 1) {
        msg += " (and " + std::to_string(errors_.size() - 1) + " more:";
        for (size_t i = 1; i < errors_.size() && i < 6; ++i) {
          msg += " " + (errors_[i].first.empty() ? std::string("#") : errors_[i].first) + ": " + errors_[i].second + ";";
        }
        msg += ")";
      }
      throw SchemaError(msg, errors_.front().first);
    }
    return root;
  }

 private:
  // Records `$id` and `$anchor` locations so references can find them.
  void index_ids(const Json& j, const std::string& ptr, const std::string& base, int depth) {
    if (depth > 4 * opt_.max_depth + 64) return;  // the parse proper reports depth
    if (j.is_array()) {
      for (size_t i = 0; i < j.size(); ++i) index_ids(j[i], ptr + "/" + std::to_string(i), base, depth + 1);
      return;
    }
    if (!j.is_object()) return;
    std::string here = base;
    auto id_it = j.find("$id");
    if (legacy_ref_ && j.contains("$ref")) id_it = j.end();  // draft 7: $ref siblings (even $id) are ignored
    if (auto it = id_it; it != j.end() && it->is_string()) {
      const std::string id = it->get<std::string>();
      if (!id.empty() && id[0] == '#') {
        anchors_[strip_fragment(base) + id] = ptr;  // draft 7 plain-name fragment
      } else {
        here = strip_fragment(resolve_uri(base, id));
        ids_[here] = ptr;
      }
    }
    if (auto it = j.find("$anchor"); it != j.end() && it->is_string()) {
      anchors_[here + "#" + it->get<std::string>()] = ptr;
    }
    bases_[ptr] = here;
    // Only where a keyword holds schemas: an `$id` inside data (enum, examples) or inside an unknown
    // keyword is not an identifier (JSON-Schema-Test-Suite optional/unknownKeyword).
    static const std::set<std::string, std::less<>> kSchemaOrSchemas = {
        "not", "if", "then", "else", "items", "additionalItems", "prefixItems", "contains", "additionalProperties",
        "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema", "allOf", "anyOf", "oneOf"};
    static const std::set<std::string, std::less<>> kSchemaMaps = {
        "properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"};
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string kp = ptr + "/" + escape_pointer_segment(it.key());
      if (kSchemaOrSchemas.count(it.key()) != 0) {
        index_ids(it.value(), kp, here, depth + 1);
      } else if (kSchemaMaps.count(it.key()) != 0 && it.value().is_object()) {
        for (auto m = it.value().begin(); m != it.value().end(); ++m) {
          index_ids(m.value(), kp + "/" + escape_pointer_segment(m.key()), here, depth + 2);
        }
      }
    }
  }

  const Json* lookup_pointer(const std::string& ptr) const {
    const Json* j = &doc_;
    size_t i = 0;
    while (i < ptr.size()) {
      if (ptr[i] != '/') return nullptr;
      size_t next = ptr.find('/', i + 1);
      std::string seg = unescape_pointer_segment(ptr.substr(i + 1, next == std::string::npos ? std::string::npos : next - i - 1));
      if (j->is_object()) {
        auto it = j->find(seg);
        if (it == j->end()) return nullptr;
        j = &*it;
      } else if (j->is_array()) {
        if (seg.empty() || seg.find_first_not_of("0123456789") != std::string::npos) return nullptr;
        size_t idx = std::stoul(seg);
        if (idx >= j->size()) return nullptr;
        j = &(*j)[idx];
      } else {
        return nullptr;
      }
      if (next == std::string::npos) break;
      i = next;
    }
    return j;
  }

  // The node of the schema at `ptr`, allocated (and queued for parsing) on first use.
  NodeId node_for_pointer(const std::string& ptr, const std::string& base) {
    if (auto it = by_pointer_.find(ptr); it != by_pointer_.end()) return it->second;
    const Json* j = lookup_pointer(ptr);
    if (j != nullptr && j->is_boolean()) return j->get<bool>() ? kTrueNode : kFalseNode;
    Node n;
    n.pointer = ptr;
    NodeId id = out_.arena.add(std::move(n));
    by_pointer_[ptr] = id;
    auto b = bases_.find(ptr);
    pending_.push_back({id, ptr, b == bases_.end() ? base : b->second});
    return id;
  }

  void error(const std::string& ptr, const std::string& msg) { errors_.emplace_back(ptr, msg); }

  void unsupported(const std::string& ptr, const std::string& keyword, const std::string& why = "") {
    std::string msg = "unsupported keyword '" + keyword + "'" + (why.empty() ? "" : " (" + why + ")");
    if (opt_.lenient) {
      out_.warnings.push_back((ptr.empty() ? std::string("#") : ptr) + ": " + msg + " ignored (lenient)");
    } else {
      error(ptr, msg);
    }
  }

  // Parses a subschema in place (not via the work list): a new node, or the memoised one.
  NodeId sub(const Json& j, const std::string& ptr, const std::string& base, int depth) {
    if (j.is_boolean()) return j.get<bool>() ? kTrueNode : kFalseNode;
    if (auto it = by_pointer_.find(ptr); it != by_pointer_.end()) return it->second;
    if (depth > opt_.max_depth) {
      throw LimitError("schema nesting exceeds max_depth (" + std::to_string(opt_.max_depth) + ")", ptr);
    }
    Node n;
    n.pointer = ptr;
    NodeId id = out_.arena.add(std::move(n));
    by_pointer_[ptr] = id;
    fill(id, j, ptr, base, depth);
    return id;
  }

  std::optional<int64_t> count(const Json& v, const std::string& ptr, const char* kw) {
    if (v.is_number_unsigned()) {
      auto u = v.get<uint64_t>();
      return u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
    }
    if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
    if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>()))) {
      return static_cast<int64_t>(v.get<double>());
    }
    error(ptr + "/" + kw, std::string("'") + kw + "' must be a non-negative integer");
    return std::nullopt;
  }

  std::optional<Decimal> number(const Json& v, const std::string& ptr) {
    if (v.is_number_unsigned()) return decimal_from_uint(v.get<uint64_t>());
    if (v.is_number_integer()) return decimal_from_int(v.get<int64_t>());
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (std::isfinite(d)) return decimal_from_double(d);
    }
    error(ptr, "must be a number");
    return std::nullopt;
  }

  uint8_t type_bits(const Json& t, const std::string& ptr) {
    static const std::map<std::string, uint8_t> kTypes = {
        {"null", kNull},     {"boolean", kBoolean}, {"object", kObject},           {"array", kArray},
        {"string", kString}, {"integer", kInteger}, {"number", kInteger | kFraction}};
    if (t.is_string()) {
      auto it = kTypes.find(t.get<std::string>());
      if (it != kTypes.end()) return it->second;
      error(ptr, "unknown type '" + t.get<std::string>() + "'");
      return kAllTypes;
    }
    if (t.is_array()) {
      uint8_t bits = 0;
      for (size_t i = 0; i < t.size(); ++i) bits |= type_bits(t[i], ptr + "/" + std::to_string(i));
      return bits;
    }
    error(ptr, "'type' must be a string or an array of strings");
    return kAllTypes;
  }

  void add_ref(NodeId id, const std::string& ref, const std::string& ptr, const std::string& base) {
    std::string abs = resolve_uri(base, percent_decode(ref));
    std::string resource = strip_fragment(abs);
    std::string fragment = abs.size() > resource.size() ? abs.substr(resource.size() + 1) : "";
    std::string resource_ptr;
    if (resource.empty() || resource == strip_fragment(base_of_root())) {
      resource_ptr = "";
    } else if (auto it = ids_.find(resource); it != ids_.end()) {
      resource_ptr = it->second;
    } else {
      error(ptr + "/$ref", "unresolvable $ref '" + ref + "' (only references inside this document are supported)");
      return;
    }
    std::string target;
    if (fragment.empty() || fragment[0] == '/') {
      target = resource_ptr + fragment;
    } else if (auto it = anchors_.find(resource + "#" + fragment); it != anchors_.end()) {
      target = it->second;
    } else {
      error(ptr + "/$ref", "unresolvable $ref '" + ref + "' (no such anchor)");
      return;
    }
    const Json* j = lookup_pointer(target);
    if (j == nullptr || !(j->is_object() || j->is_boolean())) {
      error(ptr + "/$ref", "unresolvable $ref '" + ref + "' (no schema at " + (target.empty() ? "#" : target) + ")");
      return;
    }
    const NodeId target_id = node_for_pointer(target, base);  // may grow the arena: no reference held across it
    out_.arena.at(id).all_of.push_back(target_id);
  }

  std::string base_of_root() const {
    auto it = bases_.find("");
    return it == bases_.end() ? std::string() : it->second;
  }

  void fill(NodeId id, const Json& j, const std::string& ptr, const std::string& base_in, int depth) {
    if (!j.is_object()) {
      error(ptr, "a schema must be an object or a boolean");
      return;
    }
    std::string base = base_in;
    if (auto b = bases_.find(ptr); b != bases_.end()) base = b->second;
    // Subschema parsing appends to the arena, so `n` is re-fetched after each call.
    auto n = [&]() -> Node& { return out_.arena.at(id); };
    auto at = [&](const std::string& key) { return ptr + "/" + escape_pointer_segment(key); };
    bool nullable = false;
    const Json* items_array = nullptr;
    // Before draft 2019-09 a `$ref` replaces its whole schema object: the siblings are ignored.
    const bool ref_only = legacy_ref_ && j.contains("$ref");
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& key = it.key();
      if (ref_only && key != "$ref") continue;
      const Json& v = it.value();
      const std::string kp = at(key);
      if (kIgnored.count(key)) continue;
      if (kUnsupported.count(key)) {
        if (key == "uniqueItems" && v.is_boolean() && !v.get<bool>()) continue;  // no constraint
        unsupported(ptr, key);
        continue;
      }
      if (key == "type") {
        n().types &= type_bits(v, kp);
      } else if (key == "enum" || key == "const") {
        std::vector<Json> values;
        if (key == "const") {
          values.push_back(v);
        } else if (v.is_array()) {
          values.assign(v.begin(), v.end());
        } else {
          error(kp, "'enum' must be an array");
          continue;
        }
        if (n().enum_values) {
          std::vector<Json> both;
          for (const Json& a : *n().enum_values) {
            for (const Json& b : values) {
              if (a == b) {
                both.push_back(a);
                break;
              }
            }
          }
          n().enum_values = std::move(both);
        } else {
          n().enum_values = std::move(values);
        }
      } else if (key == "anyOf" || key == "oneOf" || key == "allOf") {
        if (!v.is_array() || v.empty()) {
          error(kp, "'" + key + "' must be a non-empty array of schemas");
          continue;
        }
        std::vector<NodeId> alts;
        for (size_t i = 0; i < v.size(); ++i) alts.push_back(sub(v[i], kp + "/" + std::to_string(i), base, depth + 1));
        if (key == "allOf") {
          n().all_of.insert(n().all_of.end(), alts.begin(), alts.end());
        } else {
          n().any_of.push_back(std::move(alts));
          n().any_of_is_one_of.push_back(key == "oneOf");
        }
      } else if (key == "$ref") {
        if (!v.is_string()) {
          error(kp, "'$ref' must be a string");
          continue;
        }
        add_ref(id, v.get<std::string>(), ptr, base);
      } else if (key == "nullable") {
        if (!v.is_boolean()) error(kp, "'nullable' must be a boolean");
        else nullable = v.get<bool>();
      } else if (key == "minLength" || key == "maxLength") {
        auto c = count(v, ptr, key.c_str());
        if (!c) continue;
        (key == "minLength" ? n().min_length : n().max_length) = *c;
      } else if (key == "pattern") {
        if (!v.is_string()) error(kp, "'pattern' must be a string");
        else n().patterns.push_back(v.get<std::string>());
      } else if (key == "format") {
        if (!v.is_string()) {
          error(kp, "'format' must be a string");
          continue;
        }
        // The formats python-jsonschema's FormatChecker asserts are kept (string() compiles or rejects
        // them); any other format constrains nothing there and is ignored with a warning.
        static const std::set<std::string, std::less<>> kFormats = {
            "date", "time", "date-time", "duration", "email", "hostname", "ipv4", "ipv6", "uuid", "uri",
            "uri-reference", "json-pointer", "relative-json-pointer", "idn-email", "idn-hostname", "iri",
            "iri-reference", "regex", "uri-template"};
        if (kFormats.count(v.get<std::string>())) {
          if (std::find(n().formats.begin(), n().formats.end(), v.get<std::string>()) == n().formats.end()) {
            n().formats.push_back(v.get<std::string>());
          }
        } else {
          // `format` is an annotation in 2020-12 unless asserted; unknown formats constrain nothing.
          out_.warnings.push_back(kp + ": format '" + v.get<std::string>() + "' is not checked");
        }
      } else if (key == "minimum" || key == "maximum") {
        auto d = number(v, kp);
        if (!d) continue;
        set_bound(n(), key == "minimum", *d, false);
      } else if (key == "exclusiveMinimum" || key == "exclusiveMaximum") {
        if (v.is_boolean()) {
          // draft 4: a flag on minimum/maximum
          if (v.get<bool>()) (key == "exclusiveMinimum" ? draft4_exclusive_min_ : draft4_exclusive_max_) = true;
          continue;
        }
        auto d = number(v, kp);
        if (!d) continue;
        set_bound(n(), key == "exclusiveMinimum", *d, true);
      } else if (key == "multipleOf") {
        auto d = number(v, kp);
        if (!d) continue;
        if (d->negative || d->is_zero()) {
          error(kp, "'multipleOf' must be greater than 0");
          continue;
        }
        n().multiple_of.push_back(*d);
      } else if (key == "properties" || key == "patternProperties") {
        if (!v.is_object()) {
          error(kp, "'" + key + "' must be an object");
          continue;
        }
        std::vector<std::pair<std::string, NodeId>> props;
        for (auto p = v.begin(); p != v.end(); ++p) {
          props.emplace_back(p.key(), sub(p.value(), kp + "/" + escape_pointer_segment(p.key()), base, depth + 1));
        }
        (key == "properties" ? n().properties : n().pattern_properties) = std::move(props);
      } else if (key == "required") {
        if (!v.is_array()) {
          error(kp, "'required' must be an array of strings");
          continue;
        }
        for (const Json& r : v) {
          if (!r.is_string()) {
            error(kp, "'required' must be an array of strings");
            break;
          }
          std::string name = r.get<std::string>();
          if (std::find(n().required.begin(), n().required.end(), name) == n().required.end()) n().required.push_back(name);
        }
      } else if (key == "additionalProperties") {
        NodeId a = sub(v, kp, base, depth + 1);
        n().additional = a;
      } else if (key == "propertyNames") {
        NodeId a = sub(v, kp, base, depth + 1);
        n().property_names = a;
      } else if (key == "minProperties" || key == "maxProperties") {
        auto c = count(v, ptr, key.c_str());
        if (!c) continue;
        (key == "minProperties" ? n().min_properties : n().max_properties) = *c;
      } else if (key == "not") {
        NodeId a = sub(v, kp, base, depth + 1);
        n().nots.push_back(a);
      } else if (key == "if") {
        // if/then/else = anyOf(allOf(if, then), allOf(not if, else)); the two branches are disjoint.
        const NodeId cond = sub(v, kp, base, depth + 1);
        NodeId then_id = kTrueNode, else_id = kTrueNode;
        if (auto t = j.find("then"); t != j.end()) then_id = sub(*t, at("then"), base, depth + 1);
        if (auto e = j.find("else"); e != j.end()) else_id = sub(*e, at("else"), base, depth + 1);
        if (then_id == kTrueNode && else_id == kTrueNode) continue;  // no constraint
        Node yes;
        yes.pointer = at("then");
        yes.all_of = {cond, then_id};
        Node no;
        no.pointer = at("else");
        no.nots = {cond};
        if (else_id != kTrueNode) no.all_of = {else_id};
        const NodeId yes_id = out_.arena.add(std::move(yes));
        const NodeId no_id = out_.arena.add(std::move(no));
        n().any_of.push_back({yes_id, no_id});
        n().any_of_is_one_of.push_back(false);
      } else if (key == "then" || key == "else") {
        // Read with `if`; without `if` they assert nothing.
      } else if (key == "dependentRequired" || key == "dependencies" || key == "dependentSchemas") {
        if (!v.is_object()) {
          error(kp, "'" + key + "' must be an object");
          continue;
        }
        for (auto d = v.begin(); d != v.end(); ++d) {
          if (!d.value().is_array() || key == "dependentSchemas") {
            if (key == "dependentRequired" || !(d.value().is_object() || d.value().is_boolean())) {
              error(kp + "/" + escape_pointer_segment(d.key()),
                    key == "dependentRequired"  ? "'dependentRequired' values must be arrays of strings"
                    : key == "dependentSchemas" ? "'dependentSchemas' values must be schemas"
                                                : "'dependencies' values must be arrays of strings or schemas");
              continue;
            }
            // A schema dependency: the key is absent, or present and the schema holds.
            const NodeId dep = sub(d.value(), kp + "/" + escape_pointer_segment(d.key()), base, depth + 1);
            if (dep == kTrueNode) continue;
            Node absent;
            absent.pointer = kp;
            absent.properties = {{d.key(), kFalseNode}};
            Node present;
            present.pointer = kp;
            present.required = {d.key()};
            present.all_of = {dep};
            const NodeId absent_id = out_.arena.add(std::move(absent));
            const NodeId present_id = out_.arena.add(std::move(present));
            n().any_of.push_back({absent_id, present_id});
            n().any_of_is_one_of.push_back(false);
            continue;
          }
          std::vector<std::string> names;
          for (const Json& r : d.value()) {
            if (r.is_string()) names.push_back(r.get<std::string>());
            else error(kp, "dependency lists must hold strings");
          }
          n().dependent_required.emplace_back(d.key(), std::move(names));
        }
      } else if (key == "items") {
        if (v.is_array()) {
          items_array = &v;  // draft 7 tuple form
          std::vector<NodeId> prefix;
          for (size_t i = 0; i < v.size(); ++i) prefix.push_back(sub(v[i], kp + "/" + std::to_string(i), base, depth + 1));
          n().prefix_items = std::move(prefix);
        } else {
          NodeId a = sub(v, kp, base, depth + 1);
          n().items = a;
        }
      } else if (key == "prefixItems") {
        if (!v.is_array()) {
          error(kp, "'prefixItems' must be an array of schemas");
          continue;
        }
        std::vector<NodeId> prefix;
        for (size_t i = 0; i < v.size(); ++i) prefix.push_back(sub(v[i], kp + "/" + std::to_string(i), base, depth + 1));
        n().prefix_items = std::move(prefix);
      } else if (key == "additionalItems") {
        // Only meaningful after a tuple-form `items`; handled below.
      } else if (key == "contains") {
        NodeId a = sub(v, kp, base, depth + 1);
        n().contains = a;
      } else if (key == "minContains" || key == "maxContains" || key == "minItems" || key == "maxItems") {
        auto c = count(v, ptr, key.c_str());
        if (!c) continue;
        if (key == "minContains") n().min_contains = *c;
        if (key == "maxContains") n().max_contains = *c;
        if (key == "minItems") n().min_items = *c;
        if (key == "maxItems") n().max_items = *c;
      }
      // Anything else is not a JSON Schema keyword: ignored, as the specification says.
    }
    if (items_array != nullptr) {
      if (auto a = j.find("additionalItems"); a != j.end()) {
        NodeId ai = sub(*a, at("additionalItems"), base, depth + 1);
        n().items = ai;
      }
    }
    if (draft4_exclusive_min_ || draft4_exclusive_max_) {
      if (draft4_exclusive_min_ && n().minimum) n().minimum_exclusive = true;
      if (draft4_exclusive_max_ && n().maximum) n().maximum_exclusive = true;
      draft4_exclusive_min_ = draft4_exclusive_max_ = false;
    }
    if (nullable) {
      if (n().all_of.empty() && n().any_of.empty()) {
        n().types |= kNull;
        if (n().enum_values) n().enum_values->push_back(nullptr);
      } else {
        // OpenAPI: null, or whatever the rest of the schema says.
        Node inner = n();
        inner.pointer = ptr;
        NodeId inner_id = out_.arena.add(std::move(inner));
        Node null_node;
        null_node.pointer = at("nullable");
        null_node.types = kNull;
        NodeId null_id = out_.arena.add(std::move(null_node));
        Node outer;
        outer.pointer = ptr;
        outer.any_of.push_back({null_id, inner_id});
        outer.any_of_is_one_of.push_back(false);
        out_.arena.at(id) = std::move(outer);
      }
    }
  }

  static void set_bound(Node& n, bool lower, const Decimal& d, bool exclusive) {
    auto& slot = lower ? n.minimum : n.maximum;
    bool& excl = lower ? n.minimum_exclusive : n.maximum_exclusive;
    if (!slot) {
      slot = d;
      excl = exclusive;
      return;
    }
    int c = compare(d, *slot);
    if ((lower && c > 0) || (!lower && c < 0)) {
      slot = d;
      excl = exclusive;
    } else if (c == 0) {
      excl = excl || exclusive;
    }
  }

  const Json& doc_;
  const JsonOptions& opt_;
  ParsedSchema& out_;
  std::unordered_map<std::string, NodeId> by_pointer_;
  std::unordered_map<std::string, std::string> ids_;      // absolute URI (no fragment) -> pointer
  std::unordered_map<std::string, std::string> anchors_;  // absolute URI#anchor -> pointer
  std::unordered_map<std::string, std::string> bases_;    // pointer -> base URI in effect there
  struct Pending {
    NodeId id;
    std::string ptr;
    std::string base;
  };
  std::deque<Pending> pending_;
  std::vector<std::pair<std::string, std::string>> errors_;  // (pointer, message)
  bool legacy_ref_ = false;  // $schema says draft 7 or older
  bool draft4_exclusive_min_ = false;
  bool draft4_exclusive_max_ = false;
};

}  // namespace

std::string escape_pointer_segment(std::string_view segment) {
  std::string out;
  for (char c : segment) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

Json parse_json_text(std::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // Report line:column of the byte offset nlohmann gives.
    size_t line = 1, col = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') ++line, col = 1;
      else ++col;
    }
    throw SchemaError("the schema is not valid JSON: " + std::string(e.what()),
                      std::to_string(line) + ":" + std::to_string(col));
  }
}

ParsedSchema parse_schema(const Json& document, const JsonOptions& options) {
  ParsedSchema out;
  if (document.is_boolean()) {
    out.root = document.get<bool>() ? kTrueNode : kFalseNode;
    return out;
  }
  if (!document.is_object()) throw SchemaError("a schema must be an object or a boolean", "");
  Parser parser(document, options, out);
  out.root = parser.run();
  return out;
}

}  // namespace stencil::schema
