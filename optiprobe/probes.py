"""Probe catalogue: needle geometry and cooling laws, a registry by model name.

A cryoprobe is a straight needle; its *active freeze zone* of length ``active_length_mm`` ends
``tip_offset_mm`` behind the tip, and the shaft above it is insulated. Its cooling law is an
*effective* boundary condition: a wall temperature of −140…−150 °C over the whole active surface
over-predicts the lethal zone (physics-data.md §0.2, §4.3), so each model carries an effective
surface temperature reached after a cool-down ramp, and optionally a heat-extraction limit.

``cryo-1.7mm`` and ``cryo-2.4mm`` are fitted with the 3-D solver to Littrup 2009 (power-limited
law: measured surface temperature plus a fitted heat-extraction cap, which predicts multi-probe
arrays better than a fixed effective temperature); the 17 G models have no gel data yet and keep
initial values (2-D radial calibration of physics-data.md §4.3, confidence D). ``calibration``
says which state each model is in. Geometry values not read in a vendor document are estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

from optiprobe.errors import OptiprobeError

__all__ = ["CATALOGUE", "CoolingLaw", "ProbeModel", "get_probe_model"]


@dataclass(frozen=True)
class CoolingLaw:
    """Effective probe boundary condition.

    Parameters
    ----------
    temperature_c
        Effective active-surface temperature reached after the ramp (°C).
    ramp_s
        Time for the surface to cool linearly from body temperature to ``temperature_c`` (s).
    max_power_w
        Optional cap on heat extracted by the probe (W); ``None`` for no cap.
    """

    temperature_c: float
    ramp_s: float
    max_power_w: float | None = None


@dataclass(frozen=True)
class ProbeModel:
    """One needle model: geometry (mm), cooling law and where its numbers come from."""

    name: str
    diameter_mm: float
    active_length_mm: float
    tip_offset_mm: float
    cooling: CoolingLaw
    description: str
    source: str
    calibration: str

    @property
    def active_middle_mm(self) -> float:
        """Distance from the tip to the middle of the active (freezing) zone along the needle."""
        return self.tip_offset_mm + self.active_length_mm / 2

    @property
    def calibrated(self) -> bool:
        """True when the cooling law was fitted to gel measurements with the 3-D solver."""
        return self.calibration.startswith(_FITTED_PREFIX)

    def __post_init__(self) -> None:
        if not 0.3 <= self.diameter_mm <= 6.0:
            raise ValueError(
                f"{self.name}: diameter_mm must be in [0.3, 6], got {self.diameter_mm}"
            )
        if self.active_length_mm <= 0 or self.tip_offset_mm < 0:
            raise ValueError(f"{self.name}: active_length_mm > 0 and tip_offset_mm >= 0 required")


_UNCALIBRATED = (
    "initial value from the 2-D radial calibration of physics-data.md §4.3 (D); "
    "not yet fitted with the 3-D solver"
)
_GEOMETRY_ESTIMATE = (
    "diameter from the device class (A); active length and tip offset estimated (C)"
)

# Argon probe surface temperature measured in phantoms: −140 to −150 °C (Cryobiology
# 2025;120:105274, physics-data.md §1.1, confidence A).
_MEASURED_SURFACE_C = -145.0


_FITTED_PREFIX = "fitted with the 3-D solver: "


def _fitted(model: str, predicted: str, single: str) -> str:
    return (
        f"{_FITTED_PREFIX}surface {_MEASURED_SURFACE_C:g} °C (measured) with the power cap "
        f"fitted to the single-probe -30 °C diameter of Littrup 2009 in 39 °C agar ({single}, "
        f"15 min, 1 mm grid); held-out 2/3/4-probe diameters off by {predicted} mm "
        f"(benchmarks/calibrate_probes.py --model {model}; results/calibration/{model}.json)"
    )


CATALOGUE: dict[str, ProbeModel] = {
    model.name: model
    for model in (
        ProbeModel(
            name="cryo-17g-rod",
            diameter_mm=1.47,
            active_length_mm=35.0,
            tip_offset_mm=4.0,
            cooling=CoolingLaw(temperature_c=-85.0, ramp_s=60.0),
            description="17 G (1.47 mm) elongated-ice needle (IceRod class)",
            source=f"Galil IceRod 1.47 mm (BJU Int 2008, doi:10.1111/j.1464-410X.2008.07735.x); "
            f"{_GEOMETRY_ESTIMATE}",
            calibration=_UNCALIBRATED,
        ),
        ProbeModel(
            name="cryo-17g-sphere",
            diameter_mm=1.47,
            active_length_mm=15.0,
            tip_offset_mm=4.0,
            cooling=CoolingLaw(temperature_c=-85.0, ramp_s=60.0),
            description="17 G (1.47 mm) near-spherical-ice needle (IceSphere class)",
            source=f"BSC/Galil 17 G needle family (physics-data.md §1.1, C); {_GEOMETRY_ESTIMATE}",
            calibration=_UNCALIBRATED,
        ),
        ProbeModel(
            name="cryo-1.7mm",
            diameter_mm=1.7,
            active_length_mm=30.0,
            tip_offset_mm=5.0,
            cooling=CoolingLaw(temperature_c=_MEASURED_SURFACE_C, ramp_s=60.0, max_power_w=14.3),
            description="1.7 mm argon probe, as in Littrup et al. JVIR 2009",
            source=f"Littrup 2009, doi:10.1016/j.jvir.2009.05.038 (A); {_GEOMETRY_ESTIMATE}",
            calibration=_fitted("cryo-1.7mm", "+3.3/-2.4/-0.5", "10.1 mm (84 % of 12 mm)"),
        ),
        ProbeModel(
            name="cryo-2.4mm",
            diameter_mm=2.4,
            active_length_mm=40.0,
            tip_offset_mm=5.0,
            cooling=CoolingLaw(temperature_c=_MEASURED_SURFACE_C, ramp_s=60.0, max_power_w=20.5),
            description="2.4 mm argon probe, as in Littrup et al. JVIR 2009",
            source=f"Littrup 2009, doi:10.1016/j.jvir.2009.05.038 (A); {_GEOMETRY_ESTIMATE}",
            calibration=_fitted("cryo-2.4mm", "+0.3/-5.3/-4.1", "12 mm"),
        ),
    )
}


def get_probe_model(name: str) -> ProbeModel:
    """Look up a catalogue model; an unknown name raises an error listing the known ones."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise OptiprobeError(
            f"unknown probe model {name!r}", allowed=", ".join(sorted(CATALOGUE))
        ) from None
