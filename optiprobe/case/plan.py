"""The plan file: the decisions (probes, their trajectories and freeze durations, protocol).

Plans are written by the planner and by hand; both go through the same model. A plan refers to its
case by path (relative to the plan file) or is given together with a case on the command line.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from optiprobe._model import StrictModel, Vec3
from optiprobe.case._types import Minutes, Name
from optiprobe.case.treatment import ProtocolSpec

__all__ = ["Plan", "PlannedProbe"]


class PlannedProbe(StrictModel):
    """One probe: model, tip and skin-entry points (LPS, mm), freeze durations.

    ``freeze_min`` gives one duration per freeze phase of the protocol; when omitted, the
    protocol's phase durations apply. A probe may stop before its phase ends.
    """

    name: Name | None = None
    model: str
    tip_mm: Vec3
    entry_mm: Vec3
    freeze_min: list[Minutes] | None = None

    @model_validator(mode="after")
    def _distinct_points(self):
        if np.linalg.norm(np.subtract(self.tip_mm, self.entry_mm)) < 1.0:
            raise ValueError("tip_mm and entry_mm must be at least 1 mm apart")
        return self

    @property
    def depth_mm(self) -> float:
        """Insertion depth: distance from skin entry to tip (mm)."""
        return float(np.linalg.norm(np.subtract(self.tip_mm, self.entry_mm)))


class Plan(StrictModel):
    """A cryoablation plan. See ``docs/case-format.md`` (plan section)."""

    schema_version: Literal[1] = 1
    name: Name = "plan"
    case: str | None = None
    description: str = ""
    probes: Annotated[list[PlannedProbe], Field(min_length=1, max_length=16)]
    protocol: ProtocolSpec | None = None

    @model_validator(mode="after")
    def _unique_names(self):
        names = [p.name for p in self.probes if p.name is not None]
        if len(set(names)) != len(names):
            raise ValueError("probe names must be unique")
        return self
