// GGUF header parsing. The layout (gguf.md in ggml): "GGUF", u32 version, u64
// tensor_count, u64 kv_count, then kv_count x {string key, u32 type, value}, then
// tensor_count x {string name, u32 n_dims, u64 dims[n_dims], u32 type, u64 offset},
// then padding to general.alignment (default 32) and the tensor data. Strings are
// u64 length + bytes; arrays are u32 element type + u64 count + elements.
//
// Every count read from the file is checked against the bytes left before any
// allocation, so a corrupted length fails fast with the offset instead of
// allocating terabytes. Version 1 (u32 lengths) and big-endian files are refused.
#include "vocab/gguf_metadata.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "stencil/errors.h"

namespace stencil::gguf {

namespace {

[[noreturn]] void throw_error(ErrorKind kind, const std::string& message, const std::string& location) {
  if (kind == ErrorKind::kModel) throw ModelError(message, location);
  throw VocabularyError(message, location);
}

std::string printable_key(std::string_view key) {
  std::string out;
  for (char c : key.substr(0, 200)) out += (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) ? c : '?';
  if (key.size() > 200) out += "...";
  return out;
}

template <typename T>
T load(const uint8_t* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof(T));  // GGUF data is little-endian and unaligned; so is every host we build for
  return v;
}

// A cursor over the file that knows which key or tensor it is reading, for errors.
class Reader {
 public:
  Reader(std::span<const uint8_t> data, const GgufMetadata& meta) : data_(data), meta_(meta) {}

  size_t pos() const noexcept { return pos_; }
  size_t left() const noexcept { return data_.size() - pos_; }
  void set_context(std::string_view what) { context_ = what; }

  [[noreturn]] void fail(const std::string& message, size_t offset) const { meta_.fail(message, offset, context_); }

  void need(size_t n, const char* what) const {
    if (n > left()) {
      fail("file is truncated: " + std::string(what) + " needs " + std::to_string(n) + " bytes, " +
               std::to_string(left()) + " left",
           pos_);
    }
  }
  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v = load<T>(data_.data() + pos_);
    pos_ += sizeof(T);
    return v;
  }
  std::string_view read_string(const char* what) {
    size_t at = pos_;
    uint64_t n = read<uint64_t>(what);
    if (n > kMaxStringBytes || n > left()) {
      fail(std::string(what) + " length " + std::to_string(n) + " exceeds the " + std::to_string(left()) +
               " bytes left: the file is truncated or corrupt",
           at);
    }
    std::string_view s(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  const uint8_t* skip(size_t n, const char* what) {
    need(n, what);
    const uint8_t* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }

  Value read_value(ValueType type, int depth) {
    Value v;
    v.type = type;
    v.offset = pos_;
    switch (type) {
      case ValueType::kUint8:
        v.u = read<uint8_t>("uint8 value");
        break;
      case ValueType::kInt8:
        v.i = read<int8_t>("int8 value");
        break;
      case ValueType::kUint16:
        v.u = read<uint16_t>("uint16 value");
        break;
      case ValueType::kInt16:
        v.i = read<int16_t>("int16 value");
        break;
      case ValueType::kUint32:
        v.u = read<uint32_t>("uint32 value");
        break;
      case ValueType::kInt32:
        v.i = read<int32_t>("int32 value");
        break;
      case ValueType::kUint64:
        v.u = read<uint64_t>("uint64 value");
        break;
      case ValueType::kInt64:
        v.i = read<int64_t>("int64 value");
        break;
      case ValueType::kFloat32:
        v.f = read<float>("float32 value");
        break;
      case ValueType::kFloat64:
        v.f = read<double>("float64 value");
        break;
      case ValueType::kBool: {
        uint8_t b = read<uint8_t>("bool value");
        if (b > 1) fail("corrupt bool value " + std::to_string(b), v.offset);
        v.u = b;
        break;
      }
      case ValueType::kString:
        v.str = read_string("string value");
        break;
      case ValueType::kArray:
        read_array(v, depth);
        break;
      default:
        fail("unknown value type " + std::to_string(static_cast<uint32_t>(type)), v.offset);
    }
    return v;
  }

  ValueType read_type(const char* what) {
    size_t at = pos_;
    uint32_t t = read<uint32_t>(what);
    if (t > static_cast<uint32_t>(ValueType::kFloat64)) fail("unknown value type " + std::to_string(t), at);
    return static_cast<ValueType>(t);
  }

 private:
  void read_array(Value& v, int depth) {
    // Nested arrays are the only recursion over file structure here; bounded by kMaxArrayNesting.
    if (depth >= kMaxArrayNesting) {
      fail("arrays nested deeper than kMaxArrayNesting (" + std::to_string(kMaxArrayNesting) + ")", v.offset);
    }
    v.elem_type = read_type("array element type");
    size_t count_at = pos_;
    v.count = read<uint64_t>("array length");
    size_t min_elem = fixed_size(v.elem_type);
    if (v.elem_type == ValueType::kString) min_elem = 8;     // u64 length each
    if (v.elem_type == ValueType::kArray) min_elem = 4 + 8;  // type + count each
    if (v.count > left() / min_elem) {
      fail("array length " + std::to_string(v.count) + " (of " + std::string(value_type_name(v.elem_type)) +
               ") exceeds the " + std::to_string(left()) + " bytes left: the file is truncated or corrupt",
           count_at);
    }
    if (v.elem_type == ValueType::kString) {
      v.strings.reserve(v.count);
      for (uint64_t k = 0; k < v.count; ++k) v.strings.push_back(read_string("array string"));
    } else if (v.elem_type == ValueType::kArray) {
      v.items.reserve(v.count);
      for (uint64_t k = 0; k < v.count; ++k) v.items.push_back(read_value(ValueType::kArray, depth + 1));
    } else {
      if (v.elem_type == ValueType::kBool) {
        for (uint64_t k = 0; k < v.count; ++k) {
          if (data_[pos_ + k] > 1) fail("corrupt bool array element " + std::to_string(k), pos_ + k);
        }
      }
      v.data = skip(v.count * min_elem, "array elements");
    }
  }

  std::span<const uint8_t> data_;
  const GgufMetadata& meta_;
  size_t pos_ = 0;
  std::string_view context_;
};

bool is_int_type(ValueType t) noexcept {
  switch (t) {
    case ValueType::kUint8:
    case ValueType::kInt8:
    case ValueType::kUint16:
    case ValueType::kInt16:
    case ValueType::kUint32:
    case ValueType::kInt32:
    case ValueType::kUint64:
    case ValueType::kInt64:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string_view value_type_name(ValueType type) noexcept {
  switch (type) {
    case ValueType::kUint8:
      return "uint8";
    case ValueType::kInt8:
      return "int8";
    case ValueType::kUint16:
      return "uint16";
    case ValueType::kInt16:
      return "int16";
    case ValueType::kUint32:
      return "uint32";
    case ValueType::kInt32:
      return "int32";
    case ValueType::kFloat32:
      return "float32";
    case ValueType::kBool:
      return "bool";
    case ValueType::kString:
      return "string";
    case ValueType::kArray:
      return "array";
    case ValueType::kUint64:
      return "uint64";
    case ValueType::kInt64:
      return "int64";
    case ValueType::kFloat64:
      return "float64";
  }
  return "unknown";
}

size_t fixed_size(ValueType type) noexcept {
  switch (type) {
    case ValueType::kUint8:
    case ValueType::kInt8:
    case ValueType::kBool:
      return 1;
    case ValueType::kUint16:
    case ValueType::kInt16:
      return 2;
    case ValueType::kUint32:
    case ValueType::kInt32:
    case ValueType::kFloat32:
      return 4;
    case ValueType::kUint64:
    case ValueType::kInt64:
    case ValueType::kFloat64:
      return 8;
    default:
      return 0;
  }
}

bool Value::is_integer() const noexcept { return is_int_type(type); }

int64_t Value::int_at(uint64_t index) const noexcept {
  const uint8_t* p = data + index * fixed_size(elem_type);
  switch (elem_type) {
    case ValueType::kUint8:
      return load<uint8_t>(p);
    case ValueType::kInt8:
      return load<int8_t>(p);
    case ValueType::kUint16:
      return load<uint16_t>(p);
    case ValueType::kInt16:
      return load<int16_t>(p);
    case ValueType::kUint32:
      return load<uint32_t>(p);
    case ValueType::kInt32:
      return load<int32_t>(p);
    case ValueType::kUint64:
      return static_cast<int64_t>(load<uint64_t>(p));
    case ValueType::kInt64:
      return load<int64_t>(p);
    case ValueType::kBool:
      return load<uint8_t>(p);
    default:
      return 0;
  }
}

double Value::float_at(uint64_t index) const noexcept {
  const uint8_t* p = data + index * fixed_size(elem_type);
  if (elem_type == ValueType::kFloat32) return load<float>(p);
  if (elem_type == ValueType::kFloat64) return load<double>(p);
  return static_cast<double>(int_at(index));
}

void GgufMetadata::fail(const std::string& message, size_t offset, std::string_view key) const {
  std::string location = source_ + ": offset " + std::to_string(offset);
  if (!key.empty()) location += ", " + printable_key(key);
  throw_error(errors_, message, location);
}

GgufMetadata GgufMetadata::parse(std::span<const uint8_t> file, std::string source, ErrorKind errors) {
  GgufMetadata meta;
  meta.source_ = std::move(source);
  meta.errors_ = errors;
  Reader r(file, meta);

  r.set_context("header");
  r.need(4, "magic");
  if (std::memcmp(file.data(), "GGUF", 4) != 0) r.fail("not a GGUF file (the first 4 bytes are not \"GGUF\")", 0);
  r.skip(4, "magic");
  meta.version_ = r.read<uint32_t>("version");
  if (meta.version_ == 1) r.fail("GGUF version 1 is not supported (versions 2 and 3 are)", 4);
  if (meta.version_ != 2 && meta.version_ != 3) {
    if ((meta.version_ & 0xFFFF) == 0) r.fail("big-endian GGUF files are not supported", 4);
    r.fail("unsupported GGUF version " + std::to_string(meta.version_), 4);
  }
  uint64_t n_tensors = r.read<uint64_t>("tensor count");
  size_t kv_at = r.pos();
  uint64_t n_kv = r.read<uint64_t>("key/value count");
  // Each key/value takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info 8 + 4 + 4 + 8.
  if (n_kv > r.left() / 13) r.fail("corrupt key/value count " + std::to_string(n_kv), kv_at);
  if (n_tensors > file.size() / 24) r.fail("corrupt tensor count " + std::to_string(n_tensors), 8);

  meta.entries_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key_name = "key #" + std::to_string(k);
    r.set_context(key_name);
    std::string_view key = r.read_string("key");
    r.set_context(key);
    ValueType type = r.read_type("value type");
    Value v = r.read_value(type, 0);
    meta.entries_.emplace_back(key, std::move(v));
  }

  if (const Value* a = meta.find("general.alignment")) {
    if (!a->is_integer() || a->u == 0 || a->u > (1u << 20) || (a->u & (a->u - 1)) != 0) {
      meta.fail("general.alignment must be a power of two integer", a->offset, "general.alignment");
    }
    meta.alignment_ = static_cast<uint32_t>(a->u);
  }

  meta.tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    std::string tensor_name = "tensor #" + std::to_string(k);
    r.set_context(tensor_name);
    TensorInfo t;
    t.info_offset = r.pos();
    t.name = r.read_string("tensor name");
    r.set_context(t.name);
    size_t dims_at = r.pos();
    uint32_t n_dims = r.read<uint32_t>("tensor n_dims");
    if (n_dims > kMaxTensorDims) r.fail("corrupt tensor n_dims " + std::to_string(n_dims), dims_at);
    for (uint32_t d = 0; d < n_dims; ++d) t.dims.push_back(r.read<uint64_t>("tensor dimension"));
    t.type = r.read<uint32_t>("tensor type");
    t.offset = r.read<uint64_t>("tensor offset");
    meta.tensors_.push_back(std::move(t));
  }
  uint64_t end = r.pos();
  meta.data_offset_ = (end + meta.alignment_ - 1) / meta.alignment_ * meta.alignment_;
  return meta;
}

const Value* GgufMetadata::find(std::string_view key) const noexcept {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<std::string_view> GgufMetadata::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != ValueType::kString) {
    fail("expected a string, found " + std::string(value_type_name(v->type)), v->offset, key);
  }
  return v->str;
}

std::optional<int64_t> GgufMetadata::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer()) fail("expected an integer, found " + std::string(value_type_name(v->type)), v->offset, key);
  if (v->type == ValueType::kUint64 && v->u > static_cast<uint64_t>(INT64_MAX)) {
    fail("integer " + std::to_string(v->u) + " is out of range", v->offset, key);
  }
  return (v->type == ValueType::kUint8 || v->type == ValueType::kUint16 || v->type == ValueType::kUint32 ||
          v->type == ValueType::kUint64)
             ? static_cast<int64_t>(v->u)
             : v->i;
}

const Value* GgufMetadata::get_string_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return nullptr;
  if (v->type != ValueType::kArray || v->elem_type != ValueType::kString) {
    fail("expected an array of strings", v->offset, key);
  }
  return v;
}

const Value* GgufMetadata::get_int_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return nullptr;
  if (v->type != ValueType::kArray || !is_int_type(v->elem_type)) fail("expected an array of integers", v->offset, key);
  return v;
}

MappedFile::MappedFile(const std::string& path, ErrorKind errors) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_error(errors, std::string("cannot open file: ") + std::strerror(errno), path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = errno;
    ::close(fd);
    throw_error(
        errors,
        S_ISDIR(st.st_mode) ? "is a directory, not a file" : std::string("cannot read file: ") + std::strerror(err),
        path);
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      throw_error(errors, std::string("cannot map file: ") + std::strerror(err), path);
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace stencil::gguf
