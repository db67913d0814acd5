"""The treatment sections of a case file: allowed probes, protocol and objectives.

Frozen pydantic models with ``extra="forbid"`` like the rest of the case (:mod:`.models`);
units are in the field names (``_mm``, ``_min``, ``_c``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from optiprobe._model import StrictModel
from optiprobe.case._types import Minutes, Name, TemperatureC

__all__ = [
    "CoolingSpec",
    "CustomProbeSpec",
    "IceMarginSpec",
    "ObjectiveSpec",
    "PhaseSpec",
    "ProbesSpec",
    "ProtocolSpec",
    "TumorCoverageSpec",
    "default_objectives",
]


class ProbesSpec(StrictModel):
    """Allowed probe models (catalogue names or full definitions) and count/spacing limits."""

    models: Annotated[list[str | CustomProbeSpec], Field(min_length=1)]
    max_count: Annotated[int, Field(ge=1, le=16)] = 6
    min_spacing_mm: Annotated[float, Field(ge=0, le=100)] = 5.0
    max_spacing_mm: Annotated[float, Field(gt=0, le=200)] = 25.0

    @model_validator(mode="after")
    def _spacing_order(self):
        if self.min_spacing_mm >= self.max_spacing_mm:
            raise ValueError("min_spacing_mm must be below max_spacing_mm")
        return self

    @property
    def model_names(self) -> list[str]:
        """Names of the allowed models, catalogue or custom."""
        return [m if isinstance(m, str) else m.name for m in self.models]


class CoolingSpec(StrictModel):
    """Effective cooling law of a user-defined probe (see ``optiprobe.probes.CoolingLaw``)."""

    temperature_c: Annotated[float, Field(ge=-200, lt=0)]
    ramp_s: Annotated[float, Field(ge=0, le=600)] = 60.0
    max_power_w: Annotated[float, Field(gt=0, le=500)] | None = None


class CustomProbeSpec(StrictModel):
    """A fully user-defined probe model."""

    name: Name
    diameter_mm: Annotated[float, Field(ge=0.3, le=6)]
    active_length_mm: Annotated[float, Field(gt=0, le=100)]
    tip_offset_mm: Annotated[float, Field(ge=0, le=30)] = 0.0
    cooling: CoolingSpec
    description: str = "user-defined probe"


ProbesSpec.model_rebuild()


# --- protocol -------------------------------------------------------------------------------


class PhaseSpec(StrictModel):
    """One protocol phase: ``freeze`` or ``thaw`` (``passive``/``active``) for ``duration_min``."""

    kind: Literal["freeze", "thaw"]
    duration_min: Minutes
    thaw: Literal["passive", "active"] | None = None

    @model_validator(mode="after")
    def _thaw_type(self):
        if self.kind == "freeze" and self.thaw is not None:
            raise ValueError("thaw (passive/active) applies only to phases of kind 'thaw'")
        return self

    @property
    def thaw_mode(self) -> str | None:
        """``passive`` or ``active`` for a thaw phase (passive when not given), else None."""
        return None if self.kind == "freeze" else (self.thaw or "passive")


class ProtocolSpec(StrictModel):
    """Freeze–thaw cycles, and bounds the planner must keep each freeze duration within."""

    phases: Annotated[list[PhaseSpec], Field(min_length=1, max_length=12)]
    freeze_bounds_min: tuple[Minutes, Minutes] | None = None

    @model_validator(mode="after")
    def _valid(self):
        if self.phases[0].kind != "freeze":
            raise ValueError("the first phase must be a freeze")
        bounds = self.freeze_bounds_min
        if bounds is not None and bounds[0] > bounds[1]:
            raise ValueError("freeze_bounds_min must be [lower, upper] with lower <= upper")
        return self

    @property
    def freeze_durations_min(self) -> list[float]:
        """Durations of the freeze phases, in order."""
        return [p.duration_min for p in self.phases if p.kind == "freeze"]


# --- objectives -----------------------------------------------------------------------------


class IceMarginSpec(StrictModel):
    """Distance the ``isotherm_c`` surface reaches beyond the tumour surface, everywhere.

    The value reported is the minimum over the tumour surface; ``limit_mm`` must hold,
    ``goal_mm`` is worth reaching.
    """

    type: Literal["ice_margin"]
    isotherm_c: TemperatureC = 0.0
    limit_mm: Annotated[float, Field(ge=0, le=50)] = 3.0
    goal_mm: Annotated[float, Field(ge=0, le=50)] = 5.0

    @model_validator(mode="after")
    def _goal(self):
        if self.goal_mm < self.limit_mm:
            raise ValueError("goal_mm must be >= limit_mm")
        return self


class TumorCoverageSpec(StrictModel):
    """Fraction of tumour volume colder than a lethal isotherm.

    The limit requires ``min_fraction`` of the tumour below ``limit_isotherm_c``; the goal asks
    the same below the colder ``goal_isotherm_c``.
    """

    type: Literal["tumor_coverage"]
    limit_isotherm_c: TemperatureC = -20.0
    goal_isotherm_c: TemperatureC = -40.0
    min_fraction: Annotated[float, Field(gt=0, le=1)] = 0.99

    @model_validator(mode="after")
    def _goal(self):
        if self.goal_isotherm_c > self.limit_isotherm_c:
            raise ValueError("goal_isotherm_c must be at or below limit_isotherm_c")
        return self


ObjectiveSpec = Annotated[IceMarginSpec | TumorCoverageSpec, Field(discriminator="type")]


def default_objectives() -> list:
    return [IceMarginSpec(type="ice_margin"), TumorCoverageSpec(type="tumor_coverage")]
