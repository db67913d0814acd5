"""Rib phantom (ribs 5–10): a curved rib with its neighbours, the intercostal bundle and lung.

Frame: patient LPS in mm with the thorax axis at x = y = 0 and the chosen rib's mid-axillary
point (``rib_mid``) at z = 0 (+x left, +y posterior, +z superior). The chest wall is a set of
nested ellipsoids (skin, fat, extrathoracic muscle, intercostal layer, lung); each rib is a tube
of cortical bone with a cancellous (red-marrow) core along a polyline on the mid-intercostal
ellipse, running from the posterior angle round the side to the front and descending anteriorly.
The intercostal vessels and nerve run in the costal groove, under the rib's inner lower edge.
Dimensions and sources: ``docs/phantoms.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from optiprobe._model import StrictModel
from optiprobe.anatomy.phantoms._common import (
    SIDE_SIGN,
    Point,
    Side,
    as_point,
    body_layers,
    cortical_pair,
    inset,
    skin_point_mm,
)
from optiprobe.anatomy.shapes import Ellipsoid, Tube
from optiprobe.anatomy.structure import Phantom, Structure

__all__ = ["RibSpec"]

_THORAX_HALF_HEIGHT_MM = 280.0
_PLEURA_GAP_MM = 1.0
_DESCENT = 0.35  # craniocaudal drop of the rib per unit arc length (about 19°)
_ARC_DEG = tuple(range(30, 151, 10))  # 0° = posterior midline, 90° = lateral, 180° = anterior
_VESSEL_RADIUS_MM = 1.25
_GROOVE_INSET_MM = 1.5


@dataclass(frozen=True)
class _RibDimensions:
    """Rib-cage ellipse at the rib's mid-axillary point and the rib's tube radius (mm)."""

    ring_half_width_mm: float
    ring_half_depth_mm: float
    radius_mm: float


_RIBS: dict[int, _RibDimensions] = {
    5: _RibDimensions(125, 92, 5.0),
    6: _RibDimensions(131, 96, 5.0),
    7: _RibDimensions(136, 99, 5.0),
    8: _RibDimensions(139, 100, 5.0),
    9: _RibDimensions(140, 98, 4.5),
    10: _RibDimensions(138, 95, 4.5),
}


class RibSpec(StrictModel):
    """Parameters of the ``rib`` phantom; every length in mm."""

    name: Literal["rib"] = "rib"
    rib_number: int = Field(7, ge=5, le=10, description="Which rib, 5–10.")
    side: Side = Field("right", description="Which hemithorax: 'left' (+x) or 'right' (-x).")
    cortex_thickness_mm: float = Field(
        1.2, gt=0.3, le=3, description="Cortical thickness of the rib (mm)."
    )
    rib_spacing_mm: float = Field(
        26.0, gt=15, le=40, description="Craniocaudal distance between neighbouring ribs (mm)."
    )
    intercostal_nerve_radius_mm: float = Field(
        1.25, gt=0.3, le=3, description="Radius of the intercostal nerve (mm)."
    )
    chest_wall_muscle_mm: float = Field(
        10.0, gt=1, le=50, description="Extrathoracic muscle over the ribs (mm)."
    )
    skin_thickness_mm: float = Field(2.0, gt=0.5, le=5, description="Skin thickness (mm).")
    subcutaneous_fat_mm: float = Field(
        12.0, gt=1, le=80, description="Subcutaneous fat of the chest wall (mm)."
    )

    def build(self) -> Phantom:
        """The phantom: structures painted in order and landmarks (LPS, mm)."""
        dims = _RIBS[self.rib_number]
        outline = _outline(self, dims)
        wall = self.skin_thickness_mm + self.subcutaneous_fat_mm + self.chest_wall_muscle_mm
        ring = inset(outline, wall + dims.radius_mm)
        structures = (
            *body_layers(
                outline,
                skin_mm=self.skin_thickness_mm,
                fat_mm=self.subcutaneous_fat_mm,
                muscle_name="chest_wall_muscle",
            ),
            Structure("intercostal_muscles", "muscle", inset(outline, wall)),
            Structure("lung", "lung", inset(outline, wall + 2 * dims.radius_mm + _PLEURA_GAP_MM)),
            *_ribs(self, dims, ring),
            *_bundle(self, dims, ring),
        )
        return Phantom(
            name="rib",
            background_tissue="fat",
            structures=structures,
            landmarks_mm=_landmarks(self, ring, outline),
        )


def _outline(spec: RibSpec, dims: _RibDimensions) -> Ellipsoid:
    """Body surface: the rib ellipse grown by the rib radius and the soft-tissue layers."""
    grow = dims.radius_mm + spec.chest_wall_muscle_mm + spec.subcutaneous_fat_mm
    grow += spec.skin_thickness_mm
    radii = (dims.ring_half_width_mm + grow, dims.ring_half_depth_mm + grow)
    return Ellipsoid((0.0, 0.0, 0.0), (*radii, _THORAX_HALF_HEIGHT_MM))


def _rib_path(ring: Ellipsoid, sign: float, *, z_offset_mm: float) -> np.ndarray:
    """Polyline (n, 3) of a rib centreline on the ring ellipsoid, descending anteriorly."""
    a, b, c = ring.radii_mm
    phi = np.radians(np.asarray(_ARC_DEG, dtype=float))
    z = z_offset_mm - _DESCENT * a * (phi - math.pi / 2)
    scale = np.sqrt(1.0 - (z / c) ** 2)
    return np.stack([sign * a * scale * np.sin(phi), b * scale * np.cos(phi), z], axis=-1)


def _tube(path: np.ndarray, radius_mm: float) -> Tube:
    return Tube(tuple(as_point(p) for p in path), radius_mm)


def _ribs(spec: RibSpec, dims: _RibDimensions, ring: Ellipsoid) -> tuple[Structure, ...]:
    sign = SIDE_SIGN[spec.side]
    structures: list[Structure] = []
    for name, offset in (("rib_above", 1.0), ("rib", 0.0), ("rib_below", -1.0)):
        path = _rib_path(ring, sign, z_offset_mm=offset * spec.rib_spacing_mm)
        structures += cortical_pair(
            f"{name}_cortex",
            name,
            _tube(path, dims.radius_mm),
            cortex_mm=spec.cortex_thickness_mm,
        )
    return tuple(structures)


def _groove_path(
    spec: RibSpec, dims: _RibDimensions, ring: Ellipsoid, *, drop_mm: float
) -> np.ndarray:
    """Rib centreline moved ``drop_mm`` down and ``_GROOVE_INSET_MM`` towards the lung."""
    path = _rib_path(ring, SIDE_SIGN[spec.side], z_offset_mm=0.0)
    inward = -path[:, :2] / np.linalg.norm(path[:, :2], axis=-1, keepdims=True)
    shifted = path.copy()
    shifted[:, :2] += _GROOVE_INSET_MM * inward
    shifted[:, 2] -= drop_mm
    return shifted


def _drops_mm(spec: RibSpec, dims: _RibDimensions) -> tuple[float, float]:
    """How far below the rib's centreline the vessels and the nerve run (mm)."""
    vessel = dims.radius_mm + _VESSEL_RADIUS_MM + 0.3
    return vessel, vessel + _VESSEL_RADIUS_MM + spec.intercostal_nerve_radius_mm + 0.3


def _bundle(spec: RibSpec, dims: _RibDimensions, ring: Ellipsoid) -> tuple[Structure, Structure]:
    """Intercostal vessels just under the rib, the nerve lowest (vein-artery-nerve order)."""
    vessel_drop, nerve_drop = _drops_mm(spec, dims)
    vessels = _groove_path(spec, dims, ring, drop_mm=vessel_drop)
    nerve = _groove_path(spec, dims, ring, drop_mm=nerve_drop)
    return (
        Structure("intercostal_vessels", "blood", _tube(vessels, _VESSEL_RADIUS_MM)),
        Structure("intercostal_nerve", "nerve", _tube(nerve, spec.intercostal_nerve_radius_mm)),
    )


def _landmarks(spec: RibSpec, ring: Ellipsoid, outline: Ellipsoid) -> dict[str, Point]:
    sign = SIDE_SIGN[spec.side]
    mid = _ARC_DEG.index(90)
    dims = _RIBS[spec.rib_number]
    nerve_drop = _drops_mm(spec, dims)[1]
    return {
        "rib_mid": as_point(_rib_path(ring, sign, z_offset_mm=0.0)[mid]),
        "intercostal_nerve_mid": as_point(_groove_path(spec, dims, ring, drop_mm=nerve_drop)[mid]),
        "skin_over_rib": skin_point_mm(
            outline,
            skin_mm=spec.skin_thickness_mm,
            origin_mm=(0.0, 0.0, 0.0),
            direction=(sign, 0.0, 0.0),
        ),
    }
