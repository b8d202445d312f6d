"""stencil.BatchFiller: a batch of masks in one call, in parallel, with the GIL released."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import stencil
from gil import longest_stall, slow_first_visits
from mask_helpers import allowed_ids

SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["id", "tags"],
}
PREFIXES = ['', '{', '{"id": 1', '{"id": 12, "tags": [', '{"id": 3, "tags": ["a', '{"id": 3, "tags": []}']


def matchers_at(grammar, count):
    matchers = []
    for i in range(count):
        matcher = stencil.Matcher(grammar)
        assert matcher.accept_string(PREFIXES[i % len(PREFIXES)])
        matchers.append(matcher)
    return matchers


def sequential(matchers, vocab_size):
    bitmask = stencil.allocate_token_bitmask(len(matchers), vocab_size)
    for row, matcher in enumerate(matchers):
        matcher.fill_next_token_bitmask(bitmask, row)
    return bitmask


@pytest.fixture(scope="module")
def grammar(llama3_compiler):
    return llama3_compiler.compile_json_schema(SCHEMA)


def test_batch_equals_sequential(grammar):
    matchers = matchers_at(grammar, 13)
    size = grammar.vocabulary.size
    want = sequential(matchers, size)
    assert len({row.tobytes() for row in want}) == len(PREFIXES)  # the rows really differ
    for threads in (1, 2, 4):
        filler = stencil.BatchFiller(threads)
        assert filler.threads == threads
        got = stencil.allocate_token_bitmask(13, size)
        filler.fill(matchers, got)
        assert np.array_equal(got, want)


def test_rows_past_the_matchers_are_left_alone(grammar):
    matchers = matchers_at(grammar, 2)
    bitmask = stencil.allocate_token_bitmask(4, grammar.vocabulary.size)
    stencil.BatchFiller(2).fill(matchers, bitmask)
    assert (bitmask[2:] == -1).all()
    assert np.array_equal(bitmask[:2], sequential(matchers, grammar.vocabulary.size))


def test_threads_filling_concurrently_equal_sequential(grammar):
    size = grammar.vocabulary.size
    filler = stencil.BatchFiller(2)  # shared: concurrent calls take turns on its pool
    batches = [matchers_at(grammar, 8 + i) for i in range(6)]
    for i, batch in enumerate(batches):  # advance each batch differently
        for matcher in batch[i % 3 ::3]:
            matcher.fill_next_token_bitmask(stencil.allocate_token_bitmask(1, size))
    want = [sequential(batch, size) for batch in batches]
    results: dict[int, list[np.ndarray]] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            own = stencil.BatchFiller(2) if i % 2 else filler  # a shared pool and private pools
            out = []
            for _ in range(20):
                bitmask = stencil.allocate_token_bitmask(len(batches[i]), size)
                own.fill(batches[i], bitmask)
                out.append(bitmask)
            results[i] = out
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i, out in results.items():
        for bitmask in out:
            assert np.array_equal(bitmask, want[i])
    assert len(results) == len(batches)


def test_fill_releases_the_gil(llama3_vocab):
    # First visits of lazily computed states are the slow fills.
    compiler = stencil.Compiler(llama3_vocab, threads=1, eager_mask_states=0)
    grammar, prefixes = slow_first_visits(compiler, 128)
    matchers = []
    for prefix in prefixes:
        matcher = stencil.Matcher(grammar)
        assert matcher.accept_string(prefix)
        matchers.append(matcher)
    bitmask = stencil.allocate_token_bitmask(len(matchers), llama3_vocab.size)
    duration, stall = longest_stall(lambda: stencil.BatchFiller(1).fill(matchers, bitmask))
    assert duration > 0.05, f"the fill took {duration * 1000:.1f} ms: too short to tell"
    assert stall < duration / 2, f"ticker stalled {stall * 1000:.1f} ms of a {duration * 1000:.1f} ms fill"


def test_fill_rejects(grammar):
    size = grammar.vocabulary.size
    matchers = matchers_at(grammar, 3)
    filler = stencil.BatchFiller(1)
    with pytest.raises(stencil.ArgumentError, match="3 matchers for a bitmask of 2 rows"):
        filler.fill(matchers, stencil.allocate_token_bitmask(2, size))
    with pytest.raises(stencil.ArgumentError, match="2-D"):
        filler.fill(matchers, stencil.allocate_token_bitmask(1, size)[0])
    with pytest.raises(stencil.ArgumentError, match="words per row"):
        filler.fill(matchers, stencil.allocate_token_bitmask(3, 64))
    with pytest.raises(TypeError, match=r"matchers\[0\] is object"):
        filler.fill([object()], stencil.allocate_token_bitmask(1, size))
    with pytest.raises(stencil.ArgumentError):
        stencil.BatchFiller(-1)


def test_accept_tokens_equals_accept_token_per_row(grammar):
    vocab = grammar.vocabulary
    batch = matchers_at(grammar, 6)
    twins = matchers_at(grammar, 6)
    # Per row: the smallest allowed id, except row 1 (a rejected id) and row 4 (out of range).
    bitmask = sequential(batch, vocab.size)
    tokens = [min(allowed_ids(bitmask[i], vocab.size)) for i in range(6)]
    tokens[1] = next(t for t in range(vocab.size) if t not in allowed_ids(bitmask[1], vocab.size))
    tokens[4] = -1
    accepted = stencil.accept_tokens(batch, np.array(tokens, dtype=np.int64))
    assert accepted.dtype == np.bool_
    assert accepted.tolist() == [m.accept_token(t) for m, t in zip(twins, tokens)]
    assert accepted.tolist() == [True, False, True, True, False, True]
    assert np.array_equal(sequential(batch, vocab.size), sequential(twins, vocab.size))
    assert stencil.accept_tokens((), []).tolist() == []
    with pytest.raises(stencil.ArgumentError, match="one token per matcher"):
        stencil.accept_tokens(batch, tokens[:5])
    with pytest.raises(TypeError, match="expected stencil.Matcher"):
        stencil.accept_tokens([batch[0], "x"], [0, 0])
