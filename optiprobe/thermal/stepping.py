"""Time stepping: builders that return pure ``step`` functions, run in ``lax.scan``.

The state is the volumetric enthalpy ``h`` (J/m³) and the minimum temperature reached so far,
``t_min`` (°C), which also switches perfusion off once a voxel has frozen. The energy equation is
Pennes bioheat with phase change in enthalpy form (Pennes, J Appl Physiol 1948;1:93):

    ∂H/∂t = ∇·(k∇T) + φ(T_min) [ω_b ρ_b c_b (T_a − T) + Q_m] + q_probe(T, t)

with φ the liquid fraction. Forward Euler in ``h`` is conservative: every joule a voxel gains its
neighbour loses; ``fixed`` voxels are held at a given temperature (a Dirichlet condition).
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

__all__ = ["Fixed", "ThermalState", "make_rhs", "make_step"]

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
        total = total + alive * (perfusion * (arterial_c - t) + metabolic)
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
