"""Analytic shapes as signed-distance functions in LPS millimetres.

Each shape is a frozen dataclass with ``signed_distance(points_mm)`` (negative inside, positive
outside, zero on the surface; exact for spheres, boxes, cylinders, capsules and tubes, a
first-order approximation for ellipsoids) and ``bounds_mm()`` (an axis-aligned box that
contains the shape).
Voxelisation marks a voxel as inside where the distance at its centre is <= 0.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Box", "Capsule", "Cylinder", "Ellipsoid", "Shape", "Sphere", "Tube"]


def _vec(values, n: int = 3) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != (n,):
        raise ValueError(f"expected {n} coordinates, got shape {array.shape}")
    return array


def _rotation(axes) -> np.ndarray:
    """Validate a 3×3 matrix whose rows are the shape's local unit axes in LPS."""
    matrix = np.asarray(axes, dtype=float)
    if matrix.shape != (3, 3) or not np.allclose(matrix @ matrix.T, np.eye(3), atol=1e-6):
        raise ValueError("axes must be 3 orthonormal row vectors")
    return matrix


def _segment_distance(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Distance from points (..., 3) to the segment [start, end]."""
    direction = end - start
    length_sq = float(direction @ direction)
    rel = points - start
    t = (
        np.zeros(points.shape[:-1])
        if length_sq == 0
        else np.clip(rel @ direction / length_sq, 0, 1)
    )
    return np.linalg.norm(rel - t[..., None] * direction, axis=-1)


@dataclass(frozen=True)
class Sphere:
    """Ball of ``radius_mm`` around ``center_mm``."""

    center_mm: tuple[float, float, float]
    radius_mm: float

    def signed_distance(self, points_mm: np.ndarray) -> np.ndarray:
        """Exact signed distance (mm) for points of shape ``(..., 3)``."""
        return np.linalg.norm(points_mm - _vec(self.center_mm), axis=-1) - self.radius_mm

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounding box (lower, upper)."""
        c = _vec(self.center_mm)
        return c - self.radius_mm, c + self.radius_mm


@dataclass(frozen=True)
class Ellipsoid:
    """Ellipsoid with semi-axes ``radii_mm`` along the rows of ``axes`` (default: x, y, z)."""

    center_mm: tuple[float, float, float]
    radii_mm: tuple[float, float, float]
    axes: tuple[tuple[float, ...], ...] = field(default=((1, 0, 0), (0, 1, 0), (0, 0, 1)))

    def signed_distance(self, points_mm: np.ndarray) -> np.ndarray:
        """Approximate signed distance (mm); exact sign, first-order accurate near the surface.

        Uses d ≈ k0 (k0 − 1) / k1 with k0 = |p/r|, k1 = |p/r²| (a standard ellipsoid bound).
        """
        local = (points_mm - _vec(self.center_mm)) @ _rotation(self.axes).T
        radii = _vec(self.radii_mm)
        k0 = np.linalg.norm(local / radii, axis=-1)
        k1 = np.linalg.norm(local / radii**2, axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            distance = k0 * (k0 - 1.0) / k1
        return np.where(k1 > 0, distance, -float(radii.min()))

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounding box (lower, upper) of the rotated ellipsoid."""
        half = np.sqrt(((_rotation(self.axes).T * _vec(self.radii_mm)) ** 2).sum(axis=1))
        c = _vec(self.center_mm)
        return c - half, c + half


@dataclass(frozen=True)
class Box:
    """Rectangular box of full edge lengths ``size_mm`` along the rows of ``axes``."""

    center_mm: tuple[float, float, float]
    size_mm: tuple[float, float, float]
    axes: tuple[tuple[float, ...], ...] = field(default=((1, 0, 0), (0, 1, 0), (0, 0, 1)))

    def signed_distance(self, points_mm: np.ndarray) -> np.ndarray:
        """Exact signed distance (mm)."""
        local = (points_mm - _vec(self.center_mm)) @ _rotation(self.axes).T
        q = np.abs(local) - 0.5 * _vec(self.size_mm)
        outside = np.linalg.norm(np.maximum(q, 0.0), axis=-1)
        inside = np.minimum(q.max(axis=-1), 0.0)
        return outside + inside

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounding box (lower, upper)."""
        half = np.abs(_rotation(self.axes).T) @ (0.5 * _vec(self.size_mm))
        c = _vec(self.center_mm)
        return c - half, c + half


@dataclass(frozen=True)
class Cylinder:
    """Flat-ended cylinder of ``radius_mm`` whose axis runs from ``start_mm`` to ``end_mm``."""

    start_mm: tuple[float, float, float]
    end_mm: tuple[float, float, float]
    radius_mm: float

    def signed_distance(self, points_mm: np.ndarray) -> np.ndarray:
        """Exact signed distance (mm)."""
        a, b = _vec(self.start_mm), _vec(self.end_mm)
        axis = b - a
        length = float(np.linalg.norm(axis))
        rel = points_mm - a
        along = rel @ (axis / length)
        radial = np.linalg.norm(rel - along[..., None] * (axis / length), axis=-1)
        d_radial = radial - self.radius_mm
        d_axial = np.abs(along - 0.5 * length) - 0.5 * length
        outside = np.hypot(np.maximum(d_radial, 0), np.maximum(d_axial, 0))
        return outside + np.minimum(np.maximum(d_radial, d_axial), 0)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounding box (lower, upper), conservative."""
        a, b = _vec(self.start_mm), _vec(self.end_mm)
        return np.minimum(a, b) - self.radius_mm, np.maximum(a, b) + self.radius_mm


@dataclass(frozen=True)
class Capsule:
    """Segment from ``start_mm`` to ``end_mm`` swept by a ball of ``radius_mm``."""

    start_mm: tuple[float, float, float]
    end_mm: tuple[float, float, float]
    radius_mm: float

    def signed_distance(self, points_mm: np.ndarray) -> np.ndarray:
        """Exact signed distance (mm)."""
        return (
            _segment_distance(points_mm, _vec(self.start_mm), _vec(self.end_mm)) - self.radius_mm
        )

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounding box (lower, upper)."""
        a, b = _vec(self.start_mm), _vec(self.end_mm)
        return np.minimum(a, b) - self.radius_mm, np.maximum(a, b) + self.radius_mm


@dataclass(frozen=True)
class Tube:
    """A tube of ``radius_mm`` around a polyline through ``points_mm`` (a nerve, a vessel)."""

    points_mm: tuple[tuple[float, float, float], ...]
    radius_mm: float

    def signed_distance(self, points_mm: np.ndarray) -> np.ndarray:
        """Exact signed distance (mm): the minimum over the polyline's segments."""
        vertices = np.asarray(self.points_mm, dtype=float)
        distance = np.full(np.shape(points_mm)[:-1], np.inf)
        for start, end in itertools.pairwise(vertices):
            distance = np.minimum(distance, _segment_distance(points_mm, start, end))
        return distance - self.radius_mm

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounding box (lower, upper)."""
        vertices = np.asarray(self.points_mm, dtype=float)
        return vertices.min(axis=0) - self.radius_mm, vertices.max(axis=0) + self.radius_mm


Shape = Sphere | Ellipsoid | Box | Cylinder | Capsule | Tube
