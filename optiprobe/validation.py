"""Validate a case or plan file as a whole (what ``optiprobe validate`` runs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from optiprobe.anatomy.voxelize import case_grid
from optiprobe.anatomy.voxelize import voxelize as build_volume
from optiprobe.case import Case, Plan, is_plan_file, load_case, load_plan, plan_case_path
from optiprobe.errors import OptiprobeError

__all__ = [
    "load_and_voxelize",
    "needle_path_problems",
    "probe_limit_problems",
    "validate_file",
]


def load_and_voxelize(path: str | Path):
    """Load a case and voxelise it; errors found while voxelising name the case file too.

    Returns
    -------
    (Case, Volume)
    """
    path = Path(path)
    if is_plan_file(path):
        raise OptiprobeError(
            "this is a plan file, not a case file",
            file=path,
            allowed="a case file (with anatomy, tumor, …); a plan names its case with `case:`",
        )
    case: Case = load_case(path)
    try:
        return case, build_volume(case)
    except OptiprobeError as error:
        raise _with_file(error, path) from None


def _with_file(error: OptiprobeError, path: Path) -> OptiprobeError:
    if error.file is not None:
        return error
    return OptiprobeError(error.message, file=path, location=error.location, allowed=error.allowed)


def validate_file(path: str | Path, *, voxelize: bool = True) -> str:
    """Check one case or plan file; return a one-line summary or raise OptiprobeError.

    Parameters
    ----------
    path
        A case file, or a plan file (recognised by a top-level ``probes`` list).
    voxelize
        For a case, also build its voxel grid (catches empty tumours, structures outside the grid).
    """
    path = Path(path)
    if is_plan_file(path):
        return _validate_plan(path)
    if not voxelize:
        return f"case {load_case(path).name}"
    case, volume = load_and_voxelize(path)
    shape = "×".join(map(str, volume.grid.shape))
    tumor_ml = volume.volume_ml(case.tumor.name)
    return (
        f"case {case.name}: grid {shape} at {volume.grid.spacing_mm[0]:g} mm, "
        f"tumour {tumor_ml:.1f} ml"
    )


def _validate_plan(path: Path) -> str:
    plan = load_plan(path)
    count = f"{len(plan.probes)} probe{'s' if len(plan.probes) != 1 else ''}"
    case_path = plan_case_path(plan, path)
    if case_path is None:
        return f"plan {plan.name}: {count} (no case named, not cross-checked)"
    try:
        case = load_case(case_path)
    except OptiprobeError as error:
        raise OptiprobeError(
            f"the plan's case cannot be loaded: {error.format()}", file=path, location="case"
        ) from None
    try:
        load_plan(path, case, grid=case_grid(case))
    except OptiprobeError as error:
        raise _with_file(error, path) from None
    _raise_first(probe_limit_problems(plan, case), path, PROBE_LIMITS_HINT)
    _raise_first(
        needle_path_problems(plan, case, build_volume(case)),
        path,
        "a path that keeps the clearance (move the entry or tip)",
    )
    return (
        f"plan {plan.name}: {count}; models, freeze durations, depths, tip positions, probe "
        f"count and spacing, and needle clearances checked against case {case.name} (entry "
        "windows and angles are not)"
    )


def _raise_first(problems: list[tuple[str, str]], path: Path, allowed: str) -> None:
    """Raise the first of ``problems`` ((location, message)), saying how many more."""
    if problems:
        location, message = problems[0]
        extra = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise OptiprobeError(message + extra, file=path, location=location, allowed=allowed)


SPACING_TOL_MM = 0.1  # plan files hold coordinates to 0.1 mm
PROBE_LIMITS_HINT = (
    "at most probes.max_count probes, active zones at least probes.min_spacing_mm apart and "
    "each within probes.max_spacing_mm of its nearest neighbour (the case's limits)"
)


def probe_limit_problems(plan: Plan, case: Case) -> list[tuple[str, str]]:
    """(location, message) where ``plan`` breaks the case's probe count or spacing limits,
    spacing measured between active-zone centres as the planner enforces it (within
    ``SPACING_TOL_MM``)."""
    from optiprobe.planner.refinement import spacing_problem
    from optiprobe.probes import get_probe_model

    limits, problems = case.probes, []
    if len(plan.probes) > limits.max_count:
        problems.append(
            ("probes", f"{len(plan.probes)} probes, more than the case's {limits.max_count}")
        )
    custom = {m.name: m for m in limits.models if not isinstance(m, str)}
    models = {p.model: custom.get(p.model) or get_probe_model(p.model) for p in plan.probes}
    # Plans written by the planner keep tips and entries to 0.1 mm, which moves a centre by up
    # to about that much: L4's plan has two zones 7.996 mm apart where CP-SAT had 8.0.
    spacing = spacing_problem(
        plan, models, limits.min_spacing_mm, limits.max_spacing_mm, tolerance_mm=SPACING_TOL_MM
    )
    if spacing is not None:
        problems.append(("probes", spacing))
    return problems


def _forbidden(case: Case) -> dict[str, float]:
    """Structure → clearance (mm) that needles must keep: ``avoid`` entries, and protected
    structures not marked passable (clearance from ``avoid`` if listed there, else 0)."""
    clearance = {a.structure: a.clearance_mm for a in case.access.avoid}
    for protected in case.protected:
        if not protected.needle_passable:
            clearance.setdefault(protected.structure, 0.0)
    return clearance


def clearance_fields(case: Case, volume) -> dict[str, tuple[np.ndarray, float]]:
    """Per structure needles must keep away from: (distance field in mm, required clearance)."""
    from scipy import ndimage

    spacing = np.asarray(volume.grid.spacing_mm)
    return {
        name: (ndimage.distance_transform_edt(~volume.masks[name], sampling=spacing), required)
        for name, required in _forbidden(case).items()
        if name in volume.masks and volume.masks[name].any()
    }


def path_voxels(grid, tip, entry) -> np.ndarray:
    """Voxel indices (k, 3) along the straight path from ``tip`` to ``entry`` inside the grid,
    sampled every quarter voxel."""
    tip, entry = np.asarray(tip, float), np.asarray(entry, float)
    steps = max(2, int(np.linalg.norm(entry - tip) / (0.25 * min(grid.spacing_mm))))
    points = tip + np.linspace(0.0, 1.0, steps)[:, None] * (entry - tip)
    points = points[grid.contains(points)]
    return np.clip(np.rint(grid.world_to_index(points)).astype(int), 0, np.array(grid.shape) - 1)


def needle_path_problems(plan: Plan, case: Case, volume) -> list[tuple[str, str]]:
    """(location, message) for each probe whose path from entry to tip comes closer to a
    structure than allowed. Only the part of the path inside the grid is checked."""
    fields = clearance_fields(case, volume)
    problems = []
    for i, probe in enumerate(plan.probes):
        index = path_voxels(volume.grid, probe.tip_mm, probe.entry_mm)
        if len(index) == 0:
            continue
        for name, (field, required) in fields.items():
            closest = float(field[tuple(index.T)].min())
            if closest <= required:
                where = "passes through" if closest == 0 else f"passes {closest:.1f} mm from"
                label = probe.name or f"probe {i + 1}"
                problems.append(
                    (
                        f"probes[{i}]",
                        f"{label} {where} {name} (the case requires {required:g} mm clearance)",
                    )
                )
    return problems
