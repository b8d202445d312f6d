"""stencil's exceptions: one Python class per C++ ``stencil::Error`` subclass.

The extension raises these with the C++ message and location, so ``str(e)`` reads as the C++
``what()`` ("<location>: <message>") and ``e.message`` / ``e.location`` give the parts. They are
plain Python classes (not created by pybind11) so they pickle and carry properties.
"""

from __future__ import annotations

__all__ = [
    "Error",
    "GrammarError",
    "SchemaError",
    "VocabularyError",
    "ModelError",
    "LimitError",
    "ArgumentError",
]


class Error(Exception):
    """Base class of every stencil error: ``message`` says what, ``location`` where ("" if nowhere)."""

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__(f"{location}: {message}" if location else message)
        self.message = message
        self.location = location

    def __reduce__(self):
        # Exception pickles its args (the joined text); rebuild from the two parts instead.
        return (type(self), (self.message, self.location))


class GrammarError(Error):
    """A GBNF grammar or regex that does not parse or compile; ``location`` is "line:column"."""

    def _position(self) -> tuple[int, int] | None:
        line, sep, column = self.location.partition(":")
        if sep and line.isdigit() and column.isdigit():
            return int(line), int(column)
        return None

    @property
    def line(self) -> int | None:
        position = self._position()
        return position[0] if position else None

    @property
    def column(self) -> int | None:
        position = self._position()
        return position[1] if position else None


class SchemaError(Error):
    """A JSON Schema that is malformed or unsupported; ``pointer`` is the JSON pointer at fault."""

    @property
    def pointer(self) -> str:
        return self.location


class VocabularyError(Error):
    """A tokenizer file that cannot be read; ``location`` names the file and the key or offset."""


class ModelError(Error):
    """A model file that cannot be loaded; ``location`` names the file and the tensor, key or offset."""


class LimitError(Error):
    """A named compile limit (states, depth, repetition ...) was exceeded; the message names it."""


class ArgumentError(Error, ValueError):
    """A bad argument (a token id out of range, a bitmask of the wrong shape or dtype ...)."""
