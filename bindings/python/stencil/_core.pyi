"""Type stubs of the C++ extension stencil._core (users import these names from ``stencil``).

tests/test_stubs.py checks every name and parameter here against the built module.
"""

from collections.abc import Callable, Sequence
from typing import Any, Literal, Optional

import numpy as np

TokenKind = Literal["normal", "special", "unused"]
Whitespace = Literal["compact", "pretty", "flexible"]

class Vocabulary:
    """What each token id means as bytes: the vocabulary a grammar is compiled against.

    Immutable; copies share the data; usable from any number of threads.
    """

    @staticmethod
    def from_tokenizer_json(path: str, *, eos_ids: Optional[Sequence[int]] = None,
                            vocab_size: Optional[int] = None) -> Vocabulary:
        """A Hugging Face tokenizer.json; vocab_size pads to the model's logit width. Raises VocabularyError."""
    @staticmethod
    def from_tokenizer_json_text(tokenizer_json: str, tokenizer_config_json: str = "", *,
                                 eos_ids: Optional[Sequence[int]] = None,
                                 vocab_size: Optional[int] = None) -> Vocabulary:
        """Same as from_tokenizer_json, from the file's text."""
    @staticmethod
    def from_gguf(path: str, *, eos_ids: Optional[Sequence[int]] = None,
                  vocab_size: Optional[int] = None) -> Vocabulary:
        """The tokenizer.ggml.* metadata of a GGUF file. Raises VocabularyError."""
    @staticmethod
    def from_file(path: str, *, eos_ids: Optional[Sequence[int]] = None,
                  vocab_size: Optional[int] = None) -> Vocabulary:
        """*.gguf goes to from_gguf, anything else to from_tokenizer_json."""
    @staticmethod
    def from_tokens(tokens: Sequence[bytes | str], eos_ids: Sequence[int], *, special_ids: Sequence[int] = ...,
                    vocab_size: Optional[int] = None) -> Vocabulary:
        """One byte string per id (str as UTF-8); EOS ids are special too. Raises ArgumentError."""
    @staticmethod
    def from_huggingface(tokenizer: Any, *, vocab_size: Optional[int] = None,
                         eos_ids: Optional[Sequence[int]] = None, encoding: Optional[str] = None) -> Vocabulary:
        """From a Hugging Face tokenizer object (duck-typed: get_vocab(), convert_ids_to_tokens, special ids)."""
    @property
    def size(self) -> int:
        """Number of ids, holes and padding included: the logit width."""
    def __len__(self) -> int: ...
    def token_bytes(self, id: int) -> bytes:
        """The exact bytes of a token; b"" for special and unused ids."""
    def token_name(self, id: int) -> str:
        """The token as written in the tokenizer file."""
    def kind(self, id: int) -> TokenKind: ...
    def is_eos(self, id: int) -> bool: ...
    @property
    def eos_ids(self) -> list[int]: ...
    @property
    def normal_count(self) -> int: ...
    @property
    def special_count(self) -> int: ...
    @property
    def family(self) -> str:
        """"byte_level_bpe", "sentencepiece" or "tokens"."""

class CompiledGrammar:
    """A constraint compiled against one Vocabulary. Immutable; share it between Matchers and threads."""

    @property
    def vocabulary(self) -> Vocabulary: ...
    @property
    def stats(self) -> dict[str, float]:
        """rules, automaton_states, scanning_states, cached_positions, mask_cache_bytes, compile_ms."""
    @property
    def warnings(self) -> list[str]:
        """Warnings collected while compiling (keywords ignored under lenient=True ...)."""
    def to_gbnf(self) -> str:
        """The grammar as GBNF text."""
    @property
    def memory_bytes(self) -> int: ...

class Compiler:
    """Compiles constraints for one Vocabulary. Thread-safe; every compile releases the GIL."""

    def __init__(self, vocab: Vocabulary, *, threads: int = 0, max_automaton_states: int = 200000,
                 max_repetition: int = 10000, max_rules: int = 100000, eager_mask_states: int = 128) -> None:
        """threads precompute token masks at compile time (0: one per hardware thread)."""
    def compile_json_schema(self, schema: str | bytes | dict[str, Any] | Any, *, whitespace: Whitespace = "flexible",
                            indent: int = 2, max_whitespace_newlines: int = 1,
                            max_whitespace_spaces: Optional[int] = None, max_whitespace: Optional[int] = None,
                            strict: bool = True, lenient: bool = False, allow_escapes: bool = True,
                            max_depth: int = 64, portable_patterns: bool = True) -> CompiledGrammar:
        """A JSON Schema as text, a dict or a pydantic model (v2 or v1). Raises SchemaError (with .pointer)."""
    def compile_builtin_json(self, *, whitespace: Whitespace = "flexible", indent: int = 2,
                             max_whitespace_newlines: int = 1, max_whitespace_spaces: Optional[int] = None,
                             max_whitespace: Optional[int] = None, allow_escapes: bool = True,
                             max_depth: int = 64) -> CompiledGrammar:
        """Any JSON value (RFC 8259)."""
    def compile_grammar(self, gbnf: str) -> CompiledGrammar:
        """GBNF (llama.cpp dialect), start rule root. Raises GrammarError (with .line, .column)."""
    def compile_regex(self, pattern: str) -> CompiledGrammar:
        """An ECMAScript-style regex matched against the whole output. Raises GrammarError."""
    @property
    def vocabulary(self) -> Vocabulary: ...
    @property
    def threads(self) -> int: ...

class Matcher:
    """The grammar state of one sequence. One per sequence, one thread at a time; fork() copies."""

    def __init__(self, grammar: CompiledGrammar, *, max_rollback_tokens: int = 16) -> None: ...
    def fork(self) -> Matcher: ...
    def fill_next_token_bitmask(self, bitmask: np.ndarray | Any, index: int = 0, *,
                                max_tokens_left: Optional[int] = None) -> None:
        """Writes the allowed-token mask into row `index` (int32 (batch, words) or (words,); numpy or CPU torch)."""
    def accept_token(self, token: int) -> bool:
        """Advances by one token; False (state unchanged) when it is not allowed."""
    def accept_string(self, text: str | bytes) -> bool:
        """Advances by raw bytes (str as UTF-8); False (state unchanged) if any byte is rejected."""
    def rollback(self, n: int = 1) -> bool: ...
    def reset(self) -> None: ...
    def is_terminated(self) -> bool: ...
    def can_terminate(self) -> bool: ...
    def forced_bytes(self) -> bytes:
        """The bytes every continuation must start with from here (jump-forward)."""
    def min_bytes_to_end(self) -> int: ...
    @property
    def grammar(self) -> CompiledGrammar: ...
    @property
    def vocab_size(self) -> int: ...

class BatchFiller:
    """Fills many matchers' masks at once on its own thread pool, with the GIL released."""

    def __init__(self, threads: int = 0) -> None: ...
    def fill(self, matchers: Sequence[Matcher], bitmask: np.ndarray | Any) -> None:
        """Row i of the (batch, words) bitmask becomes matchers[i]'s next-token mask."""
    @property
    def threads(self) -> int: ...

class MatcherBatch:
    """The matchers of a batch, gathered once: one call fills every row's mask, one accepts every row's token.

    Built from grammars it owns its rows (``batch[i]`` is a Matcher valid while the batch lives);
    ``from_matchers`` refers to existing Matcher objects. Fills and accepts on one batch take turns.
    """

    def __init__(self, grammars: CompiledGrammar | Sequence[CompiledGrammar], batch_size: Optional[int] = None, *,
                 threads: int = 0, max_rollback_tokens: int = 16) -> None:
        """``batch_size`` matchers of one grammar, or one per grammar of a sequence."""
    @staticmethod
    def from_matchers(matchers: Sequence[Matcher], *, threads: int = 0) -> MatcherBatch:
        """A batch over existing matchers (kept alive; their states are shared with the batch)."""
    def fill_next_token_bitmask(self, bitmask: np.ndarray | Any) -> None:
        """Row i of the (batch, words) C-contiguous int32 bitmask becomes batch[i]'s mask (GIL released)."""
    def accept_tokens(self, tokens: Sequence[int] | np.ndarray) -> np.ndarray:
        """batch[i].accept_token(tokens[i]) for every row; the results as a bool array."""
    def __len__(self) -> int: ...
    def __getitem__(self, index: int) -> Matcher: ...
    @property
    def words(self) -> int: ...
    @property
    def threads(self) -> int: ...

class Tokenizer:
    """Text -> token ids and back for the bundled runtime. Immutable; thread-safe."""

    @staticmethod
    def from_file(path: str) -> Tokenizer: ...
    def encode(self, text: str, *, add_special: bool = False, parse_special: bool = True) -> list[int]: ...
    def decode(self, ids: Sequence[int], *, render_special: bool = False, strip_space_prefix: bool = False) -> str: ...
    def decode_bytes(self, ids: Sequence[int], *, render_special: bool = False,
                     strip_space_prefix: bool = False) -> bytes: ...
    def token_bytes(self, id: int) -> bytes: ...
    def find_token(self, text: str) -> int: ...
    @property
    def size(self) -> int: ...
    def __len__(self) -> int: ...
    @property
    def bos_id(self) -> int: ...
    @property
    def eos_ids(self) -> list[int]: ...
    @property
    def family(self) -> str: ...
    @property
    def chat_template(self) -> str: ...

class Model:
    """The loaded weights (use stencil.Model, which adds generate() and the tokenizer)."""

    @staticmethod
    def load(path: str, *, threads: int = 0, backend: str = "auto") -> Model: ...
    @property
    def info(self) -> dict[str, Any]: ...
    def vocabulary(self) -> Vocabulary: ...
    @property
    def chat_template(self) -> str: ...
    def metadata_string(self, key: str) -> str: ...

class GenerateResult:
    """What one generate() call produced."""

    @property
    def text(self) -> str: ...
    @property
    def valid(self) -> bool: ...
    @property
    def prompt_tokens(self) -> int: ...
    @property
    def generated_tokens(self) -> int: ...
    @property
    def forced_tokens(self) -> int: ...
    @property
    def loop_guard_fired(self) -> bool: ...
    @property
    def stop_reason(self) -> str: ...
    @property
    def tokens(self) -> list[int]: ...
    @property
    def timing(self) -> dict[str, float]: ...

def accept_tokens(matchers: Sequence[Matcher], tokens: Sequence[int] | np.ndarray) -> np.ndarray:
    """matchers[i].accept_token(tokens[i]) for every row in one call; the results as a bool array."""
def _apply_token_bitmask_f32(logits: np.ndarray, bitmask: np.ndarray, vocab_size: int) -> None: ...
def _generate(model: Model, tokenizer: Tokenizer, grammar: Optional[CompiledGrammar], prompt: str, *,
              max_tokens: int, temperature: float, top_k: int, top_p: float, min_p: float,
              repetition_penalty: float, seed: int, system: str, raw: bool, jump_forward: bool,
              on_piece: Optional[Callable[[bytes], None]]) -> GenerateResult: ...
def _raise_cpp_error(kind: str, message: str, location: str = "") -> None: ...
