"""Material model for the enthalpy method: tissue table, H(T), T(H), k(T), perfusion switch.

Volumetric enthalpy ``H`` (J/m³) is measured from the tissue's solidus, so that for one tissue

* ``T <= Ts``:  ``H = C_f (T − Ts)``
* ``Ts < T < Tl``:  ``H = (C_m + L/ΔT)(T − Ts)`` with ``C_m = (C_f + C_u)/2``, ``ΔT = Tl − Ts``
* ``T >= Tl``:  ``H = (C_m + L/ΔT) ΔT + C_u (T − Tl)``

(latent heat ``L`` released uniformly over the phase-change interval; Voller & Cross,
Int J Heat Mass Transfer 1981; the standard "apparent heat capacity / enthalpy" form used in
cryosurgery models, e.g. Rabin & Shitzer, J Biomech Eng 1998;120:32). Conductivity follows the
liquid fraction linearly between ``k_f`` and ``k_u``. Perfusion and metabolic heat are scaled by
the liquid fraction of the *minimum* temperature reached, so they stop once tissue has frozen and
do not return during the thaw (vascular stasis).

Kernels see only :class:`Material` (a frozen dataclass registered as a JAX pytree): a small
per-tissue table and a per-voxel tissue index, so a step reads one byte of material per voxel.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from optiprobe.anatomy.volume import Volume

__all__ = [
    "Material",
    "apparent_capacity",
    "conductivity",
    "enthalpy",
    "liquid_fraction",
    "material_from_volume",
    "temperature",
]

# Phase-change-free materials (CO2 gas) have Ts == Tl; a tiny interval keeps the formulas finite.
_MIN_INTERVAL_C = 1e-3


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Material:
    """Per-tissue property table and per-voxel tissue index (SI units, float32).

    Attributes
    ----------
    index : int32 array, shape (nx, ny, nz)
        Tissue index of each voxel.
    c_frozen, c_unfrozen : (n_tissues,) J/m³/K
    k_frozen, k_unfrozen : (n_tissues,) W/m/K
    latent : (n_tissues,) J/m³
    solidus, liquidus : (n_tissues,) °C
    perfusion : (n_tissues,) W/m³/K (ω_b ρ_b c_b)
    metabolic : (n_tissues,) W/m³
    """

    index: jax.Array
    c_frozen: jax.Array
    c_unfrozen: jax.Array
    k_frozen: jax.Array
    k_unfrozen: jax.Array
    latent: jax.Array
    solidus: jax.Array
    liquidus: jax.Array
    perfusion: jax.Array
    metabolic: jax.Array

    def field(self, name: str) -> jax.Array:
        """Per-voxel values of table column ``name``."""
        return getattr(self, name)[self.index]


_COLUMNS = {
    "c_frozen": "heat_capacity_frozen_j_m3k",
    "c_unfrozen": "heat_capacity_unfrozen_j_m3k",
    "k_frozen": "conductivity_frozen_w_mk",
    "k_unfrozen": "conductivity_unfrozen_w_mk",
    "latent": "latent_heat_j_m3",
    "solidus": "solidus_c",
    "liquidus": "liquidus_c",
    "perfusion": "perfusion_w_m3k",
    "metabolic": "metabolic_w_m3",
}


def material_from_volume(volume: Volume, *, dtype=jnp.float32) -> Material:
    """Build the kernel material from a voxelised case (float32 by default)."""
    table = {
        column: np.array([t.value(prop) for t in volume.tissues], dtype=np.float64)
        for column, prop in _COLUMNS.items()
    }
    table["liquidus"] = np.maximum(table["liquidus"], table["solidus"] + _MIN_INTERVAL_C)
    return Material(
        index=jnp.asarray(volume.tissue_index, dtype=jnp.int32),
        **{column: jnp.asarray(values, dtype=dtype) for column, values in table.items()},
    )


def _gathered(material: Material, index: jax.Array | None):
    index = material.index if index is None else index
    take = lambda column: getattr(material, column)[index]  # noqa: E731
    return take


def enthalpy(temperature_c: jax.Array, material: Material, index: jax.Array | None = None):
    """Volumetric enthalpy H(T) (J/m³, zero at the solidus) of each voxel."""
    take = _gathered(material, index)
    ts, tl = take("solidus"), take("liquidus")
    cf, cu = take("c_frozen"), take("c_unfrozen")
    interval = tl - ts
    c_mushy = 0.5 * (cf + cu) + take("latent") / interval
    below = cf * (temperature_c - ts)
    within = c_mushy * (temperature_c - ts)
    above = c_mushy * interval + cu * (temperature_c - tl)
    return jnp.where(temperature_c <= ts, below, jnp.where(temperature_c >= tl, above, within))


def temperature(h: jax.Array, material: Material, index: jax.Array | None = None):
    """Temperature T(H) (°C) of each voxel: the inverse of :func:`enthalpy`.

    Reciprocals are taken on the small per-tissue table and multiplied per voxel: the solver
    evaluates this thousands of times on every voxel, and a division costs several
    multiplications on a CPU (this and :func:`conductivity` were half of a step's time).
    """
    ts, tl = material.solidus, material.liquidus
    interval = tl - ts
    c_mushy = 0.5 * (material.c_frozen + material.c_unfrozen) + material.latent / interval
    table = {
        "ts": ts,
        "tl": tl,
        "inv_cf": 1.0 / material.c_frozen,
        "inv_cu": 1.0 / material.c_unfrozen,
        "inv_cm": 1.0 / c_mushy,
        "h_liquidus": c_mushy * interval,
    }
    index = material.index if index is None else index
    take = lambda column: table[column][index]  # noqa: E731
    h_liquidus = take("h_liquidus")
    below = take("ts") + h * take("inv_cf")
    within = take("ts") + h * take("inv_cm")
    above = take("tl") + (h - h_liquidus) * take("inv_cu")
    return jnp.where(h <= 0, below, jnp.where(h >= h_liquidus, above, within))


def apparent_capacity(temperature_c: jax.Array, material: Material, index=None) -> jax.Array:
    """dH/dT (J/m³/K): C_f below the solidus, C_m + L/ΔT within the interval, C_u above."""
    take = _gathered(material, index)
    ts, tl = take("solidus"), take("liquidus")
    cf, cu = take("c_frozen"), take("c_unfrozen")
    c_mushy = 0.5 * (cf + cu) + take("latent") / (tl - ts)
    return jnp.where(temperature_c <= ts, cf, jnp.where(temperature_c >= tl, cu, c_mushy))


def liquid_fraction(temperature_c: jax.Array, material: Material, index=None) -> jax.Array:
    """Unfrozen fraction in [0, 1]: 0 below the solidus, 1 above the liquidus, linear between."""
    index = material.index if index is None else index
    inverse_interval = (1.0 / (material.liquidus - material.solidus))[index]
    return jnp.clip((temperature_c - material.solidus[index]) * inverse_interval, 0.0, 1.0)


def conductivity(temperature_c: jax.Array, material: Material, index=None) -> jax.Array:
    """Thermal conductivity k(T) (W/m/K), linear in the liquid fraction."""
    take = _gathered(material, index)
    fraction = liquid_fraction(temperature_c, material, index)
    return take("k_frozen") + fraction * (take("k_unfrozen") - take("k_frozen"))
