"""The bitmask the bindings write equals the one the C++ API computes, word for word.

The C++ side is mask_oracle (mask_oracle.cc beside this file, built into <build>/bindings/python):
it compiles the same constraint with the same defaults and prints each state's mask. Python walks
random token paths through the grammar, fills its masks into rows of a numpy batch (row i for
step i, so the row plumbing is checked too), and the oracle replays the same paths.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import numpy as np
import pytest

import stencil
from conftest import CORE_DIR
from mask_helpers import allowed_ids

WEATHER = Path(__file__).resolve().parents[3] / "examples" / "schemas" / "weather.json"
CONSTRAINTS = [
    ("schema", WEATHER.read_text() if WEATHER.exists() else None),
    ("grammar", 'root ::= "call(" arg ("," arg)* ")"\narg ::= [a-z]+ "=" [0-9]{1,3}\n'),
    ("regex", r"(\+\d{1,3} )?\d{3}-\d{4}"),
    ("json", ""),
]


def oracle_path() -> Path:
    path = Path(os.environ.get("STENCIL_MASK_ORACLE", CORE_DIR.parent / "mask_oracle"))
    if not path.exists():
        pytest.skip(f"mask_oracle not found at {path} (built with -DSTENCIL_BUILD_TESTS=ON)")
    return path


def random_paths(grammar: stencil.CompiledGrammar, count: int, length: int, seed: int):
    """Token paths through the grammar (sampled from the masks), and the masks seen on the way."""
    rng = random.Random(seed)
    size = grammar.vocabulary.size
    paths, masks = [], []
    for _ in range(count):
        matcher = stencil.Matcher(grammar)
        rows = stencil.allocate_token_bitmask(length + 1, size)
        path = []
        for step in range(length + 1):
            matcher.fill_next_token_bitmask(rows, step)
            allowed = sorted(allowed_ids(rows[step], size) - set(grammar.vocabulary.eos_ids))
            if step == length or not allowed:
                break
            # Half the time a token with punctuation in it: otherwise the 1000 three-digit tokens
            # of Llama-3 make most JSON walks one long number.
            structural = [t for t in allowed if not grammar.vocabulary.token_bytes(t).isalnum()]
            token = rng.choice(structural if structural and rng.random() < 0.5 else allowed)
            assert matcher.accept_token(token)
            path.append(token)
        paths.append(path)
        masks.append(rows[: len(path) + 1])
    return paths, masks


@pytest.mark.parametrize("kind, text", CONSTRAINTS, ids=[c[0] for c in CONSTRAINTS])
def test_python_masks_equal_cpp_masks(tmp_path, llama3_tokenizer_path, llama3_compiler, kind, text):
    oracle = oracle_path()
    if text is None:
        pytest.skip(f"{WEATHER} is missing")
    compile_call = {
        "schema": llama3_compiler.compile_json_schema,
        "grammar": llama3_compiler.compile_grammar,
        "regex": llama3_compiler.compile_regex,
        "json": lambda _: llama3_compiler.compile_builtin_json(),
    }[kind]
    grammar = compile_call(text)
    paths, masks = random_paths(grammar, count=3, length=12, seed=len(kind))
    constraint = tmp_path / "constraint"
    constraint.write_text(text)
    run = subprocess.run(
        [str(oracle), str(llama3_tokenizer_path), kind, str(constraint)],
        input="".join(" ".join(map(str, p)) + "\n" for p in paths),
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    expected_rows = sum(len(p) + 1 for p in paths)
    assert len(lines) == expected_rows
    cpp = np.array([[int(w, 16) for w in line.split()] for line in lines], dtype=np.uint32)
    python = np.concatenate(masks).view(np.uint32)
    assert cpp.shape == python.shape
    mismatched = np.flatnonzero((cpp != python).any(axis=1))
    assert mismatched.size == 0, f"rows {mismatched.tolist()} differ"
    # The walk is not trivial: masks change along the way, and some allow many tokens.
    assert len({row.tobytes() for row in python}) > 3
