"""stencil.Vocabulary: every constructor, and what each id means."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import stencil
from conftest import SMALL_EOS, SMALL_PIECES, small_id


def test_from_tokens_keeps_bytes_kinds_and_eos(small_vocab):
    assert small_vocab.size == len(SMALL_PIECES) + 1 == len(small_vocab)
    assert small_vocab.token_bytes(small_id(b"true")) == b"true"
    assert small_vocab.token_bytes(0x41) == b"A"
    assert small_vocab.eos_ids == [SMALL_EOS]
    assert small_vocab.is_eos(SMALL_EOS) and not small_vocab.is_eos(0x41)
    assert small_vocab.kind(SMALL_EOS) == "special"
    assert small_vocab.kind(0x41) == "normal"
    assert small_vocab.family == "tokens"
    assert small_vocab.normal_count == len(SMALL_PIECES)


def test_from_tokens_accepts_str_pads_and_marks_special():
    vocab = stencil.Vocabulary.from_tokens(["a", "é", "<ctl>", "<eos>"], [3], special_ids=[2], vocab_size=8)
    assert vocab.size == 8
    assert vocab.token_bytes(1) == "é".encode()
    assert vocab.kind(2) == "special"
    assert vocab.kind(7) == "unused"
    assert vocab.token_bytes(2) == b""  # special ids have no text to match


def test_from_tokens_rejects_bad_input():
    with pytest.raises(stencil.ArgumentError):
        stencil.Vocabulary.from_tokens([b"a", 3], [0])
    with pytest.raises(stencil.ArgumentError):
        stencil.Vocabulary.from_tokens([b"a"], [0], vocab_size=0)


def test_ids_out_of_range_raise(small_vocab):
    with pytest.raises(stencil.ArgumentError, match="out of range"):
        small_vocab.token_bytes(small_vocab.size)
    with pytest.raises(ValueError):  # ArgumentError is a ValueError too
        small_vocab.kind(-1)


def test_from_tokenizer_json(llama3_vocab):
    assert llama3_vocab.size >= 128000
    assert llama3_vocab.family == "byte_level_bpe"
    assert 128009 in llama3_vocab.eos_ids or 128001 in llama3_vocab.eos_ids
    # "Ġ" pieces are decoded to a real space.
    hello = [i for i in range(1000, 40000) if llama3_vocab.token_bytes(i) == b" hello"]
    assert len(hello) == 1


def test_from_tokenizer_json_text_equals_from_path(llama3_tokenizer_path):
    text = llama3_tokenizer_path.read_text()
    config = llama3_tokenizer_path.with_name("tokenizer_config.json")
    a = stencil.Vocabulary.from_tokenizer_json_text(text, config.read_text() if config.exists() else "")
    b = stencil.Vocabulary.from_tokenizer_json(str(llama3_tokenizer_path))
    assert a.size == b.size and a.eos_ids == b.eos_ids
    assert all(a.token_bytes(i) == b.token_bytes(i) for i in range(0, a.size, 997))


def test_vocab_size_pads_to_logit_width(llama3_tokenizer_path):
    vocab = stencil.Vocabulary.from_tokenizer_json(str(llama3_tokenizer_path), vocab_size=128384)
    assert vocab.size == 128384
    assert vocab.kind(128383) == "unused"


def test_from_gguf_and_from_file(gpt2_gguf_path):
    vocab = stencil.Vocabulary.from_gguf(str(gpt2_gguf_path))
    assert vocab.size == 50257
    assert vocab.token_bytes(vocab.size - 1) == b""  # <|endoftext|> is special
    assert vocab.is_eos(50256)
    same = stencil.Vocabulary.from_file(str(gpt2_gguf_path))
    assert same.size == vocab.size and same.token_bytes(1000) == vocab.token_bytes(1000)


def test_missing_file_is_a_vocabulary_error(tmp_path):
    with pytest.raises(stencil.VocabularyError) as info:
        stencil.Vocabulary.from_tokenizer_json(str(tmp_path / "absent.json"))
    assert "absent.json" in str(info.value)


def test_broken_tokenizer_json_names_the_file(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({"model": {"type": "BPE"}}))
    with pytest.raises(stencil.VocabularyError) as info:
        stencil.Vocabulary.from_tokenizer_json(str(path))
    assert isinstance(info.value, stencil.Error)
    assert str(path) in str(info.value) or "tokenizer.json" in str(info.value)


def test_repr_names_family_and_size(small_vocab):
    assert repr(small_vocab) == f"<stencil.Vocabulary tokens, {small_vocab.size} ids>"


def test_token_name(gpt2_gguf_path):
    vocab = stencil.Vocabulary.from_gguf(str(gpt2_gguf_path))
    assert vocab.token_name(50256) == "<|endoftext|>"
    assert vocab.token_name(220) == "Ġ"  # as written in the file; token_bytes gives b" "
    assert vocab.token_bytes(220) == b" "
