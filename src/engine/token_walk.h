// Walking a list of tokens in trie order through the StackMachine.
//
// Tokens come sorted by bytes; each shares a prefix with its predecessor, and
// the sets reached after every prefix length are kept in levels, so a token
// only simulates the bytes after the shared prefix. When a prefix dies, every
// following token that shares it is decided without simulating anything: this
// is what makes a whole-vocabulary walk cheap when most tokens die on their
// first byte.
//
// Outcome per token:
//   kAccepted  - all its bytes were consumed (some stack survives).
//   kRejected  - every stack died inside the token, none left the bottom rule.
//   kEscaped   - no stack survived, but some left the bottom rule (popped to the
//                kEscape marker) before the end: the answer depends on the
//                context below the bottom rule (only with an kEscapeParent start).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/stack_machine.h"

namespace stencil::engine {

enum class TokenOutcome : uint8_t { kAccepted, kRejected, kEscaped };

class TokenWalker {
 public:
  // `start` is the set before any byte (copied).
  void begin(StackMachine& sm, std::span<const int32_t> start) {
    sm_ = &sm;
    buf_.assign(start.begin(), start.end());
    level_end_.assign(1, static_cast<uint32_t>(buf_.size()));
    level_nodes_.assign(1, sm.nodes_size());
    escaped_.assign(1, set_has(start, kEscape));
    depth_ = 0;
    prev_ = {};
  }

  // The outcome of the next token (in trie order).
  TokenOutcome next(std::string_view bytes) {
    size_t shared = 0;
    while (shared < prev_.size() && shared < bytes.size() && prev_[shared] == bytes[shared]) ++shared;
    prev_ = bytes;
    int32_t d = static_cast<int32_t>(std::min<size_t>(shared, static_cast<size_t>(depth_)));
    if (level_size(d) == 0) {  // this prefix already died
      depth_ = d;
      return escaped_[d] ? TokenOutcome::kEscaped : TokenOutcome::kRejected;
    }
    // Drop deeper levels.
    buf_.resize(level_end_[d]);
    level_end_.resize(d + 1);
    escaped_.resize(d + 1);
    level_nodes_.resize(d + 1);
    sm_->truncate(level_nodes_[d]);
    for (size_t j = static_cast<size_t>(d); j < bytes.size(); ++j) {
      const uint32_t begin = j == 0 ? 0 : level_end_[j - 1];
      const std::span<const int32_t> in(buf_.data() + begin, level_end_[j] - begin);
      scratch_.clear();
      sm_->advance(in, static_cast<uint8_t>(bytes[j]), scratch_);
      buf_.insert(buf_.end(), scratch_.begin(), scratch_.end());
      level_end_.push_back(static_cast<uint32_t>(buf_.size()));
      level_nodes_.push_back(sm_->nodes_size());
      escaped_.push_back(escaped_[j] || set_has(scratch_, kEscape));
      depth_ = static_cast<int32_t>(j + 1);
      if (scratch_.empty()) return escaped_[j] ? TokenOutcome::kEscaped : TokenOutcome::kRejected;
    }
    depth_ = static_cast<int32_t>(bytes.size());
    return TokenOutcome::kAccepted;
  }

  // The set after the last token's bytes (valid right after next() returned kAccepted).
  std::span<const int32_t> last_set() const {
    const uint32_t begin = depth_ == 0 ? 0 : level_end_[depth_ - 1];
    return {buf_.data() + begin, level_end_[depth_] - begin};
  }

  // Undo every node the walk created.
  void end() {
    if (sm_ != nullptr && !level_nodes_.empty()) sm_->truncate(level_nodes_[0]);
    sm_ = nullptr;
  }

 private:
  uint32_t level_size(int32_t d) const { return level_end_[d] - (d == 0 ? 0 : level_end_[d - 1]); }

  StackMachine* sm_ = nullptr;
  std::vector<int32_t> buf_;          // the sets of all levels, concatenated
  std::vector<uint32_t> level_end_;   // (depth + 1,) end of level d's set in buf_
  std::vector<int32_t> level_nodes_;  // (depth + 1,) arena size when level d was made
  std::vector<bool> escaped_;         // (depth + 1,) some stack escaped at or before level d
  std::vector<int32_t> scratch_;
  std::string_view prev_;
  int32_t depth_ = 0;
};

}  // namespace stencil::engine
