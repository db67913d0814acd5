"""Base class for the I/O-edge pydantic models (cases, plans, phantom parameters, sweeps)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Length", "NonNegative", "Positive", "StrictModel", "Vec3"]


class StrictModel(BaseModel):
    """Frozen, no unknown fields, finite numbers, no arrays: plain data at the file boundary."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, allow_inf_nan=False
    )


Vec3 = tuple[float, float, float]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Length = Annotated[float, Field(gt=0, le=2000)]
