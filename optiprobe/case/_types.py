"""Constrained field types shared by the case-file models."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

__all__ = ["Minutes", "Name", "TemperatureC"]

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.+-]+$")]
TemperatureC = Annotated[float, Field(ge=-200, le=100)]
Minutes = Annotated[float, Field(gt=0, le=120)]
