"""Medium classes and the cold potential V(T) in which single-probe responses are superposed.

Every tissue belongs to one medium class (:data:`TISSUE_MEDIUM`), represented by one tissue of
:data:`optiprobe.surrogate.training.MEDIA`. Probes are combined by adding a *cold potential*

    V(T) = ∫_T^37 (k(T') / k_unfrozen)^γ dT'       (°C-equivalent)

and reading the temperature back through the point's medium. With γ = 1 this is the Kirchhoff
transform, in which steady conduction from fixed heat sinks is linear even though frozen tissue
conducts three to four times better than unfrozen tissue; with γ = 0 it is the plain temperature
drop 37 − T. Neither fits the transient, power-limited freezing of the solver: the 2-probe
−40 °C volume came out 24 % small with γ = 1 and 59 % large with γ = 0, while adding enthalpy
deficits (latent heat included) doubled it. γ is therefore calibrated, per medium class, on
multi-probe solver runs (``optiprobe.surrogate.calibrate``; docs/surrogate.md).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from optiprobe.tissues import get_tissue

__all__ = ["TISSUE_MEDIUM", "MediumTable", "medium_of"]

BODY_C = 37.0
_GRID_C = np.linspace(-200.0, BODY_C, 2371)  # 0.1 °C steps

# Which class each tissue's ice growth resembles: perfusion and latent heat set the ice size.
TISSUE_MEDIUM: dict[str, str] = {
    "muscle": "soft",
    "skin": "soft",
    "intervertebral_disc": "soft",
    "cartilage": "soft",
    "spinal_cord": "soft",
    "nerve": "soft",
    "csf": "soft",
    "blood": "soft",
    "tumor_soft_tissue": "soft",
    "hydrodissection_fluid": "soft",
    "agar_gel": "soft",
    "cortical_bone": "bone",
    "cancellous_bone": "bone",
    "yellow_marrow": "bone",
    "tumor_osteoblastic": "bone",
    "tumor_osteolytic": "lytic",
    "bowel": "lytic",
    # About half the perfusion of osteolytic tumour (10,000-12,000 W/m³/K against 22,800), and
    # less latent heat: their ice grows several mm larger than osteolytic shells say.
    "tumor_mixed": "mixed",
    "red_marrow": "mixed",
    "lung": "mixed",
    "fat": "fat",
    "co2_gas": "fat",
}


def medium_of(tissue: str) -> str:
    """The medium class of ``tissue`` ("soft" for a tissue not listed)."""
    return TISSUE_MEDIUM.get(tissue, "soft")


class MediumTable:
    """Per medium class: the potential V(T) tabulated on a 0.1 °C grid, for its own γ."""

    def __init__(self, media: dict[str, str], gamma=1.0):
        self.names = tuple(media)
        self.gamma = np.broadcast_to(np.asarray(gamma, dtype=float), (len(self.names),)).copy()
        tables = []
        for c, name in enumerate(self.names):
            tissue = get_tissue(media[name])
            ts, tl = (
                tissue.value("solidus_c"),
                max(tissue.value("liquidus_c"), tissue.value("solidus_c") + 1e-3),
            )
            kf = tissue.value("conductivity_frozen_w_mk")
            ku = tissue.value("conductivity_unfrozen_w_mk")
            fraction = np.clip((_GRID_C - ts) / (tl - ts), 0.0, 1.0)
            weight = ((kf + fraction * (ku - kf)) / ku) ** self.gamma[c]
            integral = np.concatenate(
                [[0.0], np.cumsum(0.5 * (weight[1:] + weight[:-1]) * np.diff(_GRID_C))]
            )
            tables.append(integral[-1] - integral)  # V(T), decreasing in T, 0 at 37 °C
        self.potential_grid = np.asarray(tables)  # (C, G)

    def potential(self, t_c, medium: int) -> np.ndarray:
        """V(T) (°C-equivalent) of medium ``medium`` at temperature(s) ``t_c`` (numpy)."""
        return np.interp(t_c, _GRID_C, self.potential_grid[medium])

    def temperature(self, v, medium: int):
        """T(V) (°C), the inverse of :meth:`potential` (JAX, differentiable)."""
        ascending_v = jnp.asarray(self.potential_grid[medium][::-1])
        return jnp.interp(v, ascending_v, jnp.asarray(_GRID_C[::-1]))
