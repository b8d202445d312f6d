"""Turns what users pass as a JSON Schema into JSON text for the compiler.

Accepted: a dict (or any JSON-serialisable mapping), a pydantic model class (v2's
``model_json_schema()``, v1's ``schema()``) or an instance of one, and any object with one of those
methods. str and bytes never reach this module (the extension takes them as they are).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def schema_json(schema: Any) -> str:
    """The JSON text of ``schema``; raises TypeError naming the type when it is not a schema."""
    if isinstance(schema, Mapping):
        return json.dumps(schema)
    # Classes and instances alike: pydantic exposes both methods on the class.
    cls = schema if isinstance(schema, type) else type(schema)
    if callable(getattr(cls, "model_json_schema", None)):  # pydantic v2
        return json.dumps(cls.model_json_schema())
    if callable(getattr(cls, "schema", None)):  # pydantic v1
        return json.dumps(cls.schema())
    raise TypeError(
        f"compile_json_schema expects JSON text, a dict or a pydantic model, got {type(schema).__name__}"
    )
