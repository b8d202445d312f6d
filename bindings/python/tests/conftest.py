"""Shared fixtures: where the data is, small and real vocabularies, the shared model.

Data comes from STENCIL_DATA_DIR (scripts/test sets it to <build>/data, filled by
scripts/prepare-data) and STENCIL_SHARED_DIR (models are read from there). When unset, both are
found from the extension's build folder and the repository. A test whose data is absent skips
and says which file it wanted; it never passes without checking.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import stencil

REPO = Path(__file__).resolve().parents[3]
# <build>/bindings/python/stencil/_core*.so when run from a build tree.
CORE_DIR = Path(stencil._core.__file__).resolve().parent


def _data_dir() -> Path:
    if os.environ.get("STENCIL_DATA_DIR"):
        return Path(os.environ["STENCIL_DATA_DIR"])
    return CORE_DIR.parents[2] / "data"


def _shared_dir() -> Path:
    if os.environ.get("STENCIL_SHARED_DIR"):
        return Path(os.environ["STENCIL_SHARED_DIR"])
    return REPO.parent / "shared"


def require(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.skip(f"{what} not found at {path} (run scripts/prepare-data <build>)")
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return _data_dir()


@pytest.fixture(scope="session")
def llama3_tokenizer_path() -> Path:
    return require(_data_dir() / "tokenizers" / "llama3" / "tokenizer.json", "the Llama-3 tokenizer.json")


@pytest.fixture(scope="session")
def llama3_vocab(llama3_tokenizer_path: Path) -> stencil.Vocabulary:
    return stencil.Vocabulary.from_tokenizer_json(str(llama3_tokenizer_path))


@pytest.fixture(scope="session")
def llama3_compiler(llama3_vocab: stencil.Vocabulary) -> stencil.Compiler:
    return stencil.Compiler(llama3_vocab)


@pytest.fixture(scope="session")
def gpt2_gguf_path() -> Path:
    return require(_data_dir() / "tokenizers" / "gpt2" / "ggml-vocab-gpt-2.gguf", "the GPT-2 vocabulary GGUF")


@pytest.fixture(scope="session")
def model_path() -> Path:
    return require(_shared_dir() / "models" / "stories260K" / "stories260K-q8_0.gguf", "the stories260K model")


@pytest.fixture(scope="session")
def model(model_path: Path) -> stencil.Model:
    return stencil.Model.load(str(model_path), threads=1)


# A vocabulary small enough to reason about by hand: every single byte (ids 0-255), a few
# multi-byte pieces, and an EOS at the end. Ids are stable; tests refer to them by name.
SMALL_PIECES = [bytes([b]) for b in range(256)] + [b'{"', b'":', b"true", b"false", b"null", b"  ", b'"}', b"ab"]
SMALL_EOS = len(SMALL_PIECES)


def small_id(piece: bytes) -> int:
    return SMALL_PIECES.index(piece)


@pytest.fixture(scope="session")
def small_vocab() -> stencil.Vocabulary:
    return stencil.Vocabulary.from_tokens(SMALL_PIECES + [b"</s>"], [SMALL_EOS])


@pytest.fixture(scope="session")
def small_compiler(small_vocab: stencil.Vocabulary) -> stencil.Compiler:
    return stencil.Compiler(small_vocab, threads=1)
