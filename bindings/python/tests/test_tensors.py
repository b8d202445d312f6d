"""allocate_token_bitmask and apply_token_bitmask_inplace on numpy arrays (and torch when present)."""

from __future__ import annotations

import numpy as np
import pytest

import stencil


def bitmask_allowing(rows: list[set[int]], vocab_size: int) -> np.ndarray:
    bitmask = np.zeros((len(rows), stencil.bitmask_words(vocab_size)), dtype=np.int32)
    view = bitmask.view(np.uint32)
    for r, ids in enumerate(rows):
        for i in ids:
            view[r, i // 32] |= np.uint32(1) << np.uint32(i % 32)
    return bitmask


def expected(logits: np.ndarray, rows: list[set[int]], vocab_size: int) -> np.ndarray:
    out = logits.copy().reshape(-1, logits.shape[-1])
    for r in range(out.shape[0]):
        ids = rows[r if len(rows) > 1 else 0]
        for i in range(out.shape[1]):
            if i not in ids or i >= vocab_size:
                out[r, i] = -np.inf
    return out.reshape(logits.shape)


def test_allocate_token_bitmask():
    bitmask = stencil.allocate_token_bitmask(4, 100)
    assert bitmask.shape == (4, 4) and bitmask.dtype == np.int32
    assert (bitmask == -1).all()  # everything allowed until a matcher fills it
    assert stencil.bitmask_words(32) == 1 and stencil.bitmask_words(33) == 2
    with pytest.raises(stencil.ArgumentError):
        stencil.allocate_token_bitmask(0, 100)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
def test_apply_masks_exactly_the_clear_bits(dtype):
    rng = np.random.default_rng(0)
    vocab = 70
    rows = [set(rng.choice(vocab, 9, replace=False).tolist()), {0, 31, 32, 69}, set()]
    logits = rng.standard_normal((3, vocab)).astype(dtype)
    want = expected(logits, rows, vocab)
    stencil.apply_token_bitmask_inplace(logits, bitmask_allowing(rows, vocab))
    assert np.array_equal(logits, want)


def test_apply_1d_and_one_row_for_all():
    logits = np.zeros(40, dtype=np.float32)
    stencil.apply_token_bitmask_inplace(logits, bitmask_allowing([{3, 39}], 40)[0])
    assert np.isfinite(logits).nonzero()[0].tolist() == [3, 39]
    batch = np.zeros((2, 40), dtype=np.float32)
    stencil.apply_token_bitmask_inplace(batch, bitmask_allowing([{5}], 40))
    assert [np.isfinite(r).nonzero()[0].tolist() for r in batch] == [[5], [5]]


def test_vocab_size_masks_padded_logits():
    # The model's logit vector is wider than the vocabulary: padding ids are never allowed.
    logits = np.zeros((1, 64), dtype=np.float32)
    stencil.apply_token_bitmask_inplace(logits, np.full((1, 2), -1, dtype=np.int32), vocab_size=50)
    assert np.isfinite(logits[0]).sum() == 50
    with pytest.raises(stencil.ArgumentError, match="does not fit"):
        stencil.apply_token_bitmask_inplace(logits, np.full((1, 2), -1, dtype=np.int32), vocab_size=65)


def test_indices_limit_the_rows():
    logits = np.zeros((3, 32), dtype=np.float32)
    stencil.apply_token_bitmask_inplace(logits, bitmask_allowing([{1}, {2}, {3}], 32), indices=[1])
    assert np.isfinite(logits[0]).all() and np.isfinite(logits[2]).all()
    assert np.isfinite(logits[1]).nonzero()[0].tolist() == [2]


def test_non_contiguous_float32_logits():
    base = np.zeros((2, 64), dtype=np.float32)
    view = base[:, ::2]  # strided: the numpy path, not the C++ kernel
    stencil.apply_token_bitmask_inplace(view, bitmask_allowing([{0}, {1}], 32))
    assert np.isfinite(base).sum() == 64 + 2  # odd columns untouched, one allowed per row


@pytest.mark.parametrize(
    "logits, bitmask, message",
    [
        (np.zeros((2, 32), dtype=np.int32), np.zeros((2, 1), np.int32), "floating point"),
        (np.zeros((2, 32), dtype=np.float32), np.zeros((2, 1), np.int64), "32-bit"),
        (np.zeros((3, 32), dtype=np.float32), np.zeros((2, 1), np.int32), "pass indices"),
        ([0.0] * 32, np.zeros((1, 1), np.int32), "numpy array"),
    ],
)
def test_apply_rejects(logits, bitmask, message):
    with pytest.raises(stencil.ArgumentError, match=message):
        stencil.apply_token_bitmask_inplace(logits, bitmask)


def test_apply_after_a_real_fill(small_compiler):
    matcher = stencil.Matcher(small_compiler.compile_regex("[ab]"))
    size = matcher.vocab_size
    bitmask = stencil.allocate_token_bitmask(1, size)
    matcher.fill_next_token_bitmask(bitmask)
    logits = np.ones((1, size), dtype=np.float32)
    stencil.apply_token_bitmask_inplace(logits, bitmask)
    assert np.isfinite(logits[0]).nonzero()[0].tolist() == [ord("a"), ord("b")]


def test_torch_tensors():
    torch = pytest.importorskip("torch", reason="torch is not installed; the numpy paths are tested above")
    logits = torch.zeros((2, 40))
    bitmask = torch.from_numpy(bitmask_allowing([{1, 33}, {2}], 40))
    stencil.apply_token_bitmask_inplace(logits, bitmask)
    assert torch.isfinite(logits).nonzero().tolist() == [[0, 1], [0, 33], [1, 2]]
    filled = torch.zeros((1, 2), dtype=torch.int32)
    matcher_vocab = stencil.Vocabulary.from_tokens([b"a", b"b", b"</s>"], [2])
    matcher = stencil.Matcher(stencil.Compiler(matcher_vocab).compile_regex("b"))
    matcher.fill_next_token_bitmask(filled)
    assert filled[0, 0].item() == 0b10


def test_torch_is_not_imported():
    import subprocess
    import sys

    code = "import sys, stencil; stencil.allocate_token_bitmask(1, 8); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
