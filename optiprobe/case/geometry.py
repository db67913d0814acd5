"""Shape specifications as written in case files (``type: sphere`` …), converted to shapes."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from optiprobe._model import Length, StrictModel, Vec3
from optiprobe.anatomy import shapes

__all__ = ["SHAPE_TAGS", "ShapeSpec"]


def _orthonormal(axes: tuple[Vec3, Vec3, Vec3] | None) -> tuple[Vec3, Vec3, Vec3] | None:
    """Accept axes orthonormal to 1e-3 (hand-typed, rounded) and return the nearest exact ones."""
    if axes is None:
        return None
    matrix = np.asarray(axes, dtype=float)
    if not np.allclose(matrix @ matrix.T, np.eye(3), atol=1e-3):
        raise ValueError("axes must be three orthonormal unit vectors (rows of a rotation matrix)")
    u, _, vt = np.linalg.svd(matrix)  # polar decomposition: nearest orthogonal matrix
    return tuple(tuple(float(v) for v in row) for row in u @ vt)


class SphereSpec(StrictModel):
    """A ball: ``center_mm`` (LPS) and ``radius_mm``."""

    type: Literal["sphere"]
    center_mm: Vec3
    radius_mm: Length

    def to_shape(self) -> shapes.Sphere:
        """The analytic shape."""
        return shapes.Sphere(self.center_mm, self.radius_mm)


class EllipsoidSpec(StrictModel):
    """An ellipsoid: semi-axes ``radii_mm`` along ``axes`` (default x, y, z)."""

    type: Literal["ellipsoid"]
    center_mm: Vec3
    radii_mm: tuple[Length, Length, Length]
    axes: tuple[Vec3, Vec3, Vec3] | None = None

    _check_axes = field_validator("axes")(_orthonormal)

    def to_shape(self) -> shapes.Ellipsoid:
        """The analytic shape."""
        if self.axes is None:
            return shapes.Ellipsoid(self.center_mm, self.radii_mm)
        return shapes.Ellipsoid(self.center_mm, self.radii_mm, self.axes)


class BoxSpec(StrictModel):
    """A box: full edge lengths ``size_mm`` along ``axes`` (default x, y, z)."""

    type: Literal["box"]
    center_mm: Vec3
    size_mm: tuple[Length, Length, Length]
    axes: tuple[Vec3, Vec3, Vec3] | None = None

    _check_axes = field_validator("axes")(_orthonormal)

    def to_shape(self) -> shapes.Box:
        """The analytic shape."""
        if self.axes is None:
            return shapes.Box(self.center_mm, self.size_mm)
        return shapes.Box(self.center_mm, self.size_mm, self.axes)


class _SegmentSpec(StrictModel):
    start_mm: Vec3
    end_mm: Vec3
    radius_mm: Length

    @model_validator(mode="after")
    def _distinct_ends(self):
        if np.allclose(self.start_mm, self.end_mm):
            raise ValueError("start_mm and end_mm must differ")
        return self


class CylinderSpec(_SegmentSpec):
    """A flat-ended cylinder from ``start_mm`` to ``end_mm``."""

    type: Literal["cylinder"]

    def to_shape(self) -> shapes.Cylinder:
        """The analytic shape."""
        return shapes.Cylinder(self.start_mm, self.end_mm, self.radius_mm)


class CapsuleSpec(_SegmentSpec):
    """A cylinder with hemispherical ends from ``start_mm`` to ``end_mm``."""

    type: Literal["capsule"]

    def to_shape(self) -> shapes.Capsule:
        """The analytic shape."""
        return shapes.Capsule(self.start_mm, self.end_mm, self.radius_mm)


class TubeSpec(StrictModel):
    """A tube of ``radius_mm`` along a polyline of at least two ``points_mm`` (nerve, vessel)."""

    type: Literal["tube"]
    points_mm: Annotated[list[Vec3], Field(min_length=2)]
    radius_mm: Length

    def to_shape(self) -> shapes.Tube:
        """The analytic shape."""
        return shapes.Tube(tuple(self.points_mm), self.radius_mm)


ShapeSpec = Annotated[
    SphereSpec | EllipsoidSpec | BoxSpec | CylinderSpec | CapsuleSpec | TubeSpec,
    Field(discriminator="type"),
]
SHAPE_TAGS = frozenset({"sphere", "ellipsoid", "box", "cylinder", "capsule", "tube"})
