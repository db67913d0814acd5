"""Time stepping: builders that return pure ``step`` functions, run in ``lax.scan``.

The state is the volumetric enthalpy ``h`` (J/m³) and the minimum temperature reached so far,
``t_min`` (°C), which also switches perfusion off once a voxel has frozen. The energy equation is
Pennes bioheat with phase change in enthalpy form (Pennes, J Appl Physiol 1948;1:93):

    ∂H/∂t = ∇·(k∇T) + φ(T_min) ω_b ρ_b c_b (T_a − T) − (1 − φ(T_min)) Q_m + q_probe(T, t)

with φ the liquid fraction: the resting state is in equilibrium at body temperature (metabolic
heat balanced), and frozen tissue loses both its perfusion and its metabolic heat. Forward Euler
in ``h`` is conservative: every joule a voxel gains its neighbour loses; ``fixed`` voxels are held
at a given temperature (a Dirichlet condition).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from optiprobe.thermal.material import (
    Material,
    conductivity,
    enthalpy,
    liquid_fraction,
    temperature,
)
from optiprobe.thermal.operators import conduction_divergence

__all__ = ["Fixed", "ThermalState", "make_rhs", "make_rkl2_step", "make_step", "rkl2_factor"]

SourceFn = Callable[[jax.Array, jax.Array], jax.Array]


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class ThermalState:
    """Enthalpy (J/m³), minimum temperature reached (°C) and time (s)."""

    h: jax.Array
    t_min: jax.Array
    time_s: jax.Array


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Fixed:
    """Voxels held at a temperature: ``mask`` (bool) and ``temperature_c`` (°C), grid-shaped."""

    mask: jax.Array
    temperature_c: jax.Array


def make_rhs(
    material: Material,
    spacing_m: tuple[float, float, float],
    *,
    arterial_c: float,
    source: SourceFn | None = None,
) -> Callable[[ThermalState], jax.Array]:
    """Return ``rhs(state) -> dH/dt`` (W/m³) for the bioheat equation with phase change."""
    perfusion = material.field("perfusion")
    metabolic = material.field("metabolic")

    def rhs(state: ThermalState) -> jax.Array:
        t = temperature(state.h, material)
        k = conductivity(t, material)
        alive = liquid_fraction(state.t_min, material)
        total = conduction_divergence(t, k, spacing_m)
        # The resting state is in equilibrium at body temperature: metabolic heat is balanced
        # there (net zero while alive) and is lost where tissue has frozen. Adding Q_m on top of
        # the resting balance would drift tissue to T_a + Q_m/(ω_b ρ_b c_b), +1.9 °C in bone,
        # warming protected structures (the unsafe direction).
        total = total + alive * perfusion * (arterial_c - t) + (alive - 1.0) * metabolic
        if source is not None:
            total = total + source(t, state.time_s)
        return total

    return rhs


def make_step(
    material: Material,
    spacing_m: tuple[float, float, float],
    dt_s: float,
    *,
    arterial_c: float,
    source: SourceFn | None = None,
    fixed: Fixed | None = None,
) -> Callable[[ThermalState], ThermalState]:
    """Return a pure forward-Euler ``step(state) -> state`` of length ``dt_s`` seconds."""
    rhs = make_rhs(material, spacing_m, arterial_c=arterial_c, source=source)
    h_fixed = None if fixed is None else enthalpy(fixed.temperature_c, material)

    def step(state: ThermalState) -> ThermalState:
        h = state.h + dt_s * rhs(state)
        if fixed is not None:
            h = jnp.where(fixed.mask, h_fixed, h)
        t = temperature(h, material)
        return ThermalState(h=h, t_min=jnp.minimum(state.t_min, t), time_s=state.time_s + dt_s)

    return step


def rkl2_factor(stages: int) -> float:
    """How many forward-Euler stability limits one RKL2 step of ``stages`` stages may span."""
    return (stages**2 + stages - 2) / 4.0


def _rkl2_coefficients(stages: int) -> list[tuple[float, float, float, float]]:
    """(μ_j, ν_j, μ̃_j, γ̃_j) for j = 2..s of RKL2 (Meyer, Balsara & Aslam, JCP 2014;257:594)."""
    b = [0.0] * (stages + 1)
    for j in range(2, stages + 1):
        b[j] = (j * j + j - 2) / (2.0 * j * (j + 1))
    b[0] = b[1] = b[2]
    w1 = 4.0 / (stages * stages + stages - 2)
    rows = []
    for j in range(2, stages + 1):
        mu = (2 * j - 1) / j * b[j] / b[j - 1]
        nu = -(j - 1) / j * b[j] / b[j - 2]
        rows.append((mu, nu, mu * w1, -(1.0 - b[j - 1]) * mu * w1))
    return rows


def make_rkl2_step(
    material: Material,
    spacing_m: tuple[float, float, float],
    dt_s: float,
    *,
    stages: int,
    arterial_c: float,
    source: SourceFn | None = None,
    fixed: Fixed | None = None,
) -> Callable[[ThermalState], ThermalState]:
    """Return a super-time-step ``step(state) -> state`` of ``dt_s`` seconds (RKL2, s stages).

    The second-order Runge–Kutta–Legendre scheme is stable for parabolic problems up to
    ``dt_s <= rkl2_factor(stages) × (forward-Euler limit)`` at ``stages`` evaluations of the
    right-hand side, so it takes fewer evaluations than forward Euler for the same simulated time
    (Meyer, Balsara & Aslam, J Comput Phys 2014;257:594, eqs. 16-17). Within a step, perfusion is
    gated by the minimum temperature reached before it and sources see the step's mid time.
    """
    rhs = make_rhs(material, spacing_m, arterial_c=arterial_c, source=source)
    h_fixed = None if fixed is None else enthalpy(fixed.temperature_c, material)
    rows = jnp.asarray(_rkl2_coefficients(stages), dtype=jnp.float32)  # (s - 1, 4)
    w1 = 4.0 / (stages * stages + stages - 2)
    mu1 = (1.0 / 3.0) * w1  # b_1 = b_2 = 1/3

    def hold(h: jax.Array) -> jax.Array:
        return h if fixed is None else jnp.where(fixed.mask, h_fixed, h)

    def step(state: ThermalState) -> ThermalState:
        mid = state.time_s + 0.5 * dt_s
        L = lambda h: rhs(ThermalState(h=h, t_min=state.t_min, time_s=mid))  # noqa: E731
        y0 = state.h
        l0 = L(y0)

        def stage(carry, row):
            y_prev2, y_prev = carry
            mu, nu, mu_t, gamma_t = row[0], row[1], row[2], row[3]
            y = mu * y_prev + nu * y_prev2 + (1.0 - mu - nu) * y0
            y = hold(y + mu_t * dt_s * L(y_prev) + gamma_t * dt_s * l0)
            return (y_prev, y), None

        (_, y), _ = jax.lax.scan(stage, (y0, hold(y0 + mu1 * dt_s * l0)), rows)
        t = temperature(y, material)
        return ThermalState(h=y, t_min=jnp.minimum(state.t_min, t), time_s=state.time_s + dt_s)

    return step
