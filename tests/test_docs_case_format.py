"""docs/case-format.md (and docs/phantoms.md) document every field of the case and plan schemas."""

from __future__ import annotations

import json
from pathlib import Path

from optiprobe.case import case_json_schema, plan_json_schema

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _property_names(schema: dict) -> set[str]:
    names: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names


def test_every_schema_field_is_documented():
    # Phantom parameters are documented with their anatomical sources in docs/phantoms.md.
    text = "".join(
        (DOCS / n).read_text(encoding="utf-8") for n in ("case-format.md", "phantoms.md")
    )
    fields = _property_names(json.loads(case_json_schema())) | _property_names(
        json.loads(plan_json_schema())
    )
    assert len(fields) > 60
    missing = sorted(f for f in fields if f"`{f}`" not in text and f"{f}:" not in text)
    assert not missing, f"fields missing from docs/case-format.md and docs/phantoms.md: {missing}"
