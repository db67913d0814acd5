"""Read YAML safely and turn pydantic validation errors into located, readable messages.

``yaml.safe_load`` builds the data; ``yaml.compose`` of the same text gives the node tree with
line and column marks, so a schema violation at field path ``protected[1].min_temperature_c`` can
also be reported as "line 14, column 24" of the file the user wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from optiprobe.errors import OptiprobeError

__all__ = ["format_loc", "node_at", "read_yaml", "validation_error"]


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse ``path`` with ``yaml.safe_load``; return the data and the composed node tree.

    Raises
    ------
    OptiprobeError
        If the file is missing, unreadable, not UTF-8, or not valid YAML (with line and column).
    """
    if not path.is_file():
        raise OptiprobeError("file not found", file=path.resolve())
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OptiprobeError(f"cannot read the file: {exc}", file=path) from None
    try:
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = None if mark is None else f"line {mark.line + 1}, column {mark.column + 1}"
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise OptiprobeError(f"malformed YAML: {problem}", file=path, location=where) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise OptiprobeError(f"malformed YAML: {exc}", file=path) from None


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
    return "[" in part or "(" in part or part.startswith("function-")


def validation_error(
    exc: ValidationError, *, file: Path, root: yaml.Node | None, tags: frozenset[str] = frozenset()
) -> OptiprobeError:
    """Build a located OptiprobeError from the first error of a pydantic ``ValidationError``.

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
    """
    first = exc.errors(include_url=False)[0]
    loc = tuple(p for p in _user_loc(tuple(first["loc"])) if p not in tags)
    node = node_at(root, loc)
    where = format_loc(loc)
    if node is not None:
        where += f" (line {node.start_mark.line + 1}, column {node.start_mark.column + 1})"
    message = first["msg"]
    if "input" in first and first["type"] not in ("missing",):
        message += f"; got {_short(first['input'])}"
    extra = len(exc.errors()) - 1
    if extra:
        message += f" (and {extra} more problem{'s' if extra > 1 else ''})"
    allowed = _allowed(first)
    return OptiprobeError(message, file=file, location=where, allowed=allowed)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _allowed(error: dict[str, Any]) -> str | None:
    """A sentence naming what is allowed, from pydantic's error context."""
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "extra_forbidden":
        return "only the fields documented in docs/case-format.md (see `optiprobe schema`)"
    if kind in ("literal_error", "enum", "union_tag_invalid"):
        return str(ctx.get("expected") or ctx.get("expected_tags") or "")
    bounds = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    parts = [f"{op} {_number(ctx[key])}" for key, op in bounds.items() if key in ctx]
    return "a value " + " and ".join(parts) if parts else None


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
