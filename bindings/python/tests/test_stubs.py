"""The type stubs (stencil/_core.pyi) say what the built extension really has, and docs exist.

Editors read the stubs, not the extension; a stub that drifts from the module misleads every user.
Each stub class and function is checked against the module: same names, same parameters (names,
order, keyword-only marker) as pybind11's own signature line, properties where the module has them.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import stencil
from stencil import _core

STUB = Path(stencil.__file__).with_name("_core.pyi")


def stub_tree() -> ast.Module:
    if not STUB.exists():
        pytest.fail(f"{STUB} is missing")
    return ast.parse(STUB.read_text())


def stub_params(fn: ast.FunctionDef) -> list[str]:
    names = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    if fn.args.kwonlyargs:
        names += ["*"] + [a.arg for a in fn.args.kwonlyargs]
    return [n for n in names if n != "self"]


def split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return parts


def runtime_params(obj) -> list[str]:
    doc = getattr(obj, "__doc__", None) or ""
    first = doc.splitlines()[0] if doc else ""
    if "(" in first and first.split("(")[0].isidentifier():  # pybind11's "name(arg: type, ...) -> ret"
        inner = first[first.index("(") + 1 : first.rindex(")")]
        names = [p.split(":")[0].split("=")[0].strip() for p in split_top_level(inner)]
        return [n for n in names if n != "self"]
    sig = inspect.signature(obj)  # a Python function (Vocabulary.from_huggingface)
    names = []
    for p in sig.parameters.values():
        if p.kind is p.KEYWORD_ONLY and "*" not in names:
            names.append("*")
        names.append(p.name)
    return [n for n in names if n != "self"]


def is_property(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in fn.decorator_list)


def stub_classes():
    return [node for node in stub_tree().body if isinstance(node, ast.ClassDef)]


@pytest.mark.parametrize("cls", stub_classes(), ids=lambda c: c.name)
def test_stub_class_matches_the_module(cls):
    runtime = getattr(_core, cls.name, None)
    assert isinstance(runtime, type), f"_core has no class {cls.name}"
    stubbed = set()
    for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
        stubbed.add(fn.name)
        attr = inspect.getattr_static(runtime, fn.name, None)
        assert attr is not None, f"{cls.name}.{fn.name} is in the stub but not in the module"
        if is_property(fn):
            assert isinstance(attr, property), f"{cls.name}.{fn.name} is not a property in the module"
            continue
        assert not isinstance(attr, property), f"{cls.name}.{fn.name} is a property in the module"
        assert stub_params(fn) == runtime_params(getattr(runtime, fn.name)), f"{cls.name}.{fn.name}"
    public = {n for n in vars(runtime) if not n.startswith("_")} | ({"__init__"} & set(vars(runtime)))
    if "__init__" in public and "__init__" not in stubbed:
        # Classes made only by the module (no public constructor) need no __init__ in the stub.
        doc = runtime.__init__.__doc__ or ""
        assert not doc.startswith("__init__("), f"{cls.name}.__init__ is missing from the stub"
        public.discard("__init__")
    assert public - stubbed == set(), f"{cls.name}: not in the stub"


def test_stub_functions_match_the_module():
    functions = [n for n in stub_tree().body if isinstance(n, ast.FunctionDef)]
    for fn in functions:
        assert stub_params(fn) == runtime_params(getattr(_core, fn.name)), fn.name
    module_functions = {n for n, v in vars(_core).items() if callable(v) and not isinstance(v, type)
                        and not n.startswith("__")}
    assert module_functions == {fn.name for fn in functions}
    module_classes = {n for n, v in vars(_core).items() if isinstance(v, type) and not n.startswith("_")}
    assert module_classes == {c.name for c in stub_classes()}


def doc_text(obj) -> str:
    """The docstring without pybind11's generated signature line (which every binding has)."""
    lines = (obj.__doc__ or "").strip().splitlines()
    if lines and "(" in lines[0] and lines[0].split("(")[0].isidentifier():
        lines = lines[1:]
    return "\n".join(lines).strip()


def test_the_package_is_typed_and_documented():
    assert Path(stencil.__file__).with_name("py.typed").exists()
    for name in stencil.__all__:
        assert doc_text(getattr(stencil, name)), f"stencil.{name} has no docstring"
    classes = [stencil.Compiler, stencil.CompiledGrammar, stencil.Matcher, stencil.MatcherBatch, stencil.BatchFiller,
               stencil.Vocabulary, stencil.Tokenizer, stencil.Model, stencil.LogitsProcessor, _core.Model]
    for cls in classes:
        for name, member in vars(cls).items():
            if name.startswith("_") or isinstance(member, property):
                continue
            assert doc_text(getattr(cls, name)), f"{cls.__module__}.{cls.__name__}.{name} has no docstring"
