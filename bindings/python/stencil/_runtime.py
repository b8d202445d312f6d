"""The bundled runtime, Pythonic: ``Model.load(path).generate(prompt, schema=...)``.

A Model holds the loaded weights, its tokenizer and vocabulary, and a Compiler for constraints
given as schemas, grammars or regexes (compiled grammars are cached per constraint). generate()
runs the C++ decoding loop with the GIL released; with ``stream=True`` it runs on a worker thread
and the returned iterator yields text pieces as they are decoded. Closing the iterator early
stops the generation at the next piece.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

from . import _core
from ._errors import ArgumentError
from ._schema import schema_json

_END = object()


class _Stop(Exception):
    """Raised inside the piece callback to end a stream the consumer closed."""


class Model:
    """A loaded Llama-family model with its tokenizer. Use Model.load(path)."""

    def __init__(self, core: _core.Model, tokenizer: _core.Tokenizer) -> None:
        self._core = core
        self.tokenizer: _core.Tokenizer = tokenizer
        self._vocabulary: _core.Vocabulary | None = None
        self._compiler: _core.Compiler | None = None
        self._grammars: dict[tuple, _core.CompiledGrammar] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str, *, threads: int = 0, backend: str = "auto") -> "Model":
        """Loads a GGUF file or a safetensors folder; ``threads`` for the forward pass (0: all cores).

        Raises ModelError (location: file and offset/tensor/key) or VocabularyError.
        """
        core = _core.Model.load(str(path), threads=threads, backend=backend)
        return cls(core, _core.Tokenizer.from_file(core.info["path"]))

    @property
    def info(self) -> dict[str, Any]:
        """Architecture and hyperparameters as read from the file."""
        return self._core.info

    @property
    def vocabulary(self) -> _core.Vocabulary:
        """The model's vocabulary (compile grammars for this model against it)."""
        with self._lock:
            if self._vocabulary is None:
                self._vocabulary = self._core.vocabulary()
            return self._vocabulary

    @property
    def compiler(self) -> _core.Compiler:
        """A Compiler for the model's vocabulary, made on first use."""
        vocabulary = self.vocabulary
        with self._lock:
            if self._compiler is None:
                self._compiler = _core.Compiler(vocabulary)
            return self._compiler

    def _constraint(self, schema: Any, grammar: Any, regex: str | None, json_mode: bool, json_options: dict):
        given = [name for name, value in (("schema", schema), ("grammar", grammar), ("regex", regex)) if value is not None]
        if json_mode:
            given.append("json")
        if len(given) > 1:
            raise ArgumentError(f"give at most one constraint, got {', '.join(given)}")
        if json_options and not (schema is not None or json_mode):
            raise ArgumentError(f"JSON options ({', '.join(sorted(json_options))}) need schema= or json=True")
        if isinstance(grammar, _core.CompiledGrammar):
            return grammar
        if schema is not None:
            text = schema if isinstance(schema, (str, bytes)) else schema_json(schema)
            key = ("schema", text, tuple(sorted(json_options.items())))
            make = lambda: self.compiler.compile_json_schema(text, **json_options)  # noqa: E731
        elif grammar is not None:
            key = ("grammar", grammar)
            make = lambda: self.compiler.compile_grammar(grammar)  # noqa: E731
        elif regex is not None:
            key = ("regex", regex)
            make = lambda: self.compiler.compile_regex(regex)  # noqa: E731
        elif json_mode:
            key = ("json", tuple(sorted(json_options.items())))
            make = lambda: self.compiler.compile_builtin_json(**json_options)  # noqa: E731
        else:
            return None
        compiled = self._grammars.get(key)
        if compiled is None:
            compiled = make()
            self._grammars[key] = compiled
        return compiled

    def generate_result(
        self,
        prompt: str,
        *,
        schema: Any = None,
        grammar: Any = None,
        regex: str | None = None,
        json: bool = False,
        max_tokens: int = 256,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        min_p: float = 0.0,
        repetition_penalty: float = 1.0,
        seed: int = 0,
        system: str = "",
        raw: bool = False,
        jump_forward: bool = True,
        on_piece: Any = None,
        **json_options: Any,
    ) -> _core.GenerateResult:
        """Like generate(), returning the GenerateResult (text, valid, token counts, stop_reason, timing).

        ``on_piece(bytes)`` is called with each complete UTF-8 piece as it is decoded.
        """
        compiled = self._constraint(schema, grammar, regex, json, json_options)
        if seed < 0:
            raise ArgumentError(f"seed must be >= 0, got {seed}")
        return _core._generate(
            self._core, self.tokenizer, compiled, prompt,
            max_tokens=max_tokens, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p,
            repetition_penalty=repetition_penalty, seed=seed, system=system, raw=raw,
            jump_forward=jump_forward, on_piece=on_piece,
        )

    def generate(self, prompt: str, *, stream: bool = False, **kwargs: Any) -> str | Iterator[str]:
        """Generates from ``prompt`` (rendered with the model's chat template unless raw=True).

        Constraint, at most one: ``schema`` (JSON text, dict or pydantic model), ``grammar`` (GBNF
        text or a CompiledGrammar), ``regex``, or ``json=True`` (any JSON); JSON options
        (whitespace=, strict= ...) as for Compiler.compile_json_schema. With a constraint the
        output is complete and valid within ``max_tokens``. Sampling: temperature (<= 0 greedy),
        top_k, top_p, min_p, repetition_penalty, seed. Returns the text, or with stream=True an
        iterator of text pieces whose concatenation is the text.
        """
        if not stream:
            return self.generate_result(prompt, **kwargs).text
        if "on_piece" in kwargs:
            raise ArgumentError("on_piece cannot be combined with stream=True")
        # Compile (and check arguments) here, so errors raise from generate() and not mid-iteration.
        kwargs = dict(kwargs)
        json_keys = {k: kwargs.pop(k) for k in list(kwargs) if k not in _GENERATE_ARGS}
        compiled = self._constraint(kwargs.pop("schema", None), kwargs.pop("grammar", None),
                                    kwargs.pop("regex", None), kwargs.pop("json", False), json_keys)
        return self._stream(prompt, compiled, kwargs)

    def _stream(self, prompt: str, compiled: Any, kwargs: dict) -> Iterator[str]:
        pieces: queue.Queue = queue.Queue()
        stop = threading.Event()
        failure: list[BaseException] = []

        def on_piece(piece: bytes) -> None:
            if stop.is_set():
                raise _Stop()
            pieces.put(piece.decode("utf-8", errors="replace"))

        def run() -> None:
            try:
                self.generate_result(prompt, grammar=compiled, on_piece=on_piece, **kwargs)
            except _Stop:
                pass
            except BaseException as e:  # handed to the consumer
                failure.append(e)
            finally:
                pieces.put(_END)

        worker = threading.Thread(target=run, name="stencil-generate", daemon=True)
        worker.start()
        try:
            while True:
                piece = pieces.get()
                if piece is _END:
                    break
                yield piece
        finally:
            stop.set()
            worker.join()
        if failure:
            raise failure[0]


_GENERATE_ARGS = {
    "schema", "grammar", "regex", "json", "max_tokens", "temperature", "top_k", "top_p", "min_p",
    "repetition_penalty", "seed", "system", "raw", "jump_forward",
}
