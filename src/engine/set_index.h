// Interning sets of state ids without an allocation per set: the subset
// construction looks up every DFA state's NFA set and every step's target set,
// thousands per compile, and a hash map keyed by std::vector spent a third of
// a small compile in malloc and free. Here every set lives in one flat arena
// and the table is open addressing over entry ids.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace stencil::engine {

// A hash of a list of ids (state sets, state signatures).
inline uint64_t hash_ids(std::span<const int32_t> ids) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ ids.size();
  for (int32_t x : ids) h = (h ^ static_cast<uint32_t>(x)) * 0x100000001B3ull;
  return h ^ (h >> 29);
}

class SetIndex {
 public:
  void clear() {
    entries_.clear();
    arena_.clear();
    slots_.assign(slots_.empty() ? 64 : slots_.size(), 0);
  }

  // The value stored with `set`, or -1.
  int32_t find(std::span<const int32_t> set) const {
    if (slots_.empty()) return -1;
    const uint64_t h = hash(set);
    const size_t mask = slots_.size() - 1;
    for (size_t i = static_cast<size_t>(h) & mask;; i = (i + 1) & mask) {
      const int32_t id = slots_[i] - 1;
      if (id < 0) return -1;
      const Entry& e = entries_[static_cast<size_t>(id)];
      if (e.hash == h && equal(e, set)) return e.value;
    }
  }

  // Stores `set`, which must not be present, with `value`; returns its id for set().
  int32_t insert(std::span<const int32_t> set, int32_t value) {
    if (slots_.empty() || (entries_.size() + 1) * 2 > slots_.size()) grow();
    const uint64_t h = hash(set);
    const int32_t id = static_cast<int32_t>(entries_.size());
    entries_.push_back({h, static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(set.size()), value});
    arena_.insert(arena_.end(), set.begin(), set.end());
    place(id);
    return id;
  }

  // The set stored as `id` (valid until the next insert).
  std::span<const int32_t> set(int32_t id) const {
    const Entry& e = entries_[static_cast<size_t>(id)];
    return {arena_.data() + e.begin, e.size};
  }

 private:
  struct Entry {
    uint64_t hash;
    uint32_t begin, size;
    int32_t value;
  };

  static uint64_t hash(std::span<const int32_t> set) { return hash_ids(set); }
  bool equal(const Entry& e, std::span<const int32_t> set) const {
    if (e.size != set.size()) return false;
    const int32_t* p = arena_.data() + e.begin;
    for (size_t i = 0; i < set.size(); ++i) {
      if (p[i] != set[i]) return false;
    }
    return true;
  }
  void place(int32_t id) {
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>(entries_[static_cast<size_t>(id)].hash) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = id + 1;
  }
  void grow() {
    slots_.assign(slots_.empty() ? 64 : slots_.size() * 2, 0);
    for (int32_t id = 0; id < static_cast<int32_t>(entries_.size()); ++id) place(id);
  }

  std::vector<Entry> entries_;
  std::vector<int32_t> slots_;  // entry id + 1; 0 is empty. Size is a power of two, at most half full.
  std::vector<int32_t> arena_;
};

}  // namespace stencil::engine
