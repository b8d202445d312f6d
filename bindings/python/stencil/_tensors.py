"""Bitmask arrays and applying them to logits: numpy, and torch tensors when torch is installed.

The layout is the one vLLM, SGLang and XGrammar use: int32 words, bit (i % 32) of word (i // 32)
set = token i allowed. numpy float32 logits go to the C++ kernel; other numpy float dtypes are
masked with numpy. torch is never imported here: a tensor is recognised by duck typing
(``__dlpack__`` plus ``.numpy()`` or ``masked_fill_``), so stencil works without torch installed.
CPU tensors share their memory with numpy (``Tensor.numpy()``); tensors on other devices
(CUDA ...) are masked with torch's own operations on their device.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _core
from ._errors import ArgumentError


def bitmask_words(vocab_size: int) -> int:
    """32-bit words per bitmask row for a vocabulary of ``vocab_size`` ids."""
    return (vocab_size + 31) // 32


def allocate_token_bitmask(batch: int, vocab_size: int) -> np.ndarray:
    """A (batch, words) int32 bitmask with every token allowed (all bits set, as XGrammar does)."""
    if batch < 1 or vocab_size < 1:
        raise ArgumentError(f"allocate_token_bitmask needs batch >= 1 and vocab_size >= 1, got {batch}, {vocab_size}")
    return np.full((batch, bitmask_words(vocab_size)), -1, dtype=np.int32)


def _is_torch_tensor(obj: Any) -> bool:
    return hasattr(obj, "__dlpack__") and hasattr(obj, "masked_fill_") and hasattr(obj, "device")


def _cpu_numpy(tensor: Any, what: str) -> np.ndarray:
    if getattr(tensor.device, "type", "cpu") != "cpu":
        raise ArgumentError(f"{what} on device {tensor.device} cannot be filled in place from the CPU; use a CPU tensor")
    return tensor.numpy()  # shares memory: writes through to the tensor


def as_numpy_bitmask(obj: Any) -> np.ndarray:
    """A numpy view of a bitmask that is not a numpy array (a CPU torch tensor); raises otherwise."""
    if _is_torch_tensor(obj):
        return _cpu_numpy(obj, "a bitmask")
    raise ArgumentError(f"a bitmask must be a numpy array or a CPU torch tensor, got {type(obj).__name__}")


def _unpack_allowed(bitmask: np.ndarray, width: int) -> np.ndarray:
    """Boolean (rows, width) array: bit i of a row's words, False past the words."""
    words = np.ascontiguousarray(bitmask).view(np.uint32)
    bits = np.unpackbits(words.view(np.uint8), axis=-1, bitorder="little").astype(bool)
    if bits.shape[-1] < width:
        pad = np.zeros(bits.shape[:-1] + (width - bits.shape[-1],), dtype=bool)
        bits = np.concatenate([bits, pad], axis=-1)
    return bits[..., :width]


def _rows(logits_shape: Sequence[int], bitmask_shape: Sequence[int], indices: Sequence[int] | None):
    """(logits row, bitmask row) pairs, checked."""
    logit_rows = logits_shape[0] if len(logits_shape) == 2 else 1
    mask_rows = bitmask_shape[0] if len(bitmask_shape) == 2 else 1
    if len(logits_shape) not in (1, 2) or len(bitmask_shape) not in (1, 2):
        raise ArgumentError("logits and bitmask must be 1-D or 2-D")
    if indices is None:
        if mask_rows != logit_rows and mask_rows != 1:
            raise ArgumentError(f"logits have {logit_rows} rows but the bitmask has {mask_rows}; pass indices=")
        return [(r, r if mask_rows > 1 else 0) for r in range(logit_rows)]
    pairs = []
    for r in indices:
        if not 0 <= r < logit_rows or not 0 <= r < mask_rows:
            raise ArgumentError(f"row {r} is out of range ({logit_rows} logit rows, {mask_rows} bitmask rows)")
        pairs.append((r, r))
    return pairs


def apply_token_bitmask_inplace(
    logits: Any, bitmask: Any, *, vocab_size: int | None = None, indices: Sequence[int] | None = None
) -> None:
    """Sets every logit whose bit is clear to -inf, in place.

    ``logits`` is (vocab,) or (batch, vocab), ``bitmask`` (words,) or (batch, words); a 1-row
    bitmask applies to every row. ``vocab_size`` is the vocabulary's size: ids at or past it are
    masked too (padded logit vectors); default: the smaller of the logit width and 32 * words.
    ``indices`` limits the work to those rows (row i of logits with row i of the bitmask).
    numpy float arrays and torch tensors (any device) are accepted.
    """
    if _is_torch_tensor(logits):
        _apply_torch(logits, bitmask, vocab_size, indices)
        return
    if not isinstance(logits, np.ndarray):
        raise ArgumentError(f"logits must be a numpy array or a torch tensor, got {type(logits).__name__}")
    if logits.dtype.kind != "f":
        raise ArgumentError(f"logits must be floating point, got dtype {logits.dtype}")
    if not logits.flags.writeable:
        raise ArgumentError("logits must be writable")
    if not isinstance(bitmask, np.ndarray):
        bitmask = as_numpy_bitmask(bitmask)
    if bitmask.dtype.itemsize != 4 or bitmask.dtype.kind not in "iu":
        raise ArgumentError(f"a bitmask must hold 32-bit integers, got dtype {bitmask.dtype}")
    width = logits.shape[-1]
    words = bitmask.shape[-1]
    if vocab_size is None:
        vocab_size = min(width, 32 * words)
    if not 0 < vocab_size <= 32 * words:
        raise ArgumentError(f"vocab_size {vocab_size} does not fit a bitmask of {words} words")
    pairs = _rows(logits.shape, bitmask.shape, indices)
    masks = bitmask.reshape(-1, words)
    view = logits.reshape(1, width) if logits.ndim == 1 else logits
    if logits.dtype == np.float32 and logits.flags.c_contiguous:
        if indices is None and logits.ndim == 2 and masks.shape[0] == logits.shape[0]:
            _core._apply_token_bitmask_f32(logits, masks, vocab_size)  # one call, rows paired
        else:
            for logit_row, mask_row in pairs:
                _core._apply_token_bitmask_f32(view[logit_row], masks[mask_row], vocab_size)
        return
    for logit_row, mask_row in pairs:
        allowed = _unpack_allowed(masks[mask_row], width)
        allowed[vocab_size:] = False
        view[logit_row, ~allowed] = -np.inf


def _apply_torch(logits: Any, bitmask: Any, vocab_size: int | None, indices: Sequence[int] | None) -> None:
    # Untested here (no torch in the test environment); written against torch's public API only.
    import torch  # present: logits is a torch tensor

    if not isinstance(bitmask, torch.Tensor):
        bitmask = torch.from_numpy(np.ascontiguousarray(bitmask))
    bitmask = bitmask.to(device=logits.device, dtype=torch.int32)
    width = logits.shape[-1]
    words = bitmask.shape[-1]
    if vocab_size is None:
        vocab_size = min(width, 32 * words)
    if not 0 < vocab_size <= 32 * words:
        raise ArgumentError(f"vocab_size {vocab_size} does not fit a bitmask of {words} words")
    pairs = _rows(tuple(logits.shape), tuple(bitmask.shape), indices)
    shifts = torch.arange(32, device=logits.device, dtype=torch.int32)
    masks = bitmask.reshape(-1, words)
    allowed = ((masks.unsqueeze(-1) >> shifts) & 1).bool().reshape(masks.shape[0], -1)
    if allowed.shape[1] < width:
        allowed = torch.nn.functional.pad(allowed, (0, width - allowed.shape[1]), value=False)
    allowed = allowed[:, :width].clone()
    allowed[:, vocab_size:] = False
    view = logits.view(-1, width)
    logit_rows = torch.tensor([p[0] for p in pairs], device=logits.device, dtype=torch.long)
    mask_rows = torch.tensor([p[1] for p in pairs], device=logits.device, dtype=torch.long)
    view[logit_rows] = view[logit_rows].masked_fill(~allowed[mask_rows], float("-inf"))
