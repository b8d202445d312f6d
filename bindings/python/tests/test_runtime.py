"""The bundled runtime from Python: Model.load, generate (plain, constrained, streamed), tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import stencil
from gil import longest_stall

jsonschema = pytest.importorskip("jsonschema", reason="python3-jsonschema (scripts/setup installs it)")

WEATHER = json.loads((Path(__file__).resolve().parents[3] / "examples" / "schemas" / "weather.json").read_text())


def test_load_and_info(model, model_path):
    info = model.info
    assert info["architecture"] == "llama" and info["n_vocab"] == 512
    assert info["path"] == str(model_path)
    assert model.vocabulary.size == 512
    assert model.tokenizer.size == len(model.tokenizer) == 512


def test_load_errors(tmp_path):
    with pytest.raises(stencil.Error):
        stencil.Model.load(str(tmp_path / "absent.gguf"))
    with pytest.raises(stencil.ArgumentError):
        stencil.Model.load(str(tmp_path / "absent.gguf"), threads=-1)


def test_tokenizer_round_trip(model):
    tokenizer = model.tokenizer
    ids = tokenizer.encode("Once upon a time, there was a cat.")
    assert len(ids) > 3 and all(0 <= i < tokenizer.size for i in ids)
    assert tokenizer.decode(ids, strip_space_prefix=True) == "Once upon a time, there was a cat."
    assert tokenizer.decode_bytes(ids, strip_space_prefix=True) == b"Once upon a time, there was a cat."
    assert tokenizer.encode("cat", add_special=True)[0] == tokenizer.bos_id
    assert tokenizer.eos_ids == [2]
    assert tokenizer.token_bytes(ids[1]) == model.vocabulary.token_bytes(ids[1])
    assert tokenizer.family == "sentencepiece"


@pytest.mark.parametrize("seed", range(6))
def test_schema_generation_is_valid_json(model, seed):
    text = model.generate("The weather in", schema=WEATHER, max_tokens=120, temperature=1.0, seed=seed)
    jsonschema.validate(json.loads(text), WEATHER)


def test_pydantic_schema_and_result_fields(model):
    pydantic = pytest.importorskip("pydantic")

    class Answer(pydantic.BaseModel):
        name: str
        happy: bool

    result = model.generate_result("Tell me", schema=Answer, max_tokens=60, seed=3, whitespace="compact")
    assert result.valid and result.stop_reason == "eos"
    doc = json.loads(result.text)
    assert set(doc) == {"name", "happy"}
    assert json.dumps(doc, separators=(",", ":"), ensure_ascii=False) == result.text  # compact: no whitespace
    assert 0 < result.generated_tokens <= 60 and result.prompt_tokens > 0
    assert len(result.tokens) >= result.generated_tokens
    assert result.forced_tokens >= 0 and not result.loop_guard_fired
    assert set(result.timing) == {"prompt_tok_s", "gen_tok_s", "mask_share"}


def test_json_regex_and_grammar_constraints(model):
    json.loads(model.generate("Data:", json=True, max_tokens=40, seed=1))
    digits = model.generate("Count:", regex=r"[0-9]{3}-[0-9]{2}", max_tokens=20, seed=1)
    assert len(digits) == 6 and digits[3] == "-" and (digits[:3] + digits[4:]).isdigit()
    answer = model.generate("Is it?", grammar='root ::= "yes" | "no"', max_tokens=10, seed=2)
    assert answer in ("yes", "no")
    compiled = model.compiler.compile_regex("(cat|dog)s?")
    assert model.generate("Pet:", grammar=compiled, max_tokens=5, seed=0).rstrip("s") in ("cat", "dog")


def test_budget_is_respected(model):
    result = model.generate_result("x", schema={"type": "array", "items": {"type": "integer"}}, max_tokens=12, seed=5)
    assert result.valid and result.generated_tokens <= 12
    assert isinstance(json.loads(result.text), list)


def test_greedy_is_deterministic_and_seed_matters(model):
    a = model.generate("Once upon a time", max_tokens=30, temperature=0)
    b = model.generate("Once upon a time", max_tokens=30, temperature=0)
    assert a == b and a
    samples = {model.generate("Once upon a time", max_tokens=30, temperature=1.0, seed=s) for s in range(4)}
    assert len(samples) > 1


def test_stream_yields_the_same_text(model):
    kwargs = dict(schema=WEATHER, max_tokens=100, temperature=1.0, seed=11)
    pieces = list(model.generate("Weather:", stream=True, **kwargs))
    assert len(pieces) > 5 and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == model.generate("Weather:", **kwargs)


def test_closing_a_stream_early_stops_it(model):
    stream = model.generate("Once", max_tokens=400, seed=1, stream=True)
    first = next(stream)
    stream.close()  # joins the worker; must not hang or raise
    assert isinstance(first, str)


def test_stream_errors_raise_at_the_call(model):
    with pytest.raises(stencil.SchemaError):
        model.generate("x", schema={"type": "nope"}, stream=True)


def test_on_piece_callback(model):
    pieces: list[bytes] = []
    result = model.generate_result("Once", max_tokens=20, seed=4, on_piece=pieces.append)
    assert b"".join(pieces).decode("utf-8", "replace") == result.text


def test_argument_errors(model):
    with pytest.raises(stencil.ArgumentError, match="at most one constraint"):
        model.generate("x", schema=WEATHER, regex="a")
    with pytest.raises(stencil.ArgumentError, match="need schema"):
        model.generate("x", whitespace="compact")
    with pytest.raises(stencil.ArgumentError, match="seed"):
        model.generate("x", seed=-1)
    with pytest.raises(stencil.GrammarError):
        model.generate("x", grammar="root ::= (")


def test_generate_releases_the_gil(model):
    duration, stall = longest_stall(lambda: model.generate("Once", max_tokens=480, temperature=1.0, seed=2))
    assert duration > 0.03, f"generate took {duration * 1000:.1f} ms: too short to tell"
    assert stall < duration / 2, f"ticker stalled {stall * 1000:.1f} ms of a {duration * 1000:.1f} ms generate"
