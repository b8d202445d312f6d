// A reader for the header of a GGUF file (versions 2 and 3, little-endian): the
// key/value metadata (every value type, arrays included, nested arrays too) and
// the tensor info table (name, shape, type, offset), plus where tensor data starts.
//
// It does not read tensor data, and copies nothing large: strings and numeric
// arrays are views into the caller's buffer (usually a MappedFile), which must
// outlive the GgufMetadata. Every read is bounds-checked; a truncated or corrupt
// file throws a stencil::Error subclass (VocabularyError or ModelError, the
// caller's choice) whose location names the file, the byte offset and the key
// or tensor being read. Vocabulary::from_gguf uses it for tokenizer.ggml.*; the
// runtime reuses it for tensor infos.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stencil::gguf {

// Named limits against corrupt files (all far above what real files use).
inline constexpr int kMaxArrayNesting = 8;               // arrays of arrays of ...
inline constexpr uint32_t kMaxTensorDims = 8;            // GGML_MAX_DIMS is 4
inline constexpr uint64_t kMaxStringBytes = 1ull << 30;  // one key or string value

enum class ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
std::string_view value_type_name(ValueType type) noexcept;
// Byte size of a fixed-size type; 0 for kString and kArray.
size_t fixed_size(ValueType type) noexcept;

// Which Error subclass a malformed file throws.
enum class ErrorKind { kVocabulary, kModel };

struct Value {
  ValueType type = ValueType::kUint8;
  size_t offset = 0;  // file offset of the value's encoding (for error messages)
  // Scalars: integers in `u` (unsigned, and bool) or `i` (signed); floats in `f`.
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  std::string_view str;  // kString
  // kArray: the element type and count. Fixed-size elements stay in the file at
  // `data` (little-endian, possibly unaligned; read them with the element getters);
  // strings are in `strings`, nested arrays in `items`.
  ValueType elem_type = ValueType::kUint8;
  uint64_t count = 0;
  const uint8_t* data = nullptr;
  std::vector<std::string_view> strings;
  std::vector<Value> items;

  bool is_integer() const noexcept;  // a scalar integer type (bool excluded)
  // Element `index` of a fixed-size numeric array, converted. Precondition: index < count,
  // elem_type is an integer type (int_at) or float type (float_at).
  int64_t int_at(uint64_t index) const noexcept;
  double float_at(uint64_t index) const noexcept;
};

struct TensorInfo {
  std::string_view name;
  std::vector<uint64_t> dims;  // (n_dims) innermost first, as GGUF stores them
  uint32_t type = 0;           // ggml_type
  uint64_t offset = 0;         // relative to GgufMetadata::data_offset
  size_t info_offset = 0;      // file offset of this entry (for error messages)
};

class GgufMetadata {
 public:
  // Parses the header of `file` (the whole file, or at least its header). `source`
  // names the file in errors. Throws VocabularyError or ModelError per `errors`.
  static GgufMetadata parse(std::span<const uint8_t> file, std::string source,
                            ErrorKind errors = ErrorKind::kVocabulary);

  uint32_t version() const noexcept { return version_; }
  const std::string& source() const noexcept { return source_; }
  // Key/value pairs in file order.
  const std::vector<std::pair<std::string_view, Value>>& entries() const noexcept { return entries_; }
  const Value* find(std::string_view key) const noexcept;
  const std::vector<TensorInfo>& tensors() const noexcept { return tensors_; }
  uint32_t alignment() const noexcept { return alignment_; }
  // File offset where tensor data starts (end of the header, aligned).
  uint64_t data_offset() const noexcept { return data_offset_; }

  // Typed getters: nullopt when the key is absent; an error when present with the wrong type.
  std::optional<std::string_view> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;  // any integer type
  // An array with the given element type class (strings, or any integer type). nullptr when absent.
  const Value* get_string_array(std::string_view key) const;
  const Value* get_int_array(std::string_view key) const;

  // Throws the configured error kind with location "<source>: offset N, key K".
  [[noreturn]] void fail(const std::string& message, size_t offset, std::string_view key) const;

 private:
  std::string source_;
  ErrorKind errors_ = ErrorKind::kVocabulary;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string_view, Value>> entries_;
  std::vector<TensorInfo> tensors_;
};

// A read-only memory map of a whole file (POSIX mmap); empty files give an empty span.
class MappedFile {
 public:
  // Throws VocabularyError or ModelError (per `errors`) naming the path when the file cannot be opened.
  explicit MappedFile(const std::string& path, ErrorKind errors = ErrorKind::kVocabulary);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const noexcept { return {data_, size_}; }
  std::string_view text() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace stencil::gguf
