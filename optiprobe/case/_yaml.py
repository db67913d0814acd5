"""Read YAML safely and turn pydantic validation errors into located, readable messages.

``yaml.safe_load`` builds the data; ``yaml.compose`` of the same text gives the node tree with
line and column marks, so a schema violation at field path ``protected[1].min_temperature_c`` can
also be reported as "line 14, column 24" of the file the user wrote.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from optiprobe.errors import OptiprobeError

__all__ = ["format_loc", "node_at", "read_yaml", "validation_error"]


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (YAML says keys are unique)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # unhashable or exotic keys are reported by the constructor below
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    f"while reading the mapping at line {node.start_mark.line + 1}",
                    node.start_mark,
                    f"the key {key!r} appears twice (first at line "
                    f"{seen[key].start_mark.line + 1}); give each key once",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse ``path`` safely (duplicate keys rejected); return the data and the node tree.

    Raises
    ------
    OptiprobeError
        If the file is missing, unreadable, not UTF-8, or not valid YAML (with line and column).
    """
    if path.is_dir():
        raise OptiprobeError("is a folder, not a file", file=path.resolve(), allowed="a YAML file")
    if not path.is_file():
        raise OptiprobeError("file not found", file=path.resolve())
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OptiprobeError(f"cannot read the file: {exc}", file=path) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = None if mark is None else f"line {mark.line + 1}, column {mark.column + 1}"
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise OptiprobeError(
            f"malformed YAML: {problem}", file=path, location=where, allowed=_YAML_HINT
        ) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise OptiprobeError(f"malformed YAML: {exc}", file=path) from None


_YAML_HINT = (
    "YAML: keys of one mapping indented by the same number of spaces (no tabs), `key: value` "
    "with a space after the colon, list items as `- item`; the mistake is usually on that line "
    "or the one before it"
)


def format_loc(loc: tuple[Any, ...]) -> str:
    """Format a pydantic location tuple as ``a.b[2].c``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """Walk the composed YAML tree along a pydantic location; stop at the deepest match."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [
                v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part
            ]
            if not match:
                return node
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _user_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-branch tags (``sphere``, ``function-after[...]``) from a location."""
    return tuple(p for p in loc if isinstance(p, int) or not _is_internal_tag(p))


def _is_internal_tag(part: str) -> bool:
    return "[" in part or "(" in part or part.startswith(("function-", "constrained-"))


def validation_error(
    exc: ValidationError,
    *,
    file: Path,
    root: yaml.Node | None,
    tags: frozenset[str] = frozenset(),
    schema: dict | None = None,
) -> OptiprobeError:
    """Build a located OptiprobeError from a pydantic ``ValidationError``.

    Unknown fields are reported first (a misspelt field also makes its correct name "missing"),
    with the closest expected name as a suggestion; up to five problems are listed, each with its
    field path and line.

    Parameters
    ----------
    exc
        The validation error.
    file
        The file that was validated.
    root
        The composed YAML node tree of that file (for line/column).
    tags
        Discriminator values that pydantic inserts into locations (e.g. ``sphere``) to be dropped.
    schema
        The model's JSON schema: an unknown field is answered with the fields allowed at its
        place, and the closest of them as a suggestion.
    """
    errors = [dict(e, loc=_clean_loc(e["loc"], tags)) for e in exc.errors(include_url=False)]
    errors.sort(key=lambda e: e["type"] != "extra_forbidden")
    missing = [e["loc"] for e in errors if e["type"] == "missing"]
    for e in errors:
        if e["type"] == "extra_forbidden" and schema is not None:
            e["fields_here"] = fields_at(schema, e["loc"][:-1])
    lines = [_describe(e, root, missing) for e in errors[:_MAX_PROBLEMS]]
    first_where, first_message = lines[0]
    message = first_message
    more = [f"{where}: {text}" for where, text in lines[1:]]
    if more:
        message += "\n  also: " + "\n  also: ".join(more)
    if len(errors) > _MAX_PROBLEMS:
        message += f"\n  (and {len(errors) - _MAX_PROBLEMS} more)"
    return OptiprobeError(message, file=file, location=first_where, allowed=_allowed(errors[0]))


_MAX_PROBLEMS = 5


def _clean_loc(loc, tags: frozenset[str]) -> tuple[Any, ...]:
    return tuple(p for p in _user_loc(tuple(loc)) if p not in tags)


def fields_at(schema: dict, loc: tuple[Any, ...]) -> list[str]:
    """The field names a JSON schema allows in the mapping at ``loc`` (every union branch's)."""
    defs = schema.get("$defs", {})

    def branches(node: dict, depth: int = 0) -> list[dict]:
        while "$ref" in node and depth < 50:
            node, depth = defs.get(node["$ref"].rsplit("/", 1)[-1], {}), depth + 1
        out = []
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(key, []):
                out += branches(branch, depth + 1)
        return out or [node]

    nodes = branches(schema)
    for part in loc:
        following = []
        for node in nodes:
            if isinstance(part, int) and isinstance(node.get("items"), dict):
                following += branches(node["items"])
            elif part in node.get("properties", {}):
                following += branches(node["properties"][part])
            elif isinstance(node.get("additionalProperties"), dict):
                following += branches(node["additionalProperties"])
        nodes = following
    return sorted({name for node in nodes for name in node.get("properties", {})})


def _key_node(root, loc: tuple[Any, ...]):
    """The YAML key node of the field at ``loc`` (its value's node when not found)."""
    parent = node_at(root, loc[:-1]) if loc else None
    if isinstance(parent, yaml.MappingNode):
        for key, _ in parent.value:
            if isinstance(key, yaml.ScalarNode) and key.value == loc[-1]:
                return key
    return node_at(root, loc)


def _describe(error: dict[str, Any], root, missing: list[tuple]) -> tuple[str, str]:
    loc = error["loc"]
    kind = error["type"]
    # An unknown field is located at its key (where the user typed the name).
    node = _key_node(root, loc) if kind == "extra_forbidden" else node_at(root, loc)
    where = format_loc(loc)
    if node is not None:
        where += f" (line {node.start_mark.line + 1}, column {node.start_mark.column + 1})"
    if kind == "extra_forbidden":
        text = f"unknown field {loc[-1]!r}" if loc else "unknown field"
        siblings = [m[-1] for m in missing if m[:-1] == loc[:-1] and isinstance(m[-1], str)]
        siblings += error.get("fields_here", [])
        close = difflib.get_close_matches(str(loc[-1]), siblings, n=1, cutoff=0.6)
        return where, text + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind == "missing":
        return where, "required field is missing"
    if kind == "union_tag_invalid":
        tag = (error.get("ctx") or {}).get("tag")
        return where, f"unknown type {tag!r}"
    text = str(error["msg"]).removeprefix("Value error, ")
    if "input" in error:
        text += f"; got {_short(error['input'])}"
    return where, text


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _allowed(error: dict[str, Any]) -> str | None:
    """A sentence naming what is allowed, from pydantic's error context."""
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "extra_forbidden":
        if error.get("fields_here"):
            return ", ".join(error["fields_here"])
        return "only the fields documented in docs/case-format.md (see `optiprobe schema`)"
    if kind in ("literal_error", "enum", "union_tag_invalid"):
        return str(ctx.get("expected") or ctx.get("expected_tags") or "")
    if kind == "missing":
        return "add the field (see docs/case-format.md)"
    bounds = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    parts = [f"{op} {_number(ctx[key])}" for key, op in bounds.items() if key in ctx]
    return "a value " + " and ".join(parts) if parts else None


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
