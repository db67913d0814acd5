"""Validate a case or plan file as a whole (what ``optiprobe validate`` runs)."""

from __future__ import annotations

from pathlib import Path

from optiprobe.anatomy.voxelize import case_grid
from optiprobe.anatomy.voxelize import voxelize as build_volume
from optiprobe.case import is_plan_file, load_case, load_plan, plan_case_path

__all__ = ["validate_file"]


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
    case = load_case(path)
    if not voxelize:
        return f"case {case.name}"
    volume = build_volume(case)
    shape = "×".join(map(str, volume.grid.shape))
    tumor_ml = volume.volume_ml(case.tumor.name)
    return (
        f"case {case.name}: grid {shape} at {volume.grid.spacing_mm[0]:g} mm, "
        f"tumour {tumor_ml:.1f} ml"
    )


def _validate_plan(path: Path) -> str:
    plan = load_plan(path)
    case_path = plan_case_path(plan, path)
    if case_path is None:
        return f"plan {plan.name}: {len(plan.probes)} probes (no case named, not cross-checked)"
    case = load_case(case_path)
    load_plan(path, case, grid=case_grid(case))
    return f"plan {plan.name}: {len(plan.probes)} probes, consistent with case {case.name}"
