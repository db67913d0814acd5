"""Accuracy measures of the surrogate against the solver on a voxel grid.

Isotherm surfaces are compared with sub-voxel precision: each field's isotherm is located where
it crosses the level between neighbouring voxel centres (linear interpolation), and the other
field's distance from its own isotherm there is estimated to first order as
``|T_other − level| / |∇T_other|``. Both directions are pooled, so a surrogate surface that is
too small and one that is too large are both seen.
"""

from __future__ import annotations

import numpy as np

__all__ = ["isotherm_distances", "isotherm_offsets", "needle_voxels", "surface_crossings"]


def surface_crossings(field: np.ndarray, level: float):
    """Crossings of ``level`` between neighbouring voxels: (axis, index a, index b, fraction)."""
    out = []
    for axis in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        a, b = field[tuple(lo)], field[tuple(hi)]
        crossing = (a - level) * (b - level) < 0
        index = np.argwhere(crossing)
        other = index.copy()
        other[:, axis] += 1
        fa, fb = a[crossing], b[crossing]
        out.append((axis, index, other, (level - fa) / (fb - fa)))
    return out


def _offsets_at_crossings(reference, other, level, spacing_mm, exclude=None):
    """Per crossing of ``reference``'s isotherm: (other − level) / |∇other| and the voxel a."""
    gradient = np.stack(np.gradient(other, *spacing_mm), axis=0)
    magnitude = np.sqrt(np.sum(gradient * gradient, axis=0))
    offsets, voxels = [], []
    for _axis, a, b, fraction in surface_crossings(reference, level):
        if exclude is not None:
            keep = ~(exclude[tuple(a.T)] | exclude[tuple(b.T)])
            a, b, fraction = a[keep], b[keep], fraction[keep]
        ta, tb = other[tuple(a.T)], other[tuple(b.T)]
        value = ta + fraction * (tb - ta)
        slope = magnitude[tuple(a.T)] + fraction * (magnitude[tuple(b.T)] - magnitude[tuple(a.T)])
        offsets.append((value - level) / np.maximum(slope, 0.5))  # °C/mm floor
        voxels.append(a)
    if not offsets:
        return np.zeros(0), np.zeros((0, 3), int)
    return np.concatenate(offsets), np.concatenate(voxels)


def isotherm_offsets(
    solver_c: np.ndarray, surrogate_c: np.ndarray, level: float, spacing_mm, exclude=None
):
    """Signed distances (mm) between the two fields' ``level`` isotherms, and where.

    Positive where the surrogate's isotherm lies inside the solver's (its ice too small): the
    surrogate is warmer than ``level`` on the solver's surface, or the solver colder than it on
    the surrogate's. Returns ``(offsets, voxels)``, the voxel (3 indices) at each crossing,
    both directions pooled as in :func:`isotherm_distances`.
    """
    spacing_mm = tuple(float(s) for s in spacing_mm)
    d1, v1 = _offsets_at_crossings(solver_c, surrogate_c, level, spacing_mm, exclude)
    d2, v2 = _offsets_at_crossings(surrogate_c, solver_c, level, spacing_mm, exclude)
    return np.concatenate([d1, -d2]), np.concatenate([v1, v2])


def isotherm_distances(
    solver_c: np.ndarray, surrogate_c: np.ndarray, level: float, spacing_mm, exclude=None
) -> np.ndarray:
    """Distances (mm) between the two fields' ``level`` isotherms, both directions pooled.

    The slope floor (0.5 °C/mm) caps the first-order estimate where a field is nearly flat.
    Crossings touching a voxel of ``exclude`` (e.g. voxels the needles occupy) are skipped.
    """
    return np.abs(isotherm_offsets(solver_c, surrogate_c, level, spacing_mm, exclude)[0])


def needle_voxels(grid, tips_mm, entries_mm, radius_mm: float = 2.0) -> np.ndarray:
    """Voxels whose centre lies within ``radius_mm`` of a needle (tip-to-entry segment).

    The needle is metal, not tissue: isotherms inside it are not compared.
    """
    points = grid.points_mm().reshape(-1, 3)
    near = np.zeros(len(points), bool)
    for tip, entry in zip(np.asarray(tips_mm), np.asarray(entries_mm), strict=True):
        axis = entry - tip
        length = np.linalg.norm(axis)
        t = np.clip((points - tip) @ axis / length**2, 0.0, 1.0)
        distance = np.linalg.norm(points - (tip + t[:, None] * axis), axis=1)
        near |= distance < radius_mm
    return near.reshape(grid.shape)
