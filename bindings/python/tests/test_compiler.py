"""stencil.Compiler: every kind of constraint, every way to give a schema, the keyword options."""

from __future__ import annotations

import json
import sys

import pytest

import stencil
from conftest import SMALL_EOS, small_id
from gil import SLOW_COMPILE_SCHEMA, longest_stall

try:
    import pydantic
except ImportError:  # the test that needs it skips
    pydantic = None

if pydantic is not None:
    # Module level: pydantic resolves the (postponed) annotations against this module's globals.
    class Point(pydantic.BaseModel):
        x: int
        y: int

    class Shape(pydantic.BaseModel):
        name: str
        points: list[Point]
        closed: bool = False
else:
    Shape = None

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


def matches(grammar: stencil.CompiledGrammar, text: str | bytes) -> bool:
    """The text is a complete match: accepted byte for byte, then EOS."""
    matcher = stencil.Matcher(grammar)
    return matcher.accept_string(text) and matcher.accept_token(SMALL_EOS) and matcher.is_terminated()


@pytest.mark.parametrize("as_given", [json.dumps(PERSON), json.dumps(PERSON).encode(), PERSON])
def test_schema_as_text_bytes_or_dict(small_compiler, as_given):
    grammar = small_compiler.compile_json_schema(as_given)
    assert matches(grammar, '{"name": "Ada", "age": 36}')
    assert not matches(grammar, '{"name": "Ada"}')
    assert not matches(grammar, '{"name": "Ada", "age": "36"}')


def test_pydantic_v1_model_compiles(small_compiler):
    if Shape is None:
        pytest.skip("python3-pydantic is not installed (scripts/setup installs it)")
    grammar = small_compiler.compile_json_schema(Shape)
    doc = '{"name": "tri", "points": [{"x": 0, "y": 0}, {"x": 1, "y": 2}], "closed": true}'
    assert matches(grammar, doc)
    assert not matches(grammar, '{"name": "tri", "points": [{"x": 0}]}')
    # The document the grammar accepts is one pydantic accepts too.
    parse = getattr(Shape, "model_validate_json", None) or Shape.parse_raw
    assert parse(doc).points[1].y == 2
    # An instance is taken as its class.
    assert matches(small_compiler.compile_json_schema(Shape(name="a", points=[])), doc)


def test_pydantic_v2_style_model_json_schema_is_preferred(small_compiler):
    # pydantic v2 classes have both methods; model_json_schema() is the v2 one and must win.
    class V2Model:
        @classmethod
        def model_json_schema(cls):
            return {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}

        @classmethod
        def schema(cls):
            raise AssertionError("the v1 method was called on a v2 model")

    grammar = small_compiler.compile_json_schema(V2Model)
    assert matches(grammar, '{"ok": true}')


def test_not_a_schema_is_a_type_error(small_compiler):
    with pytest.raises(TypeError, match="int"):
        small_compiler.compile_json_schema(42)


def test_strict_and_extra_properties(small_compiler):
    assert not matches(small_compiler.compile_json_schema(PERSON), '{"name": "a", "age": 1, "x": 0}')
    loose = small_compiler.compile_json_schema(PERSON, strict=False)
    assert matches(loose, '{"name": "a", "age": 1, "x": 0}')


def test_whitespace_policies(small_compiler):
    compact = small_compiler.compile_json_schema(PERSON, whitespace="compact")
    assert matches(compact, '{"name":"a","age":1}')
    assert not matches(compact, '{"name": "a","age":1}')
    pretty = small_compiler.compile_json_schema(PERSON, whitespace="pretty", indent=4)
    assert matches(pretty, '{\n    "name": "a",\n    "age": 1\n}')
    assert not matches(pretty, '{"name": "a", "age": 1}')
    with pytest.raises(stencil.ArgumentError, match="whitespace"):
        small_compiler.compile_json_schema(PERSON, whitespace="loose")


def test_max_whitespace_bounds_a_run(small_compiler):
    tight = small_compiler.compile_json_schema(PERSON, max_whitespace=2)
    assert matches(tight, '{"name":  "a", "age": 1}')
    assert not matches(tight, '{"name":   "a", "age": 1}')
    spaces = small_compiler.compile_json_schema(PERSON, max_whitespace_spaces=2)
    assert spaces.to_gbnf() == tight.to_gbnf()
    one_newline = small_compiler.compile_json_schema(PERSON, max_whitespace_newlines=1)
    assert not matches(one_newline, '{\n\n"name": "a", "age": 1}')
    with pytest.raises(stencil.ArgumentError, match="not both"):
        small_compiler.compile_json_schema(PERSON, max_whitespace=2, max_whitespace_spaces=3)


def test_allow_escapes_and_max_depth(small_compiler):
    schema = {"type": "string"}
    assert matches(small_compiler.compile_json_schema(schema), r'"a\nb"')
    assert not matches(small_compiler.compile_json_schema(schema, allow_escapes=False), r'"a\nb"')
    nested = {"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}}
    assert matches(small_compiler.compile_json_schema(nested, max_depth=3), "[[[1]]]")
    with pytest.raises(stencil.LimitError, match="max_depth") as info:
        small_compiler.compile_json_schema(nested, max_depth=2)
    assert info.value.location == "/items/items/items"


def test_unknown_keyword_argument_is_a_type_error(small_compiler):
    with pytest.raises(TypeError):
        small_compiler.compile_json_schema(PERSON, whitespaces="compact")


def test_compile_grammar(small_compiler):
    grammar = small_compiler.compile_grammar('root ::= "yes" | "no" | [0-9]+')
    assert matches(grammar, "yes") and matches(grammar, "42") and not matches(grammar, "maybe")
    assert "root" in grammar.to_gbnf()


def test_compile_regex(small_compiler):
    grammar = small_compiler.compile_regex(r"[a-c]{2}\d")
    assert matches(grammar, "ab7") and not matches(grammar, "ab") and not matches(grammar, "abcd")


def test_compile_builtin_json_takes_options(small_compiler):
    flexible = small_compiler.compile_builtin_json()
    compact = small_compiler.compile_builtin_json(whitespace="compact")
    assert matches(flexible, '{"a": [1, true, null]}')
    assert matches(compact, '{"a":[1,true,null]}') and not matches(compact, '{"a": 1}')
    assert not matches(flexible, "{")


def test_grammar_properties(small_compiler, small_vocab):
    grammar = small_compiler.compile_json_schema(PERSON)
    stats = grammar.stats
    assert set(stats) == {"rules", "automaton_states", "scanning_states", "cached_positions", "mask_cache_bytes",
                          "compile_ms"}
    assert stats["automaton_states"] > 0 and stats["compile_ms"] >= 0
    assert grammar.memory_bytes > 0
    assert grammar.vocabulary.size == small_vocab.size
    assert grammar.warnings == []
    assert repr(grammar).startswith("<stencil.CompiledGrammar ")


def test_compiler_options(small_vocab):
    compiler = stencil.Compiler(small_vocab, threads=2)
    assert compiler.threads == 2 and compiler.vocabulary.size == small_vocab.size
    with pytest.raises(stencil.ArgumentError, match="threads"):
        stencil.Compiler(small_vocab, threads=-1)
    tiny = stencil.Compiler(small_vocab, max_automaton_states=8)
    with pytest.raises(stencil.LimitError, match="max_automaton_states"):
        tiny.compile_json_schema(PERSON)


def test_threads_give_the_same_masks(llama3_vocab):
    schema = {"type": "object", "properties": {f"k{i}": {"type": "string", "maxLength": 8} for i in range(6)}}
    one = stencil.Compiler(llama3_vocab, threads=1).compile_json_schema(schema)
    many = stencil.Compiler(llama3_vocab, threads=2).compile_json_schema(schema)
    masks = []
    for grammar in (one, many):
        matcher = stencil.Matcher(grammar)
        rows = stencil.allocate_token_bitmask(3, llama3_vocab.size)
        for row, text in enumerate(['', '{"k3": "ab', '", ']):
            assert matcher.accept_string(text)
            matcher.fill_next_token_bitmask(rows, row)
        masks.append(rows)
    assert (masks[0] == masks[1]).all()


def test_compile_releases_the_gil(llama3_vocab):
    compiler = stencil.Compiler(llama3_vocab, threads=1)
    duration, stall = longest_stall(lambda: compiler.compile_json_schema(SLOW_COMPILE_SCHEMA))
    assert duration > 0.05, f"the compile took {duration * 1000:.1f} ms: too short to tell"
    assert stall < duration / 2, f"ticker stalled {stall * 1000:.1f} ms of a {duration * 1000:.1f} ms compile"



def test_portable_patterns(small_compiler):
    # U+FEFF is \s in ECMAScript, not in Python's re: by default it is not produced (nor accepted).
    schema = {"type": "string", "pattern": "^\\s$"}
    assert matches(small_compiler.compile_json_schema(schema), '" "')
    assert not matches(small_compiler.compile_json_schema(schema), '"\ufeff"')
    assert matches(small_compiler.compile_json_schema(schema, portable_patterns=False), '"\ufeff"')
