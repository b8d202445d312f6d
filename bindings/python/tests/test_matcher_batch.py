"""stencil.MatcherBatch: a batch's matchers gathered once; one call per step to fill, one to accept."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import stencil
from gil import longest_stall, slow_first_visits
from mask_helpers import allowed_ids
from test_batch import PREFIXES, SCHEMA, matchers_at, sequential


@pytest.fixture(scope="module")
def grammar(llama3_compiler):
    return llama3_compiler.compile_json_schema(SCHEMA)


@pytest.fixture(scope="module")
def other_grammar(llama3_compiler):
    return llama3_compiler.compile_regex("(yes|no)")


def advance(batch, count):
    """Puts row i of an owned batch at PREFIXES[i % len(PREFIXES)], as matchers_at does."""
    for i in range(count):
        assert batch[i].accept_string(PREFIXES[i % len(PREFIXES)])


def test_owned_batch_equals_per_matcher_fill(grammar):
    size = grammar.vocabulary.size
    want = sequential(matchers_at(grammar, 13), size)
    assert len({row.tobytes() for row in want}) == len(PREFIXES)  # the rows really differ
    for threads in (1, 2, 4):
        batch = stencil.MatcherBatch(grammar, 13, threads=threads)
        assert len(batch) == 13 and batch.threads == threads and batch.words == stencil.bitmask_words(size)
        advance(batch, 13)
        got = stencil.allocate_token_bitmask(13, size)
        batch.fill_next_token_bitmask(got)
        assert np.array_equal(got, want)
        # The same as each row's own fill, and as BatchFiller over the rows.
        assert np.array_equal(sequential(list(batch), size), want)
        again = stencil.allocate_token_bitmask(13, size)
        stencil.BatchFiller(threads).fill(list(batch), again)
        assert np.array_equal(again, want)


def test_rows_are_matchers_and_share_state(grammar):
    batch = stencil.MatcherBatch(grammar, 3, threads=1)
    row = batch[1]
    assert isinstance(row, stencil.Matcher)
    assert batch[1] is row and batch[-2] is row  # one Python object per row while it lives
    assert row.accept_string("{")
    bitmask = stencil.allocate_token_bitmask(3, grammar.vocabulary.size)
    batch.fill_next_token_bitmask(bitmask)
    assert np.array_equal(bitmask[1], sequential(matchers_at(grammar, 2)[1:], grammar.vocabulary.size)[0])
    assert [m.can_terminate() for m in batch] == [False, False, False]  # iteration via __getitem__
    with pytest.raises(IndexError):
        batch[3]
    with pytest.raises(IndexError):
        batch[-4]


def test_a_row_keeps_its_batch_alive(grammar):
    batch = stencil.MatcherBatch(grammar, 2, threads=1)
    row = batch[0]
    del batch
    gc.collect()
    assert row.accept_string('{"id": 1')  # would touch freed memory if the batch were gone
    assert not row.can_terminate()


def test_one_grammar_per_row(grammar, other_grammar):
    size = grammar.vocabulary.size
    grammars = [grammar, other_grammar, grammar]
    batch = stencil.MatcherBatch(grammars, threads=2)
    assert len(batch) == 3
    got = stencil.allocate_token_bitmask(3, size)
    batch.fill_next_token_bitmask(got)
    want = sequential([stencil.Matcher(g) for g in grammars], size)
    assert np.array_equal(got, want)
    assert not np.array_equal(got[0], got[1])
    assert len(stencil.MatcherBatch(grammars, 3)) == 3
    with pytest.raises(stencil.ArgumentError, match="3 grammars and batch_size 2"):
        stencil.MatcherBatch(grammars, 2)


def test_from_matchers_refers_to_them(grammar):
    size = grammar.vocabulary.size
    matchers = matchers_at(grammar, 7)
    batch = stencil.MatcherBatch.from_matchers(matchers, threads=2)
    assert len(batch) == 7 and all(batch[i] is matchers[i] for i in range(7))
    got = stencil.allocate_token_bitmask(7, size)
    batch.fill_next_token_bitmask(got)
    assert np.array_equal(got, sequential(matchers, size))
    # State is shared: a token accepted through the batch shows in the list, and the reverse.
    token = min(allowed_ids(got[0], size))
    tokens = np.full(7, -1, dtype=np.int32)  # -1: rejected, those rows stay as they are
    tokens[0] = token
    assert batch.accept_tokens(tokens).tolist() == [True] + [False] * 6
    assert not np.array_equal(sequential(matchers[:1], size)[0], got[0])
    assert matchers[0].rollback(1)
    batch.fill_next_token_bitmask(got)
    assert np.array_equal(got, sequential(matchers_at(grammar, 7), size))
    del matchers
    gc.collect()
    assert isinstance(batch[6], stencil.Matcher)  # kept alive by the batch
    with pytest.raises(TypeError, match=r"matchers\[1\] is str"):
        stencil.MatcherBatch.from_matchers([stencil.Matcher(grammar), "x"])


def test_rows_past_the_batch_are_left_alone(grammar):
    batch = stencil.MatcherBatch(grammar, 2, threads=1)
    bitmask = stencil.allocate_token_bitmask(4, grammar.vocabulary.size)
    batch.fill_next_token_bitmask(bitmask)
    assert (bitmask[2:] == -1).all()
    assert np.array_equal(bitmask[:2], sequential([stencil.Matcher(grammar)] * 2, grammar.vocabulary.size))
    empty = stencil.MatcherBatch(grammar, 0)
    empty.fill_next_token_bitmask(bitmask)
    assert empty.accept_tokens([]).tolist() == []


def test_accept_tokens_equals_accept_token_per_row(grammar):
    vocab = grammar.vocabulary
    batch = stencil.MatcherBatch(grammar, 6, threads=1)
    advance(batch, 6)
    twins = matchers_at(grammar, 6)
    bitmask = sequential(twins, vocab.size)
    # Per row: the smallest allowed id, except row 1 (a rejected id) and row 4 (out of range).
    tokens = [min(allowed_ids(bitmask[i], vocab.size)) for i in range(6)]
    tokens[1] = next(t for t in range(vocab.size) if t not in allowed_ids(bitmask[1], vocab.size))
    tokens[4] = -1
    accepted = batch.accept_tokens(np.array(tokens, dtype=np.int64))
    assert accepted.dtype == np.bool_
    assert accepted.tolist() == [m.accept_token(t) for m, t in zip(twins, tokens)]
    assert accepted.tolist() == [True, False, True, True, False, True]
    assert np.array_equal(sequential(list(batch), vocab.size), sequential(twins, vocab.size))
    with pytest.raises(stencil.ArgumentError, match="one token per row"):
        batch.accept_tokens(tokens[:5])


def test_a_walk_equals_per_matcher_fills(grammar):
    """Many steps of fill + accept_tokens + reset give the per-matcher masks at every step."""
    size = grammar.vocabulary.size
    eos = set(grammar.vocabulary.eos_ids)
    batch = stencil.MatcherBatch(grammar, 8, threads=2)
    twins = [stencil.Matcher(grammar) for _ in range(8)]
    bitmask = stencil.allocate_token_bitmask(8, size)
    for step in range(40):
        batch.fill_next_token_bitmask(bitmask)
        want = sequential(twins, size)
        assert np.array_equal(bitmask, want), f"step {step}"
        tokens = []
        for i in range(8):
            allowed = sorted(t for t in allowed_ids(want[i], size) if t not in eos)
            tokens.append(allowed[(i * 7919 + step * 104729) % len(allowed)] if allowed else -1)
        assert batch.accept_tokens(tokens).tolist() == [m.accept_token(t) for m, t in zip(twins, tokens)]
        for i, t in enumerate(tokens):
            if t == -1:
                batch[i].reset()
                twins[i].reset()


def test_threads_using_batches_concurrently_equal_sequential(grammar):
    size = grammar.vocabulary.size
    shared = stencil.MatcherBatch(grammar, 9, threads=2)  # filled by several threads at once: they take turns
    advance(shared, 9)
    want_shared = sequential(list(shared), size)
    own = [stencil.MatcherBatch(grammar, 8 + i, threads=1 + i % 2) for i in range(4)]
    for i, batch in enumerate(own):
        advance(batch, len(batch))
    want_own = [sequential(list(batch), size) for batch in own]
    errors: list[BaseException] = []
    results: dict[tuple[str, int], list[np.ndarray]] = {}

    def run(kind: str, i: int) -> None:
        try:
            batch, out = (shared if kind == "shared" else own[i]), []
            for _ in range(20):
                bitmask = stencil.allocate_token_bitmask(len(batch), size)
                batch.fill_next_token_bitmask(bitmask)
                out.append(bitmask)
            results[(kind, i)] = out
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=("shared", i)) for i in range(4)]
    threads += [threading.Thread(target=run, args=("own", i)) for i in range(len(own))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == len(threads)
    for (kind, i), out in results.items():
        want = want_shared if kind == "shared" else want_own[i]
        for bitmask in out:
            assert np.array_equal(bitmask, want)


def test_accept_and_fill_from_two_threads_take_turns(llama3_compiler):
    """accept_tokens on one thread while another fills: each fill sees a whole step, never half of one."""
    grammar = llama3_compiler.compile_regex("(ab)*")
    vocab = grammar.vocabulary
    size = vocab.size
    a, b = (next(t for t in range(size) if vocab.token_bytes(t) == c) for c in (b"a", b"b"))
    batch = stencil.MatcherBatch(grammar, 32, threads=1)
    even = sequential(list(batch), size)  # before an "a"
    odd_matcher = stencil.Matcher(grammar)
    assert odd_matcher.accept_token(a)
    odd = sequential([odd_matcher] * 32, size)  # before a "b"
    assert not np.array_equal(even[0], odd[0])
    masks: list[np.ndarray] = []

    def fill() -> None:
        for _ in range(300):
            bitmask = stencil.allocate_token_bitmask(32, size)
            batch.fill_next_token_bitmask(bitmask)
            masks.append(bitmask)

    filler = threading.Thread(target=fill)
    filler.start()
    steps = 0
    while filler.is_alive() or steps < 100:
        assert batch.accept_tokens(np.full(32, a if steps % 2 == 0 else b, dtype=np.int32)).all()
        steps += 1
    filler.join()
    if steps % 2:
        assert batch.accept_tokens(np.full(32, b, dtype=np.int32)).all()
    for bitmask in masks:
        # Every row before an "a" or every row before a "b": rows are never mixed within one fill.
        assert np.array_equal(bitmask, even) or np.array_equal(bitmask, odd)


def test_fill_releases_the_gil(llama3_vocab):
    # First visits of lazily computed states are the slow fills.
    compiler = stencil.Compiler(llama3_vocab, threads=1, eager_mask_states=0)
    grammar, prefixes = slow_first_visits(compiler, 128)
    batch = stencil.MatcherBatch(grammar, len(prefixes), threads=1)
    for i, prefix in enumerate(prefixes):
        assert batch[i].accept_string(prefix)
    bitmask = stencil.allocate_token_bitmask(len(prefixes), llama3_vocab.size)
    duration, stall = longest_stall(lambda: batch.fill_next_token_bitmask(bitmask))
    assert duration > 0.05, f"the fill took {duration * 1000:.1f} ms: too short to tell"
    assert stall < duration / 2, f"ticker stalled {stall * 1000:.1f} ms of a {duration * 1000:.1f} ms fill"


def test_rejects(grammar):
    size = grammar.vocabulary.size
    batch = stencil.MatcherBatch(grammar, 3, threads=1)
    with pytest.raises(stencil.ArgumentError, match="has 3 rows, the bitmask 2"):
        batch.fill_next_token_bitmask(stencil.allocate_token_bitmask(2, size))
    with pytest.raises(stencil.ArgumentError, match="2-D"):
        batch.fill_next_token_bitmask(stencil.allocate_token_bitmask(1, size)[0])
    with pytest.raises(stencil.ArgumentError, match="words per row"):
        batch.fill_next_token_bitmask(stencil.allocate_token_bitmask(3, 64))
    with pytest.raises(stencil.ArgumentError, match="C-contiguous"):
        batch.fill_next_token_bitmask(stencil.allocate_token_bitmask(6, size)[::2])
    with pytest.raises(stencil.ArgumentError, match="32-bit"):
        batch.fill_next_token_bitmask(np.zeros((3, stencil.bitmask_words(size)), dtype=np.int64))
    with pytest.raises(stencil.ArgumentError, match="batch_size is needed"):
        stencil.MatcherBatch(grammar)
    with pytest.raises(stencil.ArgumentError, match="batch_size must be >= 0"):
        stencil.MatcherBatch(grammar, -1)
    with pytest.raises(stencil.ArgumentError, match="threads"):
        stencil.MatcherBatch(grammar, 2, threads=-1)
    with pytest.raises(TypeError, match=r"grammars\[1\] is int"):
        stencil.MatcherBatch([grammar, 3])
    with pytest.raises(TypeError, match="from_matchers"):
        stencil.MatcherBatch(stencil.Matcher(grammar), 1)
