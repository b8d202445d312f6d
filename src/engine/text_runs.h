// Text runs: classifying whole subtrees of the vocabulary trie at once.
//
// Most tokens are text: letters, digits, spaces, punctuation, UTF-8 words. Most
// states a mask is computed for read text uniformly: inside a JSON string body
// every text character leads to the same next state (the same state again when
// the string is unbounded, the "one more character" state under maxLength).
// When a state reads every text character that way for at least as many
// characters as the longest token below a trie node, every token below the node
// is accepted without walking it: the walk skips the subtree and appends its
// slice of token ids. This is what takes a string body's first-visit mask from
// a walk of the whole vocabulary to a walk of its few non-text tokens.
//
// Two alphabets: ASCII text (is_text_byte: one byte, one character) and UTF-8
// text (those plus every valid multi-byte character). The vocabulary side (how
// many characters the tokens below each trie node hold, if they are all text) is
// in SortedVocab; the automaton side is here.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/automaton.h"

namespace stencil::engine {

struct TextRuns {
  // Runs longer than any token are all alike.
  static constexpr int32_t kLong = 255;

  // (states,) how many ASCII text bytes in a row the state reads through plain
  // states (not final, no calls), every text byte of a step leading to the same state.
  std::vector<int32_t> ascii_steps;
  // (states,) the same in UTF-8 characters: every valid character (one to four
  // bytes, through plain states) of a step leading to that same state.
  std::vector<int32_t> utf8_steps;
  // (states,) the state every valid character leads to (see utf8_steps), or -1. A state that is
  // its own is an endless run that never leaves itself: reading text there changes nothing.
  std::vector<int32_t> utf8_next;
  // (states,) the most min_bytes_to_end over the states a run passes: a bound for
  // the bytes a token read in the run leaves to the end of the rule.
  std::vector<int32_t> bytes_to_end;
  // (states,) the UTF-8 run ends in a state that reads no text character (no
  // edge on a text byte or a multi-byte lead), or never ends: a token of more
  // characters than the run dies in it. Lets the mask cache classify every
  // text token of a run's first state by its character count alone.
  std::vector<uint8_t> utf8_closed;

  // `plain` is (states,) not final and no calls.
  static TextRuns build(const Automaton& automaton, const std::vector<uint8_t>& plain);
};

}  // namespace stencil::engine
