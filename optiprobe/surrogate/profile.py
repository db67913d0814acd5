"""Single-probe response: isotherm radii around a capsule, fitted to solver profiles.

Around one probe in a uniform medium, the minimum temperature reached is described by an
*effective distance* from the probe's active zone,

    r = sqrt(ρ² + (s_lo·max(0, z_lo − ζ))² + (s_hi·max(0, ζ − z_hi))²)

(ρ from the needle axis, ζ along the needle from the tip towards the entry; a capsule around the
segment ``[z_lo, z_hi]``, stretched by ``s_lo`` beyond its distal end and ``s_hi`` beyond its
proximal end), and by the radii ``R_k`` at which the temperature crosses fixed levels
:data:`LEVELS_C`. In between, the *cold potential* V (see :mod:`optiprobe.surrogate.medium`) is
linear in r. Shape and radii are fitted to each solver profile so as to minimise the distance
between the fitted and the simulated isotherm surfaces, weighted by surface area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

__all__ = ["LEVELS_C", "FittedProfile", "effective_distance", "fit_profile", "isotherm_points"]

# Temperature levels whose radii describe a profile (°C), coldest first. The probe surface runs
# at about −145 °C; 37 °C is the body.
LEVELS_C = np.array(
    [-120.0, -90.0, -60.0, -40.0, -30.0, -20.0, -10.0, 0.0, 10.0, 20.0, 30.0, 36.0]
)


@dataclass(frozen=True)
class FittedProfile:
    """Per level k: shape ``shape[k] = (z_lo, z_hi, s_lo, s_hi)`` (mm, mm, -, -), radius
    ``radii_mm[k]``.

    ``surface_error_mm[k]`` is the area-weighted mean distance between the simulated isotherm
    and the fitted one for level k (NaN where the level is not reached).
    """

    shape: np.ndarray
    radii_mm: np.ndarray
    surface_error_mm: np.ndarray


def effective_distance(rho, zeta, shape, xp=np):
    """Effective distance r (mm) of points at (ρ, ζ) for ``shape = (z_lo, z_hi, s_lo, s_hi)``."""
    z_lo, z_hi, s_lo, s_hi = shape[..., 0], shape[..., 1], shape[..., 2], shape[..., 3]
    below = s_lo * xp.maximum(z_lo - zeta, 0.0)
    above = s_hi * xp.maximum(zeta - z_hi, 0.0)
    return xp.sqrt(rho * rho + below * below + above * above)


def isotherm_points(t_min_c: np.ndarray, rho_mm: np.ndarray, zeta_mm: np.ndarray, level: float):
    """Points (ρ, ζ) where the sampled field crosses ``level``, with area weights (∝ ρ)."""
    points = []
    for axis in (0, 1):
        a = np.moveaxis(t_min_c, axis, 0)
        lo, hi = a[:-1], a[1:]
        crossing = (lo - level) * (hi - level) < 0
        i, j = np.nonzero(crossing)
        fraction = (level - lo[i, j]) / (hi[i, j] - lo[i, j])
        if axis == 0:
            rho = rho_mm[i] + fraction * (rho_mm[i + 1] - rho_mm[i])
            zeta = zeta_mm[j]
        else:
            rho = rho_mm[j]
            zeta = zeta_mm[i] + fraction * (zeta_mm[i + 1] - zeta_mm[i])
        points.append(np.stack([rho, zeta], axis=-1))
    points = np.concatenate(points)
    weights = np.maximum(points[:, 0], 0.25)  # surface of revolution: area ∝ ρ
    return points, weights / weights.sum() if len(points) else weights


def fit_profile(
    t_min_c: np.ndarray,
    rho_mm: np.ndarray,
    zeta_mm: np.ndarray,
    *,
    active_mm: tuple[float, float],
    probe_radius_mm: float,
) -> FittedProfile:
    """Fit each level's shape and radius to one simulated profile ``t_min_c[ρ, ζ]``.

    Each level is fitted on its own (Nelder–Mead on the shape, the radius being the weighted
    mean effective distance of the isotherm's points), minimising the area-weighted mean
    distance between the simulated isotherm and the fitted one.
    """
    shapes = np.zeros((len(LEVELS_C), 4))
    radii = np.full(len(LEVELS_C), np.nan)
    errors = np.full(len(LEVELS_C), np.nan)
    start = np.array([active_mm[0] + 2.0, active_mm[1] - 2.0, 1.0, 1.0])
    for k, level in enumerate(LEVELS_C):
        points, weights = isotherm_points(t_min_c, rho_mm, zeta_mm, level)
        if len(points) < 4:
            continue

        def spread(shape, points=points, weights=weights):
            # A valid capsule: the segment runs distal to proximal inside a sane range, with
            # positive stretches (otherwise huge opposite offsets can cancel and fake a fit).
            z_lo, z_hi, s_lo, s_hi = shape
            if not (-40.0 <= z_lo <= z_hi <= 120.0 and 0.05 <= s_lo <= 5 and 0.05 <= s_hi <= 5):
                return 1e6, 0.0
            r = effective_distance(points[:, 0], points[:, 1], shape)
            radius = np.sum(weights * r)
            return float(np.sum(weights * np.abs(r - radius))), radius

        best = minimize(
            lambda shape: spread(shape)[0],
            start,
            method="Nelder-Mead",
            options={"xatol": 0.005, "fatol": 1e-5, "maxiter": 2000},
        )
        shapes[k] = best.x
        errors[k], radii[k] = spread(best.x)
        start = best.x  # the next (warmer) level starts from this one
    return _complete(shapes, radii, errors, probe_radius_mm)


def _complete(shapes, radii, errors, probe_radius_mm: float) -> FittedProfile:
    """Fill levels the field never reached and keep radii increasing with temperature.

    Colder levels than any reached collapse onto the probe surface with the coldest reached
    level's shape; warmer levels than any reached (only in a block too small) continue 1 mm
    apart.
    """
    reached = np.nonzero(np.isfinite(radii))[0]
    if len(reached) == 0:
        raise ValueError("no isotherm level is crossed in the profile")
    first, last = reached[0], reached[-1]
    shapes[:first] = shapes[first]
    radii[:first] = min(probe_radius_mm, radii[first])
    shapes[last + 1 :] = shapes[last]
    radii[last + 1 :] = radii[last] + np.arange(1, len(radii) - last)
    gaps = ~np.isfinite(radii)
    if gaps.any():
        index = np.arange(len(radii))
        radii[gaps] = np.interp(index[gaps], index[~gaps], radii[~gaps])
        for axis in range(4):
            shapes[gaps, axis] = np.interp(index[gaps], index[~gaps], shapes[~gaps, axis])
    return FittedProfile(
        shape=shapes, radii_mm=np.maximum.accumulate(radii), surface_error_mm=errors
    )
