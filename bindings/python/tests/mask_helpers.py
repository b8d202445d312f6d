"""Reading bitmask rows back as token ids, for assertions."""

from __future__ import annotations

import numpy as np


def allowed_ids(row: np.ndarray, vocab_size: int) -> set[int]:
    """The ids whose bit is set in one bitmask row (ids past vocab_size ignored)."""
    bits = np.unpackbits(np.ascontiguousarray(row).view(np.uint8), bitorder="little")
    return set(np.flatnonzero(bits[:vocab_size]).tolist())
