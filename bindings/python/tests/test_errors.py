"""C++ exceptions arrive as stencil.Error subclasses with the same message and location."""

from __future__ import annotations

import pickle

import pytest

import stencil

CLASSES = ["SchemaError", "GrammarError", "VocabularyError", "ModelError", "LimitError", "ArgumentError", "Error"]


@pytest.mark.parametrize("name", CLASSES)
def test_each_cpp_class_maps_to_the_python_class_of_its_name(name):
    with pytest.raises(stencil.Error) as info:
        stencil._core._raise_cpp_error(name, "what went wrong", "/where")
    assert type(info.value) is getattr(stencil, name)
    assert info.value.message == "what went wrong"
    assert info.value.location == "/where"
    assert str(info.value) == "/where: what went wrong"


def test_no_location_reads_as_the_message():
    with pytest.raises(stencil.Error) as info:
        stencil._core._raise_cpp_error("Error", "plain")
    assert str(info.value) == "plain" and info.value.location == ""


def test_errors_pickle_with_their_parts():
    error = stencil.SchemaError("bad type", "/properties/a")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is stencil.SchemaError
    assert (copy.message, copy.pointer, str(copy)) == ("bad type", "/properties/a", str(error))


def test_hierarchy():
    for name in CLASSES[:-1]:
        assert issubclass(getattr(stencil, name), stencil.Error)
    assert issubclass(stencil.ArgumentError, ValueError)


def test_schema_error_carries_the_pointer(small_compiler):
    schema = {"type": "object", "properties": {"when": {"type": "strnig"}}}
    with pytest.raises(stencil.SchemaError) as info:
        small_compiler.compile_json_schema(schema)
    assert info.value.pointer == "/properties/when/type"
    assert "strnig" in info.value.message


def test_unsupported_keyword_is_an_error_unless_lenient(small_compiler):
    schema = {"type": "object", "properties": {"x": {"type": "number", "multipleOf": 0.37}}}
    with pytest.raises(stencil.SchemaError) as info:
        small_compiler.compile_json_schema(schema)
    assert info.value.pointer == "/properties/x/multipleOf"
    grammar = small_compiler.compile_json_schema(schema, lenient=True)
    assert any(w.startswith("/properties/x/multipleOf") and "ignored" in w for w in grammar.warnings)


def test_grammar_error_has_line_and_column(small_compiler):
    with pytest.raises(stencil.GrammarError) as info:
        small_compiler.compile_grammar('root ::= "a" b\nb ::= "x\n')
    assert (info.value.line, info.value.column) == (2, 7)
    assert str(info.value).startswith("2:7: ")


def test_regex_error_is_a_grammar_error(small_compiler):
    with pytest.raises(stencil.GrammarError):
        small_compiler.compile_regex("a(b")


def test_model_error_names_the_file(tmp_path):
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 12)
    with pytest.raises(stencil.ModelError) as info:
        stencil.Model.load(str(path))
    assert "broken.gguf" in str(info.value)


def test_limit_error_names_the_limit(small_vocab):
    compiler = stencil.Compiler(small_vocab, threads=1, max_repetition=10)
    with pytest.raises(stencil.LimitError) as info:
        compiler.compile_regex("a{50}")
    assert "max_repetition" in str(info.value)
