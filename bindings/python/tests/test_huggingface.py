"""Hugging Face conventions without transformers: Vocabulary.from_huggingface on stand-in
tokenizers, and LogitsProcessor on fake score arrays."""

from __future__ import annotations

import json

import numpy as np
import pytest

import stencil
from mask_helpers import allowed_ids


class StandInTokenizer:
    """The parts of a transformers PreTrainedTokenizer that from_huggingface reads."""

    def __init__(self, vocab: dict[str, int], special: dict[str, int], eos_token_id):
        self._vocab = {**vocab, **special}
        self._by_id = {i: p for p, i in self._vocab.items()}
        self.all_special_ids = sorted(special.values())
        self.eos_token_id = eos_token_id

    def get_vocab(self) -> dict[str, int]:
        return dict(self._vocab)

    def convert_ids_to_tokens(self, ids):
        return [self._by_id.get(i) for i in ids]


def llama3_stand_in(path, eos_ids):
    data = json.loads(path.read_text())
    special = {t["content"]: t["id"] for t in data["added_tokens"] if t.get("special")}
    return StandInTokenizer(data["model"]["vocab"], special, eos_ids)


def test_from_huggingface_equals_the_tokenizer_json_reader(llama3_tokenizer_path, llama3_vocab):
    tokenizer = llama3_stand_in(llama3_tokenizer_path, llama3_vocab.eos_ids)
    vocab = stencil.Vocabulary.from_huggingface(tokenizer)
    assert vocab.size == llama3_vocab.size
    assert vocab.eos_ids == llama3_vocab.eos_ids
    differing = [i for i in range(vocab.size)
                 if vocab.token_bytes(i) != llama3_vocab.token_bytes(i) or vocab.kind(i) != llama3_vocab.kind(i)]
    assert differing == []
    # Same vocabulary, same masks.
    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    masks = []
    for v in (vocab, llama3_vocab):
        matcher = stencil.Matcher(stencil.Compiler(v).compile_json_schema(schema))
        assert matcher.accept_string('{"q": "')
        bitmask = stencil.allocate_token_bitmask(1, v.size)
        matcher.fill_next_token_bitmask(bitmask)
        masks.append(bitmask)
    assert np.array_equal(masks[0], masks[1])


def test_sentencepiece_style_pieces():
    tokenizer = StandInTokenizer({"▁hello": 3, "<0x0A>": 4, "a": 5, "▁": 6}, {"<s>": 1, "</s>": 2}, 2)
    vocab = stencil.Vocabulary.from_huggingface(tokenizer, vocab_size=10)
    assert vocab.size == 10
    assert [vocab.token_bytes(i) for i in (3, 4, 5, 6)] == [b" hello", b"\n", b"a", b" "]
    assert vocab.kind(0) != "normal"  # id 0 is a hole in get_vocab(): never allowed
    assert vocab.kind(1) == "special" and vocab.eos_ids == [2]
    assert vocab.kind(9) == "unused"


def test_byte_level_pieces_and_explicit_eos():
    tokenizer = StandInTokenizer({"a": 0, "Ġb": 1, "Ċ": 2, "Ã©": 3}, {"<|end|>": 4}, None)
    vocab = stencil.Vocabulary.from_huggingface(tokenizer, eos_ids=[4])
    assert [vocab.token_bytes(i) for i in range(4)] == [b"a", b" b", b"\n", "é".encode()]
    assert vocab.eos_ids == [4]


def test_not_a_tokenizer():
    with pytest.raises(stencil.ArgumentError, match="get_vocab"):
        stencil.Vocabulary.from_huggingface(object())
    with pytest.raises(stencil.ArgumentError, match="encoding"):
        stencil.Vocabulary.from_huggingface(StandInTokenizer({"a": 0}, {"</s>": 1}, 1), encoding="utf-16")


EOS = 9
PIECES = [b"a", b"b", b"c", b"ab", b"bc", b"{", b"}", b"1", b"x"]  # ids 0-8, EOS 9


@pytest.fixture()
def tiny():
    vocab = stencil.Vocabulary.from_tokens(PIECES + [b"</s>"], [EOS])
    return stencil.Compiler(vocab, threads=1)


def expected_scores(scores: np.ndarray, matchers) -> np.ndarray:
    out = scores.copy()
    for row, matcher in enumerate(matchers):
        bitmask = stencil.allocate_token_bitmask(1, out.shape[1])
        matcher.fill_next_token_bitmask(bitmask)
        allowed = allowed_ids(bitmask[0], out.shape[1])
        out[row, [i for i in range(out.shape[1]) if i not in allowed]] = -np.inf
    return out


@pytest.mark.parametrize("batch", [1, 3])
def test_processor_masks_exactly_the_disallowed_ids(tiny, batch):
    grammar = tiny.compile_regex("(ab|b)c+")
    processor = stencil.LogitsProcessor(grammar)
    oracle = [stencil.Matcher(grammar) for _ in range(batch)]  # followed by hand, token by token
    rng = np.random.default_rng(batch)
    input_ids = np.full((batch, 4), 7, dtype=np.int64)  # a prompt the grammar never sees
    plans = [[3, 2, 2, EOS], [1, 2, EOS, EOS], [0, 4, 2, EOS]][:batch]
    for step in range(4):
        scores = rng.standard_normal((batch, EOS + 1)).astype(np.float32)
        want = expected_scores(scores, oracle)
        returned = processor(input_ids, scores)
        assert returned is scores  # masked in place, as HF processors may be
        assert np.array_equal(scores, want)
        assert np.isinf(scores).any()
        chosen = [plan[step] for plan in plans]
        for matcher, token in zip(oracle, chosen):
            if not matcher.is_terminated():
                assert matcher.accept_token(token)
        input_ids = np.concatenate([input_ids, np.array(chosen)[:, None]], axis=1)
    # The call after EOS: every row is done and only allows EOS (HF pads finished rows with it).
    scores = np.zeros((batch, EOS + 1), dtype=np.float32)
    processor(input_ids, scores)
    assert all(m.is_terminated() for m in processor.matchers)
    assert [np.isfinite(r).nonzero()[0].tolist() for r in scores] == [[EOS]] * batch


def test_processor_one_grammar_per_row(tiny):
    grammars = [tiny.compile_regex("a"), tiny.compile_regex("x")]
    processor = stencil.LogitsProcessor(grammars)
    scores = np.zeros((2, EOS + 1), dtype=np.float32)
    processor(np.zeros((2, 1), dtype=np.int64), scores)
    assert [np.isfinite(r).nonzero()[0].tolist() for r in scores] == [[0], [8]]
    with pytest.raises(stencil.ArgumentError, match="2 grammars for a batch of 3"):
        stencil.LogitsProcessor(grammars)(np.zeros((3, 1), dtype=np.int64), np.zeros((3, EOS + 1), np.float32))


def test_processor_rejects_a_disallowed_token_and_skipped_steps(tiny):
    processor = stencil.LogitsProcessor(tiny.compile_regex("ab"))
    scores = np.zeros((1, EOS + 1), dtype=np.float32)
    processor(np.array([[5, 5]]), scores)
    with pytest.raises(stencil.ArgumentError, match="token 8 is not allowed"):
        processor(np.array([[5, 5, 8]]), scores)
    processor.reset()
    processor(np.array([[5, 5]]), scores)
    with pytest.raises(stencil.ArgumentError, match="one new token"):
        processor(np.array([[5, 5, 0, 1]]), scores)
    with pytest.raises(stencil.ArgumentError, match="batch changed"):
        processor(np.array([[5, 5, 0], [5, 5, 0]]), np.zeros((2, EOS + 1), np.float32))


def test_processor_with_a_padded_logit_width(tiny):
    # Models often have more logits than tokens: the padding columns are masked too.
    processor = stencil.LogitsProcessor(tiny.compile_regex("[abc]+"))
    scores = np.zeros((1, 16), dtype=np.float32)
    processor(np.array([[5]]), scores)
    assert np.isfinite(scores[0]).nonzero()[0].tolist() == [0, 1, 2, 3, 4]
