"""Load and check case and plan files, with errors that name the file, field, line and fix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from optiprobe.anatomy.grid import Grid
from optiprobe.anatomy.phantoms import PHANTOM_MODELS, build_phantom
from optiprobe.case._yaml import format_loc, node_at, read_yaml, validation_error
from optiprobe.case.geometry import SHAPE_TAGS
from optiprobe.case.models import Case
from optiprobe.case.plan import Plan
from optiprobe.errors import OptiprobeError
from optiprobe.probes import CATALOGUE, get_probe_model
from optiprobe.tissues import PROPERTY_NAMES, TISSUES

__all__ = [
    "case_json_schema",
    "is_plan_file",
    "load_case",
    "load_plan",
    "plan_case_path",
    "plan_json_schema",
    "plan_problems",
    "structure_names",
]

# Discriminator values pydantic puts into error locations; users never wrote them.
_TAGS = (
    SHAPE_TAGS
    | set(PHANTOM_MODELS)
    | {"hydrodissection", "co2", "ice_margin", "tumor_coverage", "str", "CustomProbeSpec"}
)


def _validate(model: type[BaseModel], path: Path) -> tuple[Any, Any]:
    data, root = read_yaml(path)
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise OptiprobeError(
            f"expected a mapping of fields at the top level, got {kind}",
            file=path,
            allowed="a YAML mapping such as `name: my_case` (see docs/case-format.md)",
        )
    try:
        return model.model_validate(data), root
    except ValidationError as exc:
        raise validation_error(
            exc, file=path, root=root, tags=frozenset(_TAGS), schema=model.model_json_schema()
        ) from None
    except (TypeError, ValueError, RecursionError) as exc:  # e.g. unhashable YAML keys
        raise OptiprobeError(f"invalid content: {exc}", file=path) from None


def _located(path: Path, root: Any, loc: tuple, message: str, allowed: str | None = None):
    node = node_at(root, loc)
    where = format_loc(loc)
    if node is not None:
        where += f" (line {node.start_mark.line + 1}, column {node.start_mark.column + 1})"
    return OptiprobeError(message, file=path, location=where, allowed=allowed)


def structure_names(case: Case) -> list[str]:
    """Names of every structure the case defines, in painting order (tumour last)."""
    anatomy = case.anatomy
    names: list[str] = []
    if anatomy.phantom is not None:
        names += [s.name for s in build_phantom(anatomy.phantom).structures]
    if anatomy.labelmap is not None:
        names += [label.name for label in anatomy.labelmap.labels]
    names += [s.name for s in anatomy.structures]
    names += [p.name for p in case.protection]
    return [*names, case.tumor.name]


def _reference_problems(case: Case) -> Iterator[tuple[tuple, str, str | None]]:
    """Yield (location, message, allowed) for every broken cross-reference of a case."""
    known_tissues = ", ".join(sorted(TISSUES))
    tissue_refs: list[tuple[tuple, str]] = [(("tumor", "tissue"), case.tumor.tissue_name)]
    tissue_refs += [
        (("tumor", "components", i, "phenotype"), c.tissue_name)
        for i, c in enumerate(case.tumor.components)
    ]
    anatomy = case.anatomy
    if anatomy.labelmap is not None:
        tissue_refs.append(
            (("anatomy", "labelmap", "background_tissue"), anatomy.labelmap.background_tissue)
        )
        tissue_refs += [
            (("anatomy", "labelmap", "labels", i, "tissue"), label.tissue)
            for i, label in enumerate(anatomy.labelmap.labels)
        ]
    if anatomy.uniform is not None:
        tissue_refs.append((("anatomy", "uniform", "tissue"), anatomy.uniform.tissue))
    tissue_refs += [
        (("anatomy", "structures", i, "tissue"), s.tissue)
        for i, s in enumerate(anatomy.structures)
    ]
    for loc, tissue in tissue_refs:
        if tissue not in TISSUES:
            yield loc, f"unknown tissue {tissue!r}", known_tissues
    for tissue, overrides in case.tissue_overrides.items():
        if tissue not in TISSUES:
            yield ("tissue_overrides", tissue), f"unknown tissue {tissue!r}", known_tissues
        for prop in overrides:
            if prop not in PROPERTY_NAMES:
                yield (
                    ("tissue_overrides", tissue, prop),
                    f"unknown tissue property {prop!r}",
                    ", ".join(PROPERTY_NAMES),
                )
    if case.tumor.label is not None and anatomy.labelmap is None:
        yield ("tumor", "label"), "tumor.label needs a labelmap anatomy", "tumor.shape"
    yield from _name_problems(case)
    yield from _probe_problems(case)
    if case.variants:
        from optiprobe.case.variants import variant_problems

        yield from variant_problems(case)
    bounds = case.protocol.freeze_bounds_min
    for i, phase in enumerate(case.protocol.phases):
        if bounds and phase.kind == "freeze" and not bounds[0] <= phase.duration_min <= bounds[1]:
            yield (
                ("protocol", "phases", i, "duration_min"),
                f"freeze of {phase.duration_min:g} min lies outside freeze_bounds_min",
                f"between {bounds[0]:g} and {bounds[1]:g} min",
            )


def _name_problems(case: Case) -> Iterator[tuple[tuple, str, str | None]]:
    names = structure_names(case)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        yield ("tumor", "name"), f"structure name(s) used twice: {', '.join(duplicates)}", None
    known = ", ".join(names)
    seen_protected: set[str] = set()
    for i, protected in enumerate(case.protected):
        if protected.structure in seen_protected:
            yield (
                ("protected", i, "structure"),
                f"{protected.structure!r} is protected twice",
                "one entry per structure",
            )
        seen_protected.add(protected.structure)
        if protected.structure not in names:
            yield ("protected", i, "structure"), f"no structure {protected.structure!r}", known
        if protected.structure == case.tumor.name:
            yield ("protected", i, "structure"), "the tumour cannot be protected", None
    for i, avoid in enumerate(case.access.avoid):
        if avoid.structure == case.tumor.name:
            yield ("access", "avoid", i, "structure"), "needles must reach the tumour", None
        if avoid.structure not in names:
            yield ("access", "avoid", i, "structure"), f"no structure {avoid.structure!r}", known
    protected_names = [p.structure for p in case.protected]
    couple_names = [c.name for c in case.thermocouples]
    for i, couple in enumerate(case.thermocouples):
        if couple_names.index(couple.name) != i:
            yield (
                ("thermocouples", i, "name"),
                f"thermocouple name {couple.name!r} used twice",
                "a unique name (it becomes a column of sensors.csv)",
            )
        if couple.watches is not None and couple.watches not in protected_names:
            yield (
                ("thermocouples", i, "watches"),
                f"{couple.watches!r} is not protected",
                ", ".join(protected_names) or "(no protected structures)",
            )


def _probe_problems(case: Case) -> Iterator[tuple[tuple, str, str | None]]:
    seen: set[str] = set()
    for i, model in enumerate(case.probes.models):
        name = model if isinstance(model, str) else model.name
        if isinstance(model, str) and model not in CATALOGUE:
            yield (
                ("probes", "models", i),
                f"unknown probe model {model!r}",
                ", ".join(sorted(CATALOGUE)) + ", or a full definition (name, diameter_mm, …)",
            )
        if not isinstance(model, str) and model.name in CATALOGUE:
            yield (
                ("probes", "models", i, "name"),
                f"custom probe name {model.name!r} clashes with the catalogue",
                "another name",
            )
        if name in seen:
            yield ("probes", "models", i), f"probe model {name!r} listed twice", None
        seen.add(name)


def load_case(path: str | Path) -> Case:
    """Read, validate and cross-check a case file.

    Label-map paths are resolved relative to the case file and must exist.

    Raises
    ------
    OptiprobeError
        Naming the file, the field path and line, what was found and what is allowed.
    """
    path = Path(path)
    case, root = _validate(Case, path)
    for loc, message, allowed in _reference_problems(case):
        raise _located(path, root, loc, message, allowed)
    labelmap = case.anatomy.labelmap
    if labelmap is None:
        return case
    resolved = (path.parent / labelmap.path).resolve()
    if not resolved.is_file():
        raise _located(
            path,
            root,
            ("anatomy", "labelmap", "path"),
            f"label-map file not found: {resolved}",
            "a path relative to the case file's folder",
        )
    anatomy = case.anatomy.model_copy(
        update={"labelmap": labelmap.model_copy(update={"path": str(resolved)})}
    )
    return case.model_copy(update={"anatomy": anatomy})


def load_plan(path: str | Path, case: Case | None = None, *, grid: Grid | None = None) -> Plan:
    """Read and validate a plan file; with ``case`` (and its ``grid``), check it against them."""
    path = Path(path)
    plan, root = _validate(Plan, path)
    if case is not None:
        for loc, message, allowed in plan_problems(plan, case, grid=grid):
            raise _located(path, root, loc, message, allowed)
    return plan


def plan_case_path(plan: Plan, plan_path: str | Path) -> Path | None:
    """The case file a plan names (resolved against the plan's folder), or None."""
    return None if plan.case is None else (Path(plan_path).parent / plan.case).resolve()


def is_plan_file(path: str | Path) -> bool:
    """Whether a YAML file looks like a plan (a top-level ``probes`` list and no ``anatomy``)."""
    data, _ = read_yaml(Path(path))
    return (
        isinstance(data, dict) and "anatomy" not in data and isinstance(data.get("probes"), list)
    )


def plan_problems(
    plan: Plan, case: Case, *, grid: Grid | None = None
) -> Iterator[tuple[tuple, str, str | None]]:
    """Yield (location, message, allowed) for every way ``plan`` does not fit ``case``.

    With ``grid`` (the case's simulation grid), probe tips must also lie inside it.
    """
    if grid is not None:
        lower, upper = grid.lower_mm.round(1).tolist(), grid.upper_mm.round(1).tolist()
        for i, probe in enumerate(plan.probes):
            if not grid.contains(np.asarray(probe.tip_mm)):
                yield (
                    ("probes", i, "tip_mm"),
                    f"probe tip {list(probe.tip_mm)} lies outside the case grid",
                    f"a tip inside [{lower}, {upper}] mm (or a larger grid in the case)",
                )
    allowed_models = case.probes.model_names
    protocol = plan.protocol or case.protocol
    n_freeze = len(protocol.freeze_durations_min)
    custom = {m.name: m for m in case.probes.models if not isinstance(m, str)}
    for i, probe in enumerate(plan.probes):
        if probe.model not in allowed_models:
            yield (
                ("probes", i, "model"),
                f"probe model {probe.model!r} is not allowed by this case",
                ", ".join(allowed_models),
            )
            continue
        if probe.freeze_min is not None and len(probe.freeze_min) != n_freeze:
            yield (
                ("probes", i, "freeze_min"),
                f"{len(probe.freeze_min)} freeze duration(s) for {n_freeze} freeze phase(s)",
                f"a list of {n_freeze} durations in minutes, or omit it",
            )
        model = custom.get(probe.model) or get_probe_model(probe.model)
        needed = model.active_length_mm + model.tip_offset_mm
        if probe.depth_mm < needed:
            yield (
                ("probes", i, "entry_mm"),
                f"insertion depth {probe.depth_mm:.1f} mm is shorter than the probe's active "
                f"zone ({needed:.1f} mm from the tip): it would freeze outside the skin",
                f"entry_mm at least {needed:.1f} mm from tip_mm",
            )


def case_json_schema() -> str:
    """The JSON Schema of case files, as indented JSON text."""
    return json.dumps(Case.model_json_schema(), indent=2)


def plan_json_schema() -> str:
    """The JSON Schema of plan files, as indented JSON text."""
    return json.dumps(Plan.model_json_schema(), indent=2)
