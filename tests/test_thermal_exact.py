"""The solver against exact solutions (each test cites the solution and its tolerance)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from optiprobe.thermal import sources
from optiprobe.thermal.exact import cylinder_problem_mm, neumann_problem, uniform_material
from optiprobe.thermal.material import (
    apparent_capacity,
    enthalpy,
    temperature,
)
from optiprobe.thermal.operators import stable_explicit_dt
from optiprobe.thermal.stepping import ThermalState, make_step


@pytest.mark.parametrize("stages", [None, 12], ids=["forward-euler", "rkl2-12-stages"])
def test_planar_front_matches_neumann_within_2_percent(stages):
    """Neumann two-phase solution (Carslaw & Jaeger §11.2): gel, wall −140 °C, 37 °C initial.

    Tolerance 2 % at 1, 5 and 10 min (issue #4), 0.5 mm voxels, float32, mushy zone ±0.1 °C;
    forward Euler and RKL2 super-steps (38× the explicit limit) alike.
    """
    for minutes, front, exact in neumann_problem(0.5, stages=stages):
        assert front == pytest.approx(exact, rel=0.02), (minutes, front, exact)


@pytest.mark.parametrize("offset", [0.0, 0.5], ids=["on-voxel-centre", "half-voxel-off"])
def test_steady_cylinder_front_within_3_percent(offset):
    """Steady frozen radius around a long probe in perfused tissue (physics-data §4.1, Bessel K0).

    ω_bρ_bc_b = 40 kW/m³/K (steady within 40 min), probe r 0.74 mm at −140 °C, 1 mm voxels;
    tolerance 3 % (issue #4), whether the probe axis is on a voxel centre or half a voxel off.
    """
    front, exact = cylinder_problem_mm(1.0, offset)
    assert front == pytest.approx(exact, rel=0.03)


def test_energy_is_conserved_with_insulated_faces():
    """No perfusion, insulated faces, one probe: the grid's ΔH equals the probe's heat."""
    n, dx = 21, 1e-3
    mat = uniform_material(
        (n, n, n), cf=1.9e6, cu=4.0e6, kf=2.2, ku=0.55, latent=3e8, half_interval=0.5
    )
    c = (n - 1) / 2
    probes = sources.ProbeArrays(
        tips=jnp.array([[c + 0.3, c - 0.2, 4.0]]),
        entries=jnp.array([[c + 0.3, c - 0.2, 40.0]]),
        radius_m=jnp.array([0.74e-3]),
        tip_offset_m=jnp.array([1e-3]),
        active_length_m=jnp.array([10e-3]),
        surface_c=jnp.array([-100.0]),
        ramp_s=jnp.array([20.0]),
        freeze_windows_s=jnp.array([[[0.0, 1e9]]]),
        thaw_windows_s=jnp.zeros((0, 2)),
        thaw_surface_c=jnp.array(20.0),
    )
    dt = stable_explicit_dt(2.2 / 1.9e6, (dx, dx, dx))
    source, _ = sources.make_probe_source(
        probes,
        lambda t: apparent_capacity(t, mat),
        shape=(n, n, n),
        spacing_m=(dx, dx, dx),
        n_samples=10,
        body_c=37.0,
        switch_width_s=dt,
        dt_s=dt,
    )
    step = make_step(mat, (dx, dx, dx), dt, arterial_c=37.0, source=source)

    def tracked(carry):
        state, extracted = carry
        heat = source(temperature(state.h, mat), state.time_s)
        return step(state), extracted + jnp.sum(heat) * dt * dx**3

    t0 = jnp.full((n, n, n), 37.0)
    s0 = ThermalState(enthalpy(t0, mat), t0, jnp.asarray(0.0))
    state, probe_joules = jax.jit(lambda c: jax.lax.fori_loop(0, 600, lambda i, c: tracked(c), c))(
        (s0, jnp.asarray(0.0))
    )
    change = float(jnp.sum(state.h - s0.h)) * dx**3
    assert float(probe_joules) < -1.0  # the probe did extract heat
    assert change == pytest.approx(float(probe_joules), rel=0.01)  # energy balance closes to 1 %
