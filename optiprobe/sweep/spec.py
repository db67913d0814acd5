"""Sweep specs: scenarios × parameter grids, expanded into validated runs.

A parameter is a dotted path into the case YAML (``tumor.shape.radius_mm``; list items by index
or ``*`` for every item: ``anatomy.structures.0.shape.center_mm.1``), or into the plan YAML with
a ``plan.`` prefix (``plan.probes.*.model``, simulate mode only). Each path is checked against the
file and the case/plan schema before anything runs: an unknown key is an error naming the spec
file, the parameter and the keys allowed at that level. Every combination is then loaded as a
case (and plan) with the usual checks, so a value out of range fails before the first run too.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Field, JsonValue, model_validator

from optiprobe._model import StrictModel
from optiprobe.case._types import Name
from optiprobe.errors import OptiprobeError

__all__ = ["RunTask", "Sweep", "SweepSpec", "expand", "load_sweep", "short_name"]

PLAN_PREFIX = "plan"


class SweepSpec(StrictModel):
    """A sweep file. See ``docs/sweeps.md``."""

    schema_version: Literal[1] = 1
    name: Name
    description: str = ""
    cases: Annotated[list[str], Field(min_length=1, max_length=64)]
    mode: Literal["simulate", "plan"] = "simulate"
    plan: str | None = None
    parameters: dict[str, Annotated[list[JsonValue], Field(min_length=1)]] = {}
    write_volumes: bool = False
    max_runs: Annotated[int, Field(ge=1, le=100_000)] = 1000

    @model_validator(mode="after")
    def _plan_for_simulate(self):
        if (self.mode == "simulate") != (self.plan is not None):
            raise ValueError("mode simulate needs `plan` (a plan file); mode plan takes none")
        return self


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep: plain, picklable data a worker process needs and nothing else.

    ``case_text``/``plan_text`` are the run's input files (YAML); ``inputs_key`` identifies them
    together with the mode, the volume option and the solver fingerprint: a run folder whose
    ``result.json`` carries the same key is complete and is skipped on resume.
    """

    run_id: str
    scenario: str
    params: dict[str, Any]
    mode: str
    folder: str
    case_text: str
    plan_text: str | None
    volumes: bool
    inputs_key: str


@dataclass(frozen=True)
class Sweep:
    """A loaded sweep spec and its runs, in grid order."""

    spec: SweepSpec
    path: Path
    tasks: list[RunTask]


def load_sweep(path: str | Path, out: str | Path) -> Sweep:
    """Read ``path``, check every parameter and every combination; runs go to ``out/runs/``.

    Raises
    ------
    OptiprobeError
        Naming the spec file and the parameter (unknown path: the keys allowed at that level;
        a value the case or plan rejects: that error).
    """
    from optiprobe.case.loading import _validate

    path = Path(path)
    spec, root = _validate(SweepSpec, path)
    return Sweep(spec, path, expand(spec, path, Path(out), root=root))


def _unwrap(annotation) -> list:
    """The alternatives of an annotation, without ``Annotated`` and ``None``."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [a for arg in get_args(annotation) for a in _unwrap(arg)]
    return [] if annotation is type(None) else [annotation]


def _models(annotation) -> list[type[BaseModel]]:
    return [a for a in _unwrap(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]


def _matches(model: type[BaseModel], data: dict) -> bool:
    """Whether ``data``'s tag fields (``type: sphere``, ``name: rib``) fit ``model``."""
    return all(
        data[name] in get_args(info.annotation)
        for name, info in model.model_fields.items()
        if get_origin(info.annotation) is Literal and name in data
    )


def _fields(annotation, data: dict) -> dict[str, Any]:
    """Field name → annotation over every model the annotation may hold (for a tagged union,
    the member ``data``'s tag names)."""
    models = _models(annotation)
    models = [m for m in models if _matches(m, data)] or models
    fields: dict[str, Any] = {}
    for model in models:
        for name, info in model.model_fields.items():
            fields.setdefault(name, info.annotation)
    return fields


def _item(annotation):
    for alternative in _unwrap(annotation):
        if get_origin(alternative) in (list, tuple):
            return get_args(alternative)[0]
    return None


def _set(data, parts: list[str], value, annotation, done: list[str]):
    """Set ``value`` at the dotted ``parts`` inside ``data``; return the (new) data.

    Raises ``_UnknownKeyError`` with the path walked so far and the keys allowed there."""
    part, rest = parts[0], parts[1:]
    here = ".".join(done) or "the top level"
    if isinstance(data, list):
        if part != "*" and not (part.isdigit() and int(part) < len(data)):
            allowed = f"an index 0 to {len(data) - 1}, or * for every item"
            raise _UnknownKeyError(here, part, allowed)
        indices = range(len(data)) if part == "*" else [int(part)]
        for i in indices:
            data[i] = _leaf(data[i], rest, value, _item(annotation), [*done, str(i)])
        return data
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise _UnknownKeyError(here, part, f"none: {here} is a single value ({kind})")
    fields = _fields(annotation, data)
    allowed = sorted(set(data) | set(fields))
    if part not in allowed:
        raise _UnknownKeyError(here, part, ", ".join(allowed))
    child = data.get(part)
    if child is None and rest:
        child = {}  # an optional section left out: fill in the keys given
    data[part] = _leaf(child, rest, value, fields.get(part), [*done, part])
    return data


def _leaf(data, rest, value, annotation, done):
    return copy.deepcopy(value) if not rest else _set(data, rest, value, annotation, done)


class _UnknownKeyError(Exception):
    def __init__(self, here: str, part: str, allowed: str):
        super().__init__(part)
        self.here, self.part, self.allowed = here, part, allowed


def _located_parameter(path: Path, root, name: str) -> str:
    from optiprobe.case._yaml import node_at

    node = node_at(root, ("parameters", name)) if root is not None else None
    where = f"parameters.{name}"
    if node is not None:
        where += f" (line {node.start_mark.line + 1})"
    return where


def _read(path: Path) -> dict:
    from optiprobe.case._yaml import read_yaml

    data, _ = read_yaml(path)
    if not isinstance(data, dict):
        raise OptiprobeError("expected a mapping of fields", file=path)
    return data


def _base_case(path: Path) -> dict:
    """The case YAML as data, its label-map path made absolute (runs live elsewhere)."""
    data = _read(path)
    labelmap = (data.get("anatomy") or {}).get("labelmap")
    if isinstance(labelmap, dict) and isinstance(labelmap.get("path"), str):
        labelmap["path"] = str((path.parent / labelmap["path"]).resolve())
    return data


def _check_paths(spec: SweepSpec, path: Path, root) -> None:
    """Every parameter path exists in the case (or plan) schema; raise naming the first that
    does not."""
    from optiprobe.case import Case, Plan

    for name, values in spec.parameters.items():
        parts = name.split(".")
        target, model = (Plan, parts[1:]) if parts[0] == PLAN_PREFIX else (Case, parts)
        where = _located_parameter(path, root, name)
        if target is Plan and spec.mode != "simulate":
            raise OptiprobeError(
                f"parameter {name!r} changes the plan, but mode {spec.mode} has no plan file",
                file=path,
                location=where,
                allowed="case parameters, or mode: simulate with a plan",
            )
        if not model or "" in model:
            raise OptiprobeError(f"parameter {name!r} is not a dotted path", file=path)
        sample = _sample_data(spec, path, target is Plan)
        try:
            _set(sample, model, values[0], target, [])
        except _UnknownKeyError as unknown:
            kind = "plan" if target is Plan else "case"
            raise OptiprobeError(
                f"unknown parameter {name!r}: the {kind} has no {unknown.part!r} at "
                f"{unknown.here}",
                file=path,
                location=where,
                allowed=unknown.allowed,
            ) from None


def _sample_data(spec: SweepSpec, path: Path, plan: bool) -> dict:
    if plan:
        return _read(path.parent / spec.plan)
    return _base_case(path.parent / spec.cases[0])


def _slug(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text).strip("_")


def short_name(parameter: str) -> str:
    """The last key of a dotted parameter path that is not an index: ``radius_mm``."""
    parts = [p for p in parameter.split(".") if not p.isdigit() and p != "*"]
    return parts[-1] if parts else parameter


def _run_id(scenario: str, params: dict, varying: set[str], several: bool) -> str:
    """Readable and stable: ``<scenario>_<key>=<value>…-<hash>``, naming the parameters that
    vary (the hash covers all of them)."""
    words = [scenario] if several else []
    for name, value in params.items():
        if name in varying:
            words.append(f"{short_name(name)}={_slug(value)}")
    digest = hashlib.sha256(json.dumps([scenario, params], sort_keys=True).encode()).hexdigest()
    slug = "_".join(words)[:80] or "run"
    return f"{slug}-{digest[:8]}"


def expand(spec: SweepSpec, path: Path, out: Path, *, root=None) -> list[RunTask]:
    """The runs of ``spec``: every case × every combination of parameter values, validated."""
    from optiprobe.surrogate.fingerprint import fingerprint

    _check_paths(spec, path, root)
    names = list(spec.parameters)
    combos = list(itertools.product(*spec.parameters.values()))
    total = len(combos) * len(spec.cases)
    if total > spec.max_runs:
        raise OptiprobeError(
            f"the grid has {total} runs, more than max_runs ({spec.max_runs})",
            file=path,
            location="parameters",
            allowed="fewer values, or a larger max_runs",
        )
    solver = fingerprint()["total"]
    varying = {name for name, values in spec.parameters.items() if len(values) > 1}
    tasks = []
    for case_file in spec.cases:
        case_path = path.parent / case_file
        base_case = _base_case(case_path)
        base_plan = _read(path.parent / spec.plan) if spec.plan else None
        for combo in combos:
            params = dict(zip(names, combo, strict=True))
            case_text, plan_text = _inputs(base_case, base_plan, params)
            _check_run(path, case_text, plan_text, params)
            scenario = Path(case_file).stem
            run_id = _run_id(scenario, params, varying, len(spec.cases) > 1)
            key = hashlib.sha256(
                json.dumps([spec.mode, case_text, plan_text, spec.write_volumes, solver]).encode()
            ).hexdigest()
            folder = str((out / "runs" / run_id).resolve())
            volumes = spec.write_volumes
            task = RunTask(
                run_id, scenario, params, spec.mode, folder, case_text, plan_text, volumes, key
            )
            tasks.append(task)
    return tasks


def _inputs(base_case: dict, base_plan: dict | None, params: dict) -> tuple[str, str | None]:
    from optiprobe.case import Case, Plan

    case, plan = copy.deepcopy(base_case), copy.deepcopy(base_plan)
    for name, value in params.items():
        parts = name.split(".")
        if parts[0] == PLAN_PREFIX:
            plan = _set(plan, parts[1:], value, Plan, [])
        else:
            case = _set(case, parts, value, Case, [])
    if plan is not None:
        plan.pop("case", None)
    dump = lambda d: yaml.safe_dump(d, sort_keys=False)  # noqa: E731
    return dump(case), None if plan is None else dump(plan)


def _check_run(path: Path, case_text: str, plan_text: str | None, params: dict) -> None:
    """Load the run's case (and plan against it) as a user's files would be loaded."""
    from optiprobe.anatomy.voxelize import case_grid
    from optiprobe.case import load_case, load_plan

    with tempfile.TemporaryDirectory() as folder:
        case_file, plan_file = Path(folder, "case.yaml"), Path(folder, "plan.yaml")
        case_file.write_text(case_text)
        try:
            case = load_case(case_file)
            if plan_text is not None:
                plan_file.write_text(plan_text)
                load_plan(plan_file, case, grid=case_grid(case))
        except OptiprobeError as error:
            which = "plan" if error.file == plan_file else "case"
            field = re.sub(r" \(line \d+, column \d+\)", "", error.location or "")
            where = f" at {field}" if field else ""
            raise OptiprobeError(
                f"the parameter values {json.dumps(params)} give an invalid {which}{where}: "
                f"{error.message}",
                file=path,
                location="parameters",
                allowed=error.allowed,
            ) from None
