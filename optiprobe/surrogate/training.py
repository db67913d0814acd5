"""Solver runs the surrogate is calibrated on: single probes in uniform media, and arrays.

Every run uses the 3-D solver (:func:`optiprobe.thermal.simulate.simulate`) on a uniform block of
one representative tissue at 1 mm, 37 °C, with the probe axis along +z (tip at the origin, entry
above it). A single probe in a uniform medium is axisymmetric, so its minimum-temperature field
is stored as a profile ``T(ρ, ζ)`` on a half-plane (ρ from the axis, ζ from the tip along the
needle towards the entry), averaged over 8 directions around the axis (trilinear sampling), which
also averages out where the axis sits between voxel centres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import map_coordinates

from optiprobe.anatomy.voxelize import voxelize
from optiprobe.case import Case, Plan
from optiprobe.thermal.simulate import simulate

__all__ = [
    "MEDIA",
    "RHO_MM",
    "ZETA_MM",
    "Profile",
    "block_case",
    "run_plan",
    "single_probe_profile",
]

# Medium classes and the tissue that represents each (docs/surrogate.md explains the mapping of
# every tissue to a class).
MEDIA: dict[str, str] = {
    "soft": "muscle",
    "bone": "cancellous_bone",
    "lytic": "tumor_osteolytic",
    "fat": "fat",
    "mixed": "tumor_mixed",
}

RHO_MM = np.arange(0.0, 36.01, 0.5)
ZETA_MM = np.arange(-24.0, 76.01, 0.5)
BODY_C = 37.0
# After the last freeze, the field keeps cooling outside the ice for a while; the minimum is
# taken over this much passive recovery (the longest time-to-minimum seen in the profiles is
# well inside it; docs/surrogate.md).
RECOVERY_MIN = 6.0
HALF_WIDTH_MM = 40.0
AXIAL_RANGE_MM = (-30.0, 85.0)
# Axis placed off the voxel centres so that profiles do not favour one sub-voxel position.
AXIS_XY_MM = (0.3, 0.2)


@dataclass(frozen=True)
class Profile:
    """Minimum temperature around one probe, ``t_min_c[i, j]`` at ``(RHO_MM[i], ZETA_MM[j])``."""

    model: str
    medium: str
    freeze_min: tuple[float, ...]
    t_min_c: np.ndarray
    wall_s: float


def block_case(
    tissue: str,
    phases: list[dict],
    *,
    half_width_mm: float = HALF_WIDTH_MM,
    axial_range_mm: tuple[float, float] = AXIAL_RANGE_MM,
    spacing_mm: float = 1.0,
) -> Case:
    """A uniform block of ``tissue`` at 37 °C with the given protocol phases."""
    lo, hi = axial_range_mm
    data = {
        "name": f"block_{tissue}",
        "grid": {
            "spacing_mm": spacing_mm,
            "box": {
                "min_mm": [-half_width_mm, -half_width_mm, lo],
                "max_mm": [half_width_mm, half_width_mm, hi],
            },
        },
        "anatomy": {"uniform": {"tissue": tissue}},
        "tumor": {
            "phenotype": "soft_tissue",
            "tissue": tissue,
            "shape": {"type": "sphere", "center_mm": [0, 0, 15], "radius_mm": 5},
        },
        "access": {
            "windows": [
                {
                    "name": "top",
                    "region": {
                        "type": "box",
                        "center_mm": [0, 0, hi],
                        "size_mm": [2 * half_width_mm, 2 * half_width_mm, 4],
                    },
                    "direction": [0, 0, -1],
                    "max_angle_deg": 90,
                }
            ],
            "max_depth_mm": 200,
        },
        "probes": {"models": ["cryo-17g-rod", "cryo-17g-sphere", "cryo-1.7mm", "cryo-2.4mm"]},
        "protocol": {"phases": phases},
        "environment": {"initial_temperature_c": BODY_C, "arterial_temperature_c": BODY_C},
    }
    return Case.model_validate(data)


def protocol_phases(freeze_min: tuple[float, ...], thaw_min: float) -> list[dict]:
    """Freeze cycles separated by passive thaws, then :data:`RECOVERY_MIN` of passive thaw."""
    phases: list[dict] = []
    for i, minutes in enumerate(freeze_min):
        if i:
            phases.append({"kind": "thaw", "duration_min": thaw_min, "thaw": "passive"})
        phases.append({"kind": "freeze", "duration_min": minutes})
    phases.append({"kind": "thaw", "duration_min": RECOVERY_MIN, "thaw": "passive"})
    return phases


def run_plan(case: Case, probes: list[dict]):
    """Voxelise ``case`` and simulate ``probes`` (plan-file dictionaries); (volume, result)."""
    volume = voxelize(case)
    result = simulate(case, volume, Plan(probes=probes))
    return volume, result


def single_probe_profile(
    model: str, medium: str, freeze_min: tuple[float, ...], thaw_min: float = 8.0
) -> Profile:
    """Simulate one probe of ``model`` in ``medium`` and return its axisymmetric T_min profile."""
    import time

    case = block_case(MEDIA[medium], protocol_phases(freeze_min, thaw_min))
    x, y = AXIS_XY_MM
    probe = {
        "model": model,
        "tip_mm": [x, y, 0.0],
        "entry_mm": [x, y, 80.0],
        "freeze_min": list(freeze_min),
    }
    start = time.perf_counter()
    volume, result = run_plan(case, [probe])
    wall = time.perf_counter() - start
    angles = 2 * np.pi * (np.arange(8) + 0.5) / 8
    rho, zeta = np.meshgrid(RHO_MM, ZETA_MM, indexing="ij")
    samples = []
    for angle in angles:
        points = np.stack(
            [x + rho * np.cos(angle), y + rho * np.sin(angle), zeta], axis=-1
        ).reshape(-1, 3)
        index = volume.grid.world_to_index(points).T
        samples.append(map_coordinates(result.t_min_c, index, order=1, mode="nearest"))
    profile = np.mean(samples, axis=0).reshape(rho.shape).astype(np.float32)
    return Profile(model, medium, tuple(freeze_min), profile, wall)
