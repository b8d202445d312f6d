"""The README's Python example runs as written and prints what it says."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import pytest

from conftest import REPO


def readme_example() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Python\n", 1)
    assert len(section) == 2, "README.md has no '## Python' section"
    match = re.search(r"```python\n(.*?)```", section[1], re.S)
    assert match, "the README's Python section has no ```python block"
    return match.group(1)


def test_the_example_is_about_fifteen_lines():
    code = readme_example()
    ast.parse(code)
    assert 10 <= len([line for line in code.splitlines() if line.strip()]) <= 22


def test_the_example_runs():
    code = readme_example()
    # The README's model path is relative to the repository root: the shared folder beside it.
    model = REPO.parent / "shared" / "models" / "stories260K" / "stories260K-q8_0.gguf"
    if not model.exists():
        pytest.skip(f"the README's model path does not exist here ({model})")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    generated, driven = run.stdout.splitlines()
    assert json.loads(generated)["unit"] in ("celsius", "fahrenheit")
    assert ast.literal_eval(driven)["unit"] in ("celsius", "fahrenheit")
