"""Building blocks shared by the parametric phantoms (patient LPS, millimetres).

Shells (skin over fat over muscle, cortex over cancellous bone) are built by painting nested
solid shapes in order, outer first; the voxeliser gives each structure the region it still owns
after painting (see ``Structure``), so the outer structure's mask is the shell. ``inset`` makes
the inner shape of such a pair.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from optiprobe.anatomy.shapes import Box, Capsule, Cylinder, Ellipsoid, Shape, Sphere, Tube
from optiprobe.anatomy.structure import Structure

__all__ = [
    "SIDE_SIGN",
    "Frame",
    "Point",
    "Side",
    "as_point",
    "body_layers",
    "cortical_pair",
    "envelopes_then_cores",
    "inset",
    "ray_exit_mm",
    "skin_point_mm",
    "yaw_frame",
]

Point = tuple[float, float, float]
Side = Literal["left", "right"]

SIDE_SIGN: dict[str, float] = {"left": 1.0, "right": -1.0}
"""Sign of patient-lateral along LPS +x: the patient's left is +x, the right is -x."""


def as_point(values: Sequence[float] | np.ndarray) -> Point:
    """Three plain floats (mm) from any length-3 sequence."""
    x, y, z = (float(v) for v in values)
    return (x, y, z)


@dataclass(frozen=True)
class Frame:
    """A local orthonormal frame: ``world = origin_mm + local @ axes``.

    Parameters
    ----------
    origin_mm : tuple of 3 float
        World position (LPS, mm) of the local origin.
    axes : 3 tuples of 3 float
        Rows are the local x, y and z unit vectors expressed in LPS.
    """

    origin_mm: Point
    axes: tuple[Point, Point, Point]

    def to_world(self, local_mm: Sequence[float]) -> Point:
        """World position (LPS, mm) of a point given in local millimetres."""
        return as_point(np.asarray(self.origin_mm) + np.asarray(local_mm) @ np.asarray(self.axes))

    def box(self, center_mm: Sequence[float], size_mm: Sequence[float]) -> Box:
        """Box along the frame axes; ``center_mm`` is local, ``size_mm`` the full edges."""
        return Box(self.to_world(center_mm), as_point(size_mm), axes=self.axes)

    def ellipsoid(self, center_mm: Sequence[float], radii_mm: Sequence[float]) -> Ellipsoid:
        """Ellipsoid whose semi-axes follow the frame axes; ``center_mm`` is local."""
        return Ellipsoid(self.to_world(center_mm), as_point(radii_mm), axes=self.axes)


def yaw_frame(origin_mm: Sequence[float], angle_deg: float) -> Frame:
    """Frame rotated about +z: local y points along ``(-sin a, -cos a, 0)`` (anterior at 0°).

    Local x is ``(cos a, -sin a, 0)``, local z is +z. Used for pedicles and laminae whose long
    axes converge medially.
    """
    a = math.radians(angle_deg)
    axes = ((math.cos(a), -math.sin(a), 0.0), (-math.sin(a), -math.cos(a), 0.0), (0, 0, 1.0))
    return Frame(as_point(origin_mm), axes)


def _positive(values: Sequence[float], what: str) -> Point:
    if min(values) <= 0:
        raise ValueError(f"inset leaves a non-positive {what}: {tuple(values)}")
    return as_point(values)


def _inset_box(shape: Box, t: float) -> Box:
    size = _positive([s - 2 * t for s in shape.size_mm], "box size")
    return Box(shape.center_mm, size, axes=shape.axes)


def _inset_ellipsoid(shape: Ellipsoid, t: float) -> Ellipsoid:
    radii = _positive([r - t for r in shape.radii_mm], "ellipsoid radius")
    return Ellipsoid(shape.center_mm, radii, axes=shape.axes)


def _inset_sphere(shape: Sphere, t: float) -> Sphere:
    return Sphere(shape.center_mm, _positive([shape.radius_mm - t] * 3, "radius")[0])


def _inset_cylinder(shape: Cylinder, t: float) -> Cylinder:
    start, end = np.asarray(shape.start_mm), np.asarray(shape.end_mm)
    length = float(np.linalg.norm(end - start))
    _positive([length - 2 * t, shape.radius_mm - t, 1.0], "cylinder length or radius")
    step = t * (end - start) / length
    return Cylinder(as_point(start + step), as_point(end - step), shape.radius_mm - t)


def _inset_capsule(shape: Capsule, t: float) -> Capsule:
    radius = _positive([shape.radius_mm - t] * 3, "radius")[0]
    return Capsule(shape.start_mm, shape.end_mm, radius)


def _inset_tube(shape: Tube, t: float) -> Tube:
    return Tube(shape.points_mm, _positive([shape.radius_mm - t] * 3, "radius")[0])


_INSETS: dict[type, Callable[..., Shape]] = {
    Box: _inset_box,
    Ellipsoid: _inset_ellipsoid,
    Sphere: _inset_sphere,
    Cylinder: _inset_cylinder,
    Capsule: _inset_capsule,
    Tube: _inset_tube,
}


def inset(shape: Shape, thickness_mm: float) -> Shape:
    """The same shape shrunk by ``thickness_mm`` on every side (ellipsoids: along each semi-axis).

    Parameters
    ----------
    shape : Shape
        Any shape of ``optiprobe.anatomy.shapes``.
    thickness_mm : float
        Wall thickness removed (mm, > 0).

    Returns
    -------
    Shape
        A shape of the same type; ValueError if a dimension would become non-positive.
    """
    return _INSETS[type(shape)](shape, float(thickness_mm))


def cortical_pair(
    outer_name: str,
    core_name: str,
    shape: Shape,
    *,
    cortex_mm: float,
    core_tissue: str = "cancellous_bone",
) -> tuple[Structure, Structure]:
    """A bone as two nested structures: the cortical envelope, then its core painted over it.

    Parameters
    ----------
    outer_name, core_name : str
        Structure names of the envelope (tissue ``cortical_bone``) and of the core.
    shape : Shape
        Outer surface of the bone (mm).
    cortex_mm : float
        Cortical thickness (mm).
    core_tissue : str
        Tissue of the core (``cancellous_bone``, ``yellow_marrow``...).
    """
    return (
        Structure(outer_name, "cortical_bone", shape),
        Structure(core_name, core_tissue, inset(shape, cortex_mm)),
    )


def envelopes_then_cores(*pairs: tuple[Structure, Structure]) -> tuple[Structure, ...]:
    """Paint the cortical envelopes of touching bones first, then all their cores.

    A bone made of overlapping pieces (a body and its pedicles) then has cortex only on the
    outside of their union, not as walls inside it.
    """
    return tuple(pair[0] for pair in pairs) + tuple(pair[1] for pair in pairs)


def body_layers(
    outline: Shape, *, skin_mm: float, fat_mm: float, muscle_name: str
) -> tuple[Structure, Structure, Structure]:
    """Skin over subcutaneous fat over muscle, as three nested solids (outer first).

    Parameters
    ----------
    outline : Shape
        The body (or limb) surface; its inside is skin-deep tissue.
    skin_mm, fat_mm : float
        Skin and subcutaneous-fat thickness (mm).
    muscle_name : str
        Name of the muscle solid inside the fat (e.g. ``trunk_muscle``).
    """
    return (
        Structure("skin", "skin", outline),
        Structure("subcutaneous_fat", "fat", inset(outline, skin_mm)),
        Structure(muscle_name, "muscle", inset(outline, skin_mm + fat_mm)),
    )


def ray_exit_mm(
    shape: Shape, origin_mm: Sequence[float], direction: Sequence[float], *, max_mm: float = 600.0
) -> np.ndarray:
    """Last point inside ``shape`` on the ray from ``origin_mm`` (inside) along ``direction``.

    Coarse 1 mm march then bisection to ~1e-6 mm; exact for convex shapes whose signed distance
    has the exact sign (all shapes here).

    Returns
    -------
    numpy.ndarray
        Shape (3,), LPS mm.
    """
    origin = np.asarray(origin_mm, dtype=float)
    unit = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    steps = np.arange(0.0, max_mm, 1.0)
    outside = shape.signed_distance(origin + steps[:, None] * unit) > 0
    if outside[0] or not outside.any():
        raise ValueError("ray_exit_mm needs an origin inside the shape and a ray that leaves it")
    high = float(steps[np.argmax(outside)])
    low = high - 1.0
    for _ in range(40):
        middle = 0.5 * (low + high)
        if shape.signed_distance(origin + middle * unit) > 0:
            high = middle
        else:
            low = middle
    return origin + low * unit


def skin_point_mm(
    outline: Shape, *, skin_mm: float, origin_mm: Sequence[float], direction: Sequence[float]
) -> Point:
    """Mid-depth of the skin layer where the ray from ``origin_mm`` leaves the body.

    The point halfway between the ray's exits from ``inset(outline, skin_mm)`` and from
    ``outline`` lies inside the skin layer for any convex outline.
    """
    outer = ray_exit_mm(outline, origin_mm, direction)
    inner = ray_exit_mm(inset(outline, skin_mm), origin_mm, direction)
    return as_point(0.5 * (outer + inner))
