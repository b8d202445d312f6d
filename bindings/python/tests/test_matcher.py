"""stencil.Matcher: each call, and masks checked against accept_token over every id."""

from __future__ import annotations

import numpy as np
import pytest

import stencil
from conftest import SMALL_EOS, small_id
from mask_helpers import allowed_ids

BOOL_PAIR = {"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"]}


@pytest.fixture()
def matcher(small_compiler) -> stencil.Matcher:
    return stencil.Matcher(small_compiler.compile_json_schema(BOOL_PAIR, whitespace="compact"))


def mask_of(matcher: stencil.Matcher, **kwargs) -> set[int]:
    bitmask = stencil.allocate_token_bitmask(1, matcher.vocab_size)
    matcher.fill_next_token_bitmask(bitmask, **kwargs)
    return allowed_ids(bitmask[0], matcher.vocab_size)


def accepted_ids(matcher: stencil.Matcher) -> set[int]:
    """The oracle: the ids a fork of the matcher accepts, tried one by one."""
    return {t for t in range(matcher.vocab_size) if matcher.fork().accept_token(t)}


def test_walk_a_document(matcher):
    assert mask_of(matcher) == {ord("{"), small_id(b'{"')}
    assert matcher.forced_bytes() == b'{"a":'
    assert matcher.accept_token(small_id(b'{"'))
    assert matcher.accept_string("a")
    assert matcher.accept_token(small_id(b'":'))
    assert mask_of(matcher) == {ord("t"), ord("f"), small_id(b"true"), small_id(b"false")}
    assert not matcher.accept_token(small_id(b"null"))  # rejected, state unchanged
    assert matcher.accept_token(small_id(b"true"))
    assert matcher.forced_bytes() == b"}"
    assert not matcher.can_terminate() and matcher.min_bytes_to_end() == 1
    assert matcher.accept_token(ord("}"))
    assert matcher.can_terminate() and not matcher.is_terminated()
    assert mask_of(matcher) == {SMALL_EOS}
    assert matcher.accept_token(SMALL_EOS)
    assert matcher.is_terminated()
    assert mask_of(matcher) == {SMALL_EOS}  # after termination only EOS


def test_masks_equal_accept_token_over_every_id(matcher):
    for step in [b'{"', b"a", b'":', b"f", b"als", b"e", b"}"]:
        assert mask_of(matcher) == accepted_ids(matcher)
        assert matcher.accept_string(step)
    assert mask_of(matcher) == accepted_ids(matcher) == {SMALL_EOS}


def test_masks_equal_accept_token_on_a_real_vocabulary(llama3_compiler):
    grammar = llama3_compiler.compile_json_schema({"type": "object", "properties": {"n": {"type": "integer"}},
                                                   "required": ["n"]})
    matcher = stencil.Matcher(grammar)
    for step in ['{"n": ', "-1", "2"]:
        assert matcher.accept_string(step)
        mask = mask_of(matcher)
        assert mask == accepted_ids(matcher)
        assert 0 < len(mask) < matcher.vocab_size


def test_accept_string_bytes_and_rejection(matcher):
    assert not matcher.accept_string('{"b"')  # no byte of a rejected string is kept
    assert matcher.accept_string(b'{"a"')
    with pytest.raises(TypeError):
        matcher.accept_string(3)


def test_accept_token_out_of_range_is_false(matcher):
    assert not matcher.accept_token(-1)
    assert not matcher.accept_token(matcher.vocab_size)


def test_rollback_and_reset(matcher):
    start = mask_of(matcher)
    assert matcher.accept_token(small_id(b'{"'))
    after_open = mask_of(matcher)
    assert matcher.accept_string("a")
    assert matcher.rollback(1)
    assert mask_of(matcher) == after_open
    assert matcher.rollback()  # n defaults to 1
    assert mask_of(matcher) == start
    assert not matcher.rollback(1)  # nothing left to undo
    assert matcher.accept_string('{"a":true}') and matcher.accept_token(SMALL_EOS)
    matcher.reset()
    assert not matcher.is_terminated() and mask_of(matcher) == start
    assert not matcher.rollback(1)  # history cleared


def test_rollback_bound(small_compiler):
    grammar = small_compiler.compile_regex("a*")
    matcher = stencil.Matcher(grammar, max_rollback_tokens=20)
    for _ in range(100):
        assert matcher.accept_token(ord("a"))
    # At least 20 steps are kept; older ones are dropped in chunks, so 60 back is gone.
    assert not matcher.rollback(60)
    assert matcher.rollback(20)


def test_fork_is_independent(matcher):
    assert matcher.accept_token(small_id(b'{"'))
    copy = matcher.fork()
    assert copy.accept_string('a":')
    assert mask_of(matcher) == {ord("a")} and mask_of(copy) != {ord("a")}


def test_fill_one_row_of_a_batch_and_1d(matcher):
    batch = stencil.allocate_token_bitmask(3, matcher.vocab_size)
    before = batch.copy()
    matcher.fill_next_token_bitmask(batch, index=2)
    assert (batch[:2] == before[:2]).all()
    assert allowed_ids(batch[2], matcher.vocab_size) == {ord("{"), small_id(b'{"')}
    row = np.zeros(stencil.bitmask_words(matcher.vocab_size), dtype=np.uint32)
    matcher.fill_next_token_bitmask(row)
    assert (row.view(np.int32) == batch[2]).all()


def test_fill_clears_extra_words(matcher):
    wide = np.full((1, stencil.bitmask_words(matcher.vocab_size) + 3), -1, dtype=np.int32)
    matcher.fill_next_token_bitmask(wide)
    assert (wide[0, -3:] == 0).all()


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((1, 9), dtype=np.int64), "32-bit"),
        (np.zeros((1, 2), dtype=np.int32), "words per row"),
        (np.zeros((1, 1, 9), dtype=np.int32), "dimensions"),
        (np.zeros((9, 2), dtype=np.int32).T, "contiguous"),
        ([0] * 9, "numpy array"),
    ],
)
def test_fill_rejects_bad_bitmasks(matcher, bad, message):
    with pytest.raises(stencil.ArgumentError, match=message):
        matcher.fill_next_token_bitmask(bad)


def test_fill_rejects_a_read_only_bitmask_and_bad_index(matcher):
    bitmask = stencil.allocate_token_bitmask(2, matcher.vocab_size)
    with pytest.raises(stencil.ArgumentError, match="row 2"):
        matcher.fill_next_token_bitmask(bitmask, 2)
    bitmask.flags.writeable = False
    with pytest.raises(stencil.ArgumentError, match="writable"):
        matcher.fill_next_token_bitmask(bitmask)


def test_budget_aware_fill(small_compiler):
    grammar = small_compiler.compile_regex("a(b|cccc)")
    matcher = stencil.Matcher(grammar)
    assert matcher.accept_token(ord("a"))
    assert mask_of(matcher) == {ord("b"), ord("c")}
    # One token left: only "b" still ends in time ("ab" is no piece of this vocabulary's path).
    assert mask_of(matcher, max_tokens_left=1) == {ord("b")}
    with pytest.raises(stencil.ArgumentError):
        mask_of(matcher, max_tokens_left=-1)


def test_properties_and_repr(matcher, small_vocab):
    assert matcher.vocab_size == small_vocab.size
    assert matcher.grammar.vocabulary.size == small_vocab.size
    assert repr(matcher) == "<stencil.Matcher open>"
