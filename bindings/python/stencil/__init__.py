"""stencil: constrained decoding (JSON Schema, GBNF, regex) as token bitmasks, and a small runtime.

    import stencil
    vocab = stencil.Vocabulary.from_tokenizer_json("tokenizer.json")
    grammar = stencil.Compiler(vocab).compile_json_schema({"type": "object", ...})
    matcher = stencil.Matcher(grammar)
    bitmask = stencil.allocate_token_bitmask(1, vocab.size)
    matcher.fill_next_token_bitmask(bitmask)
    stencil.apply_token_bitmask_inplace(logits, bitmask)   # numpy or torch
    matcher.accept_token(token)

The classes Vocabulary, Compiler, CompiledGrammar, Matcher, MatcherBatch, BatchFiller and Tokenizer come from
the C++ extension (stencil._core); exceptions, the Hugging Face adapters, tensor handling and the
Pythonic Model are the Python modules beside this file.
"""

from __future__ import annotations

# In a build tree the extension lives in <build>/bindings/python/stencil/ while these files stay
# in the source tree; with both folders on sys.path, let this package find its _core there too.
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from ._errors import (  # noqa: E402
    ArgumentError,
    Error,
    GrammarError,
    LimitError,
    ModelError,
    SchemaError,
    VocabularyError,
)
from . import _core  # noqa: E402
from ._core import (  # noqa: E402
    BatchFiller,
    CompiledGrammar,
    Compiler,
    GenerateResult,
    Matcher,
    MatcherBatch,
    Tokenizer,
    Vocabulary,
    accept_tokens,
)
from ._huggingface import LogitsProcessor, vocabulary_from_huggingface  # noqa: E402
from ._runtime import Model  # noqa: E402
from ._tensors import allocate_token_bitmask, apply_token_bitmask_inplace, bitmask_words  # noqa: E402

# Vocabulary.from_huggingface is Python (duck typing over the tokenizer object).
Vocabulary.from_huggingface = staticmethod(vocabulary_from_huggingface)

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "BatchFiller",
    "CompiledGrammar",
    "Compiler",
    "Error",
    "GenerateResult",
    "GrammarError",
    "LimitError",
    "LogitsProcessor",
    "Matcher",
    "MatcherBatch",
    "Model",
    "ModelError",
    "SchemaError",
    "Tokenizer",
    "Vocabulary",
    "VocabularyError",
    "accept_tokens",
    "allocate_token_bitmask",
    "apply_token_bitmask_inplace",
    "bitmask_words",
]
