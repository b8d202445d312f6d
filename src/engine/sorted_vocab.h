// The vocabulary's ordinary tokens sorted by their bytes, and the trie that
// order implies, stored in preorder.
//
// Preorder makes a depth-first walk a plain loop over `nodes`, and skipping a
// dead prefix a jump to the node's `end`: a whole-vocabulary walk only touches
// the prefixes that stay alive (see mask_cache.cc).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "engine/byte_set.h"
#include "stencil/vocabulary.h"

namespace stencil::engine {

struct TrieNode {
  uint8_t byte;           // the byte that leads here from the parent
  uint16_t depth;         // bytes from the root (the root is node 0, depth 0)
  uint32_t end;           // one past the last node of this subtree (preorder)
  uint32_t tokens_begin;  // slice of SortedVocab::trie_tokens: tokens whose bytes end here
  uint32_t tokens_end;
};

// Printable ASCII other than `"` and `\`: the bytes a JSON string body (and
// most text classes of patterns and grammars) takes one for one. Whole trie
// subtrees made of these bytes are classified at once by the mask cache when
// a state reads them uniformly (see MaskCache, "text runs").
inline bool is_text_byte(uint8_t c) { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'; }
inline constexpr uint8_t kNotText = 0xff;

struct SortedVocab {
  std::vector<int32_t> ids;          // ordinary tokens with non-empty bytes, sorted by bytes
  std::vector<int32_t> rank;         // (vocab size,) position of a token in `ids`, -1 if not there
  std::vector<TrieNode> nodes;       // preorder trie of `ids`
  std::vector<int32_t> trie_tokens;  // token ids grouped by node (same order as `ids`)
  // (nodes + 1,) tokens ending at nodes before node k: the subtree of node k holds
  // trie_tokens[first_token[k], first_token[nodes[k].end]).
  std::vector<uint32_t> first_token;
  // (nodes,) how deep the subtree below node k goes (0 for a leaf) when every byte
  // below k is a text byte (is_text_byte), else kNotText. Capped at 254.
  std::vector<uint8_t> text_height;
  // (nodes,) the most UTF-8 characters below node k when what every token has
  // below k is a sequence of whole, well-formed characters, none of them an ASCII
  // byte other than a text byte; else kNotText. Capped at 254. (See text_runs.h.)
  std::vector<uint8_t> text_chars;
  // (vocab size,) how many UTF-8 characters a token is made of when it is whole,
  // well-formed text (as above, from its first byte); 0 for any other token.
  std::vector<uint8_t> token_text_chars;
  // (nodes,) some token at or below node k is not text (token_text_chars 0).
  std::vector<uint8_t> nontext_below;
  // (nodes + 1,) where a walk that skips all-text subtrees lands from node k: k itself if
  // nontext_below[k], else the same from the end of k's subtree (the node count at the end).
  // A string body's walk jumps over runs of all-text siblings in one step.
  std::vector<uint32_t> next_nontext;
  // (nodes,) how deep the subtree below node k goes, whatever its bytes (0 for a
  // leaf), capped at 255 meaning "255 or more".
  std::vector<uint8_t> height;
  // (nodes,) the bytes that occur below node k (not node k's own byte), as an index
  // into byte_sets; 0 is the empty set (a leaf). Subtrees share ~35k distinct sets
  // in Llama-3's 275k nodes. The class-run shortcut (class_runs.h) takes a subtree
  // whole when its set is inside a class a state reads for `height` bytes.
  std::vector<uint32_t> below_set;
  std::vector<ByteSet> byte_sets;
  // (256 * 256,) how many tokens start with the bytes (b1, b2), at b1 * 256 + b2; and the
  // tokens of one byte. How much of the vocabulary a character class could take in a run
  // (class_runs.h) in a few thousand loads.
  std::vector<uint32_t> pair_tokens;
  // The root's child for each first byte (0: no token starts with it). A walk from a state that
  // reads few first bytes goes straight to their subtrees instead of touching all the root's
  // children, which lie all over `nodes` (a cache miss each on a first visit).
  std::array<uint32_t, 256> root_child{};
  std::array<uint32_t, 256> one_byte_tokens{};
  std::vector<int32_t> by_length;    // the same ids, longest first (ties in trie order)
  std::vector<int32_t> by_length_bytes;  // (ids,) the byte length of by_length[i]
  int32_t max_token_bytes = 0;
  // The tokens that are not whole text (token_text_chars 0), each by the bytes after its longest
  // prefix of whole text characters: `"` in `abc",`, `\n` in `.\n`, a cut character at the end. A
  // state that reads every text character back to itself (an unbounded string body) reads such a
  // token's prefix and is where it started, so only the suffix decides the token: its mask walks
  // this trie of ~3k distinct suffixes (each node lists the tokens that end with it) instead of the
  // ~11k vocabulary trie nodes above non-text tokens (mask_cache.cc). The arrays indexed by token
  // id (rank, token_text_chars) and pair_tokens are empty here.
  std::shared_ptr<const SortedVocab> text_suffixes;
  // The same suffixes grouped by how many characters their token's whole-text prefix has: entry c
  // holds the tokens whose prefix is c characters (entry 0 also the few kept whole above). A state
  // that reads c characters in a row, each to the next state of a run (a string body under
  // maxLength), is in the run's c-th state after such a prefix, or dead if the run is shorter: its
  // mask walks entry c from there, for each c, instead of the whole vocabulary trie (mask_cache.cc).
  // Null where no token has a prefix of that length.
  std::vector<std::shared_ptr<const SortedVocab>> text_suffixes_after;
  // (vocab size,) the entry of text_suffixes_after each token that is not whole text is filed
  // under (its prefix's characters, 0 when kept whole); 0 for whole-text tokens. Lets a walk of
  // text_suffixes leave out the tokens of shorter prefixes.
  std::vector<uint8_t> text_prefix_chars;

  // The tokens of at least n bytes (a prefix of by_length).
  std::span<const int32_t> at_least(int32_t n) const;

  static SortedVocab build(const Vocabulary& vocab);
};

}  // namespace stencil::engine
