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


# --- The validation problems, as the solver runs them (shared by tests and benchmarks) ---------

GEL = {"k_solid": 2.2, "k_liquid": 0.55, "c_solid": 1.9e6, "c_liquid": 4.0e6, "latent": 3e8}


def uniform_material(shape, *, cf, cu, kf, ku, latent, half_interval, perfusion=0.0):
    """A one-tissue :class:`~optiprobe.thermal.material.Material` (SI, phase change ±interval)."""
    import jax.numpy as jnp

    from optiprobe.thermal.material import Material

    a = lambda v: jnp.asarray([v], jnp.float32)  # noqa: E731
    return Material(
        index=jnp.zeros(shape, jnp.int32),
        c_frozen=a(cf),
        c_unfrozen=a(cu),
        k_frozen=a(kf),
        k_unfrozen=a(ku),
        latent=a(latent),
        solidus=a(-half_interval),
        liquidus=a(half_interval),
        perfusion=a(perfusion),
        metabolic=a(0.0),
    )


def front_crossing_mm(x_mm: np.ndarray, t: np.ndarray) -> float:
    """First position where ``t`` rises through 0 °C, linearly interpolated."""
    i = int(np.argmax(t > 0.0))
    return float(x_mm[i - 1] + (0.0 - t[i - 1]) / (t[i] - t[i - 1]) * (x_mm[i] - x_mm[i - 1]))


def _run(step, state, n: int):
    import jax

    return jax.jit(lambda s: jax.lax.fori_loop(0, n, lambda i, s: step(s), s))(state)


def neumann_problem(dx_mm: float, *, stages: int | None = None, minutes=(1, 5, 10)) -> list:
    """Planar freezing of gel from a −140 °C wall (37 °C start) on a 1-D column of the grid.

    Returns (minutes, solver front mm, exact front mm) rows; forward Euler when ``stages`` is
    None, else RKL2 with that many stages at its largest stable step.
    """
    import jax.numpy as jnp

    from optiprobe.thermal.material import enthalpy, temperature
    from optiprobe.thermal.operators import stable_explicit_dt
    from optiprobe.thermal.stepping import (
        Fixed,
        ThermalState,
        make_rkl2_step,
        make_step,
        rkl2_factor,
    )

    dx = dx_mm * 1e-3
    n = int(0.06 / dx) + 1
    mat = uniform_material(
        (n, 1, 1), cf=1.9e6, cu=4.0e6, kf=2.2, ku=0.55, latent=3e8, half_interval=0.1
    )
    fixed = Fixed(jnp.zeros((n, 1, 1), bool).at[0].set(True), jnp.full((n, 1, 1), -140.0))
    limit = stable_explicit_dt(2.2 / 1.9e6, (dx, dx, dx))
    spacing = (dx, 1.0, 1.0)
    if stages is None:
        dt, step = limit, make_step(mat, spacing, limit, arterial_c=37.0, fixed=fixed)
    else:
        dt = limit * rkl2_factor(stages)
        step = make_rkl2_step(mat, spacing, dt, stages=stages, arterial_c=37.0, fixed=fixed)
    t0 = jnp.full((n, 1, 1), 37.0)
    state, done, rows = ThermalState(enthalpy(t0, mat), t0, jnp.asarray(0.0)), 0, []
    x_mm = np.arange(n) * dx_mm
    for minute in minutes:
        k = round(minute * 60 / dt) - done
        state, done = _run(step, state, k), done + k
        front = front_crossing_mm(x_mm, np.asarray(temperature(state.h, mat))[:, 0, 0])
        exact = 1e3 * neumann_front_m(
            float(state.time_s), t_wall=-140.0, t_melt=0.0, t_initial=37.0, **GEL
        )
        rows.append((minute, front, exact))
    return rows


CYLINDER = {
    "probe_radius_m": 0.74e-3,
    "t_probe": -140.0,
    "t_freeze": 0.0,
    "t_blood": 37.0,
    "k_solid": 2.0,
    "k_liquid": 0.5,
    "perfusion_w_m3k": 40e3,
}


def cylinder_problem_mm(dx_mm: float, offset_voxels: float) -> tuple[float, float]:
    """Steady frozen radius around a long probe (40 kW/m³/K, 40 min); (solver mm, exact mm).

    The probe spans the whole insulated z extent of a thin slab (an infinite cylinder), its axis
    ``offset_voxels`` from a voxel centre.
    """
    import jax.numpy as jnp

    from optiprobe.thermal import sources
    from optiprobe.thermal.material import (
        enthalpy,
        temperature,
    )
    from optiprobe.thermal.operators import stable_explicit_dt
    from optiprobe.thermal.stepping import ThermalState, make_step

    dx, half_mm, nz = dx_mm * 1e-3, 30.0, 3
    n = int(2 * half_mm / dx_mm) + 1
    mat = uniform_material(
        (n, n, nz),
        cf=1.8e6,
        cu=3.6e6,
        kf=2.0,
        ku=0.5,
        latent=2.5e8,
        half_interval=0.1,
        perfusion=CYLINDER["perfusion_w_m3k"],
    )
    centre = (n - 1) / 2 + offset_voxels
    probes = sources.ProbeArrays(
        tips=jnp.array([[centre, centre, -0.5]]),
        entries=jnp.array([[centre, centre, nz + 50.0]]),
        radius_m=jnp.array([CYLINDER["probe_radius_m"]]),
        tip_offset_m=jnp.array([0.0]),
        active_length_m=jnp.array([nz * dx]),
        surface_c=jnp.array([CYLINDER["t_probe"]]),
        ramp_s=jnp.array([0.0]),
        freeze_windows_s=jnp.array([[[0.0, 1e9]]]),
        thaw_windows_s=jnp.zeros((0, 2)),
        thaw_surface_c=jnp.array(20.0),
    )
    dt = stable_explicit_dt(2.0 / 1.8e6, (dx, dx, dx))
    # End samples' stencils reach past the insulated z faces by design (``inside`` is False).
    source, _ = sources.make_probe_source(
        probes,
        lambda t: mat.field("c_frozen"),
        shape=(n, n, nz),
        spacing_m=(dx, dx, dx),
        n_samples=nz * 4,
        body_c=37.0,
        switch_width_s=dt,
        dt_s=dt,
    )
    step = make_step(mat, (dx, dx, dx), dt, arterial_c=37.0, source=source)
    t0 = jnp.full((n, n, nz), 37.0)
    state = _run(step, ThermalState(enthalpy(t0, mat), t0, jnp.asarray(0.0)), int(2400 / dt))
    row = np.asarray(temperature(state.h, mat))[:, round(centre), 1]
    x_mm = (np.arange(n) - centre) * dx_mm
    front = front_crossing_mm(x_mm[x_mm > 0], row[x_mm > 0])
    return front, 1e3 * steady_cylinder_front_m(**CYLINDER)
