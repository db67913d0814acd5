"""Fingerprint of what a surrogate was calibrated on: solver physics, tissues, probe catalogue.

A surrogate is only as good as the solver it was fitted to. The fingerprint hashes the solver's
code with comments, docstrings and formatting removed (the ``ast`` of each physics module), the
tissue property table and the probe catalogue. A change to any of them changes the fingerprint,
and a surrogate whose stored fingerprint differs refuses to predict (see
:func:`optiprobe.surrogate.load_surrogate`) until it is re-calibrated.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import importlib.util
import json

__all__ = ["PHYSICS_MODULES", "fingerprint"]

# Modules whose code decides the solver's answer. The time integrator and its step rule are
# included: results move (slightly) with the step, so they are part of what was fitted.
PHYSICS_MODULES = (
    "optiprobe.thermal.material",
    "optiprobe.thermal.operators",
    "optiprobe.thermal.sources",
    "optiprobe.thermal.stepping",
    "optiprobe.thermal.schedule",
    "optiprobe.thermal.simulate",
)


def _code_digest(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"cannot find {module}")
    with open(spec.origin, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]  # drop the docstring
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()


def _tables() -> dict:
    from optiprobe.probes import CATALOGUE
    from optiprobe.tissues import PROPERTY_NAMES, TISSUES

    tissues = {
        name: {prop: tissue.value(prop) for prop in PROPERTY_NAMES}
        for name, tissue in sorted(TISSUES.items())
    }
    probes = {
        name: dataclasses.asdict(model)
        | {"description": None, "source": None, "calibration": None}
        for name, model in sorted(CATALOGUE.items())
    }
    return {"tissues": tissues, "probes": probes}


def fingerprint() -> dict[str, str]:
    """Digests of the solver code, the tissue table and the probe catalogue, and their sum."""
    parts = {module: _code_digest(module) for module in PHYSICS_MODULES}
    tables = _tables()
    for key, value in tables.items():
        parts[key] = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
    parts["total"] = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return parts
