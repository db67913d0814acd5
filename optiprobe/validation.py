"""Validate a case or plan file as a whole (what ``optiprobe validate`` runs)."""

from __future__ import annotations

from pathlib import Path

from optiprobe.anatomy.voxelize import case_grid
from optiprobe.anatomy.voxelize import voxelize as build_volume
from optiprobe.case import Case, is_plan_file, load_case, load_plan, plan_case_path
from optiprobe.errors import OptiprobeError

__all__ = ["load_and_voxelize", "validate_file"]


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
    return (
        f"plan {plan.name}: {count}; models, freeze durations, depths and tip positions "
        f"checked against case {case.name} (access paths are not checked yet)"
    )
