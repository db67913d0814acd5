"""Tissue thermal property library: every value carries its source and confidence.

Confidence codes follow ``shared/reference/physics-data.md``: **A** read in the cited source,
**B** standard constant or widely reproduced value, **C** recalled and uncertain, **D** our own
derivation. Values coded C or D are *estimates* (``Sourced.is_estimate``); reports flag them and a
case may override any property (``tissue_overrides`` in the case file).

Units at this interface: kg/m³, J/m³/K (volumetric heat capacity), W/m/K, J/m³ (volumetric latent
heat), °C, W/m³/K (perfusion term ω_b ρ_b c_b), W/m³ (metabolic heat).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from optiprobe.errors import OptiprobeError

__all__ = [
    "PROPERTY_NAMES",
    "TISSUES",
    "Sourced",
    "Tissue",
    "get_tissue",
    "with_overrides",
]

_CONFIDENCE_CODES = ("A", "B", "C", "D", "case")


@dataclass(frozen=True)
class Sourced:
    """A number with its source.

    Parameters
    ----------
    value : float
        The value, in the unit named by the field that holds it.
    source : str
        Citation (paper with DOI/PMID, database, or the derivation used).
    confidence : str
        One of ``A``, ``B``, ``C``, ``D`` (physics-data.md) or ``case`` (set by a case file).
    """

    value: float
    source: str
    confidence: str

    def __post_init__(self) -> None:
        if self.confidence not in _CONFIDENCE_CODES:
            raise ValueError(f"confidence must be in {_CONFIDENCE_CODES}, got {self.confidence}")

    @property
    def is_estimate(self) -> bool:
        """True for recalled-uncertain (C) or derived (D) values."""
        return self.confidence in ("C", "D")


@dataclass(frozen=True)
class Tissue:
    """Thermal properties of one tissue, unfrozen and frozen, for Pennes bioheat with phase change.

    Perfusion and metabolic heat apply only to unfrozen tissue; the solver switches them off once
    the tissue has frozen. Latent heat is released uniformly over ``[solidus_c, liquidus_c]``.
    """

    name: str
    description: str
    density_kg_m3: Sourced
    heat_capacity_unfrozen_j_m3k: Sourced
    heat_capacity_frozen_j_m3k: Sourced
    conductivity_unfrozen_w_mk: Sourced
    conductivity_frozen_w_mk: Sourced
    latent_heat_j_m3: Sourced
    solidus_c: Sourced
    liquidus_c: Sourced
    perfusion_w_m3k: Sourced
    metabolic_w_m3: Sourced

    def __post_init__(self) -> None:
        for name in PROPERTY_NAMES:
            value = getattr(self, name).value
            if not math.isfinite(value):
                raise ValueError(f"{self.name}: {name} must be finite, got {value}")
        if self.solidus_c.value > self.liquidus_c.value:
            raise ValueError(f"{self.name}: solidus_c must not exceed liquidus_c")
        for name in PROPERTY_NAMES:
            value = getattr(self, name).value
            if name not in ("solidus_c", "liquidus_c") and value < 0:
                raise ValueError(f"{self.name}: {name} must be >= 0, got {value}")

    def value(self, name: str) -> float:
        """The bare number of property ``name``."""
        return getattr(self, name).value

    @property
    def estimated_properties(self) -> tuple[str, ...]:
        """Names of the properties whose values are estimates (confidence C or D)."""
        return tuple(name for name in PROPERTY_NAMES if getattr(self, name).is_estimate)


PROPERTY_NAMES: tuple[str, ...] = tuple(
    f.name for f in fields(Tissue) if f.name not in ("name", "description")
)


def get_tissue(name: str) -> Tissue:
    """Look up a tissue by name; an unknown name raises an error listing the known ones."""
    try:
        return TISSUES[name]
    except KeyError:
        raise OptiprobeError(
            f"unknown tissue {name!r}", allowed=", ".join(sorted(TISSUES))
        ) from None


def with_overrides(tissue: Tissue, overrides: dict[str, float], *, source: str) -> Tissue:
    """Return ``tissue`` with some property values replaced (confidence ``case``).

    Parameters
    ----------
    tissue
        The library tissue.
    overrides
        Property name → new value, in the units of :class:`Tissue`.
    source
        Where the new values come from (e.g. the case file path), kept with each value.
    """
    unknown = sorted(set(overrides) - set(PROPERTY_NAMES))
    if unknown:
        raise OptiprobeError(
            f"unknown tissue property {unknown[0]!r} for tissue {tissue.name!r}",
            allowed=", ".join(PROPERTY_NAMES),
        )
    changes = {}
    for name, raw in overrides.items():
        try:
            changes[name] = Sourced(float(raw), source, "case")
        except (TypeError, ValueError):
            raise OptiprobeError(
                f"tissue property {name!r} of tissue {tissue.name!r} must be a number, got {raw!r}"
            ) from None
    try:
        return replace(tissue, **changes)
    except ValueError as exc:
        raise OptiprobeError(str(exc)) from None


# The library itself: name -> Tissue. Filled in ``optiprobe/_tissue_data.py`` so this module stays
# small; every entry cites its sources there.
from optiprobe._tissue_data import TISSUES  # noqa: E402
