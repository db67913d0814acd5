"""Exact solutions the solver is validated against (used by the tests and benchmarks).

* :func:`neumann_front_m` — planar two-phase Stefan problem (Neumann's solution; Carslaw &
  Jaeger, *Conduction of Heat in Solids*, 2nd ed., 1959, §11.2). A semi-infinite medium at
  ``t_initial`` has its face held at ``t_wall < t_melt`` from t = 0; the freezing front is at
  X(t) = 2λ√(α_s t), with λ the root of the transcendental equation below.
* :func:`steady_cylinder_front_m` — steady frozen radius around an infinitely long cylindrical
  probe in perfused tissue: conduction through the frozen annulus (log profile) balances Pennes
  perfusion in the unfrozen tissue (modified Bessel K0 profile):
  ``k_s (T_f − T_p) / (R ln(R/r_p)) = k_l (T_b − T_f) m K1(mR)/K0(mR)``,
  ``m = √(ω_b ρ_b c_b / k_l)``
  (physics-data.md §4.1).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import erf, erfc, k0, k1

__all__ = ["neumann_front_m", "neumann_lambda", "steady_cylinder_front_m"]


def neumann_lambda(
    *,
    k_solid: float,
    k_liquid: float,
    c_solid: float,
    c_liquid: float,
    latent: float,
    t_wall: float,
    t_melt: float,
    t_initial: float,
) -> float:
    """λ of Neumann's two-phase solution (volumetric heat capacities and latent heat, SI)."""
    alpha_s, alpha_l = k_solid / c_solid, k_liquid / c_liquid
    stefan = c_solid * (t_melt - t_wall) / latent
    nu = np.sqrt(alpha_s / alpha_l)
    ratio = (k_liquid / k_solid) * nu * (t_initial - t_melt) / (t_melt - t_wall)

    def balance(lam: float) -> float:
        lhs = np.exp(-(lam**2)) / erf(lam) - ratio * np.exp(-(lam**2) * nu**2) / erfc(lam * nu)
        return lhs - lam * np.sqrt(np.pi) / stefan

    return float(brentq(balance, 1e-6, 5.0))


def neumann_front_m(time_s, *, k_solid: float, c_solid: float, **parameters) -> np.ndarray:
    """Front position X(t) = 2λ√(α_s t) in metres (``parameters`` as :func:`neumann_lambda`)."""
    lam = neumann_lambda(k_solid=k_solid, c_solid=c_solid, **parameters)
    return 2.0 * lam * np.sqrt(k_solid / c_solid * np.asarray(time_s, dtype=float))


def steady_cylinder_front_m(
    *,
    probe_radius_m: float,
    t_probe: float,
    t_freeze: float,
    t_blood: float,
    k_solid: float,
    k_liquid: float,
    perfusion_w_m3k: float,
) -> float:
    """Steady ice-front radius (m) around a long cylindrical probe in perfused tissue."""
    m = np.sqrt(perfusion_w_m3k / k_liquid)

    def balance(radius: float) -> float:
        frozen = k_solid * (t_freeze - t_probe) / (radius * np.log(radius / probe_radius_m))
        unfrozen = k_liquid * (t_blood - t_freeze) * m * k1(m * radius) / k0(m * radius)
        return frozen - unfrozen

    return float(brentq(balance, probe_radius_m * 1.0001, 1.0))
