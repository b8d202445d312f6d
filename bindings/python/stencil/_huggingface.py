"""Hugging Face conventions: a Vocabulary from a tokenizer object, and a LogitsProcessor.

Nothing here imports ``transformers``: the tokenizer is duck-typed (``get_vocab()``,
``convert_ids_to_tokens``, ``all_special_ids`` / ``eos_token_id``), and the processor has the
``__call__(input_ids, scores) -> scores`` signature ``model.generate(logits_processor=[...])`` calls,
working on torch tensors and numpy arrays alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _core
from ._errors import ArgumentError
from ._tensors import allocate_token_bitmask, apply_token_bitmask_inplace


def _byte_level_decoder() -> dict[str, int]:
    """GPT-2's printable-character -> byte table (the inverse of its bytes_to_unicode)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}


_BYTE_LEVEL = _byte_level_decoder()


def _detect_encoding(pieces: Sequence[str]) -> str:
    """"byte_level" (GPT-2 style: "Ġ" for space), "sentencepiece" ("▁" for space, <0xNN> bytes) or "raw"."""
    has_g = any("\u0120" in p for p in pieces)
    has_sp = any("\u2581" in p for p in pieces) or any(p.startswith("<0x") and p.endswith(">") and len(p) == 6 for p in pieces)
    if has_g and not has_sp:
        return "byte_level"
    if has_sp:
        return "sentencepiece"
    return "raw"


def _piece_bytes(piece: str, encoding: str, added: bool) -> bytes:
    if added:  # added tokens are literal text in every family, as in tokenizer.json
        return piece.encode("utf-8")
    if encoding == "byte_level":
        if all(c in _BYTE_LEVEL for c in piece):
            return bytes(_BYTE_LEVEL[c] for c in piece)
        return piece.encode("utf-8")
    if encoding == "sentencepiece":
        if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
            try:
                return bytes([int(piece[3:5], 16)])
            except ValueError:
                pass
        return piece.replace("\u2581", " ").encode("utf-8")
    return piece.encode("utf-8")


def vocabulary_from_huggingface(
    tokenizer: Any,
    *,
    vocab_size: int | None = None,
    eos_ids: Sequence[int] | None = None,
    encoding: str | None = None,
) -> _core.Vocabulary:
    """A Vocabulary from a Hugging Face tokenizer (or anything shaped like one).

    Reads ``get_vocab()`` (piece -> id); ids missing from it are unused holes. Special ids are
    ``all_special_ids`` (plus ``added_tokens_decoder`` entries marked special); EOS ids are
    ``eos_ids`` when given, else ``eos_token_id`` (an int or a list). Pieces are decoded as
    ``encoding``: "byte_level" (GPT-2's byte-to-unicode table), "sentencepiece" ("▁" is a space,
    <0xNN> a byte) or "raw" (UTF-8 as written); default: detected from the pieces. Non-special
    added tokens (``get_added_vocab()``) are literal text. ``vocab_size`` pads to the logit width.
    """
    if not callable(getattr(tokenizer, "get_vocab", None)):
        raise ArgumentError(f"from_huggingface needs a tokenizer with get_vocab(), got {type(tokenizer).__name__}")
    vocab: dict[str, int] = dict(tokenizer.get_vocab())
    if not vocab:
        raise ArgumentError("the tokenizer's get_vocab() is empty")
    size = max(vocab.values()) + 1
    pieces: list[str | None] = [None] * size
    for piece, i in vocab.items():
        pieces[i] = piece
    if callable(getattr(tokenizer, "convert_ids_to_tokens", None)):
        # The tokenizer's own spelling per id wins over the dict (they agree for real tokenizers).
        converted = tokenizer.convert_ids_to_tokens(list(range(size)))
        for i, piece in enumerate(converted):
            if piece is not None:
                pieces[i] = piece

    special = {int(i) for i in (getattr(tokenizer, "all_special_ids", None) or [])}
    decoder = getattr(tokenizer, "added_tokens_decoder", None) or {}
    for i, token in dict(decoder).items():
        if getattr(token, "special", False):
            special.add(int(i))
    added = set()
    if callable(getattr(tokenizer, "get_added_vocab", None)):
        added = {int(i) for i in tokenizer.get_added_vocab().values()}

    if eos_ids is None:
        eos = getattr(tokenizer, "eos_token_id", None)
        eos_ids = [] if eos is None else ([int(eos)] if isinstance(eos, int) else [int(e) for e in eos])
    eos_ids = list(eos_ids)
    special.update(eos_ids)

    if encoding is None:
        encoding = _detect_encoding([p for i, p in enumerate(pieces) if p is not None and i not in special and i not in added])
    if encoding not in ("byte_level", "sentencepiece", "raw"):
        raise ArgumentError(f'encoding must be "byte_level", "sentencepiece" or "raw", got "{encoding}"')

    tokens: list[bytes] = []
    holes: list[int] = []
    for i, piece in enumerate(pieces):
        if piece is None:
            holes.append(i)
            tokens.append(b"")
        elif i in special:
            tokens.append(piece.encode("utf-8"))
        else:
            tokens.append(_piece_bytes(piece, encoding, i in added))
    # A hole has no text: mark it special (never allowed) unless it is an EOS id.
    return _core.Vocabulary.from_tokens(
        tokens, eos_ids, special_ids=sorted(special | set(holes)), vocab_size=vocab_size
    )


class LogitsProcessor:
    """Hugging Face ``LogitsProcessor``: masks ``scores`` so each batch row follows ``grammar``.

    One Matcher per batch row. The first call sees the prompt (``input_ids`` of shape
    (batch, prompt_len)); each later call accepts every row's last token before masking. Rows that
    reached EOS only allow EOS from then on. ``grammar`` is one CompiledGrammar for every row or a
    list with one per row. Beam search reorders rows between steps, which this does not follow:
    use it with greedy or sampling decoding. Not thread-safe (one per generate() call).

        processor = stencil.LogitsProcessor(compiler.compile_json_schema(schema))
        model.generate(**inputs, logits_processor=[processor])
    """

    def __init__(self, grammar: _core.CompiledGrammar | Sequence[_core.CompiledGrammar], *, threads: int = 0) -> None:
        self._grammars = grammar
        self._threads = threads
        self._batch: _core.MatcherBatch | None = None  # the rows' matchers, gathered once
        self._matchers: list[_core.Matcher] | None = None  # the same matchers, as Python objects
        self._bitmask: np.ndarray | None = None
        self._seen: int = 0

    @property
    def matchers(self) -> list[_core.Matcher]:
        """The per-row matchers (created by the first call)."""
        return list(self._matchers or [])

    def reset(self) -> None:
        """Forgets the batch: the next call starts new sequences."""
        self._batch = None
        self._matchers = None
        self._seen = 0

    def _start(self, batch: int) -> None:
        if isinstance(self._grammars, _core.CompiledGrammar):
            grammars = [self._grammars] * batch
        else:
            grammars = list(self._grammars)
            if len(grammars) != batch:
                raise ArgumentError(f"LogitsProcessor has {len(grammars)} grammars for a batch of {batch}")
        # One row: no thread pool to start (threads=1 fills on the calling thread).
        self._batch = _core.MatcherBatch(grammars, threads=self._threads if batch > 1 else 1)
        self._matchers = list(self._batch)
        vocab_size = max(g.vocabulary.size for g in grammars)
        self._bitmask = allocate_token_bitmask(batch, vocab_size)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        shape = tuple(input_ids.shape)
        if len(shape) != 2:
            raise ArgumentError(f"input_ids must be (batch, sequence), got shape {shape}")
        batch, length = shape
        if self._matchers is None:
            self._start(batch)
        elif len(self._matchers) != batch:
            raise ArgumentError(f"the batch changed from {len(self._matchers)} to {batch} rows; call reset() first")
        elif length != self._seen + 1:
            raise ArgumentError(f"expected one new token per row (sequence length {self._seen + 1}), got {length}")
        else:
            last = np.asarray(input_ids[:, -1].tolist(), dtype=np.int32)
            # One call for the batch; a row that finished earlier rejects its padding, which is fine.
            assert self._batch is not None
            accepted = self._batch.accept_tokens(last)
            for row in np.flatnonzero(~accepted).tolist():
                if not self._matchers[row].is_terminated():
                    raise ArgumentError(f"row {row}: token {int(last[row])} is not allowed by the grammar here")
        self._seen = length
        assert self._batch is not None and self._bitmask is not None
        self._batch.fill_next_token_bitmask(self._bitmask)
        apply_token_bitmask_inplace(scores, self._bitmask)
        return scores
