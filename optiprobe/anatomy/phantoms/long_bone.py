"""Long-bone diaphysis phantom (femur or humerus) with its muscle compartments and major nerve.

Frame: patient LPS in mm with the centre of the diaphysis at the origin and the shaft along z
(+x left, +y posterior, +z superior); ``side`` chooses the left (lateral = +x) or right limb.
The diaphysis is a cortical cylinder with a yellow-marrow medullary canal inside a limb cylinder
(skin, fat, muscle) that is offset from the bone as in cross-sectional anatomy. The major nerve
is the sciatic nerve behind the femur or the radial nerve spiralling in the radial groove of the
humerus. Dimensions and sources: ``docs/phantoms.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from optiprobe._model import StrictModel
from optiprobe.anatomy.phantoms._common import (
    SIDE_SIGN,
    Point,
    Side,
    body_layers,
    cortical_pair,
    skin_point_mm,
)
from optiprobe.anatomy.shapes import Cylinder, Tube
from optiprobe.anatomy.structure import Phantom, Structure

__all__ = ["LongBoneSpec"]

_LIMB_HALF_LENGTH_MM = 150.0


@dataclass(frozen=True)
class _Compartment:
    """A muscle compartment as a cylinder: name, centre (x medial-lateral, y) and radius (mm).

    ``x_mm`` is given for the left limb (lateral = +x) and mirrored for the right.
    """

    name: str
    x_mm: float
    y_mm: float
    radius_mm: float


@dataclass(frozen=True)
class _BoneDimensions:
    """Mid-diaphysis geometry of one bone (mm) and the builder of its major nerve."""

    outer_radius_mm: float
    cortex_mm: float
    half_length_mm: float
    limb_radius_mm: float
    limb_offset_mm: tuple[float, float]
    compartments: tuple[_Compartment, ...]
    nerve: Callable[[LongBoneSpec, float], Structure]
    artery: tuple[str, float, float, float]


class LongBoneSpec(StrictModel):
    """Parameters of the ``long_bone`` phantom; every length in mm."""

    name: Literal["long_bone"] = "long_bone"
    bone: Literal["femur", "humerus"] = Field("femur", description="Which bone: femur, humerus.")
    side: Side = Field("right", description="Which limb: 'left' (lateral = +x) or 'right'.")
    cortex_thickness_mm: float | None = Field(
        None, gt=1, le=10, description="Override of the mid-shaft cortical thickness (mm)."
    )
    nerve_radius_mm: float | None = Field(
        None, gt=0.5, le=10, description="Override of the major nerve's radius (mm)."
    )
    skin_thickness_mm: float = Field(1.5, gt=0.5, le=5, description="Skin thickness (mm).")
    subcutaneous_fat_mm: float = Field(
        12.0, gt=1, le=60, description="Subcutaneous fat of the limb (mm)."
    )

    def build(self) -> Phantom:
        """The phantom: structures painted in order and landmarks (LPS, mm)."""
        dims = _BONES[self.bone]
        sign = SIDE_SIGN[self.side]
        offset_x, offset_y = dims.limb_offset_mm
        half = _LIMB_HALF_LENGTH_MM
        limb = Cylinder(
            (sign * offset_x, offset_y, half),
            (sign * offset_x, offset_y, -half),
            dims.limb_radius_mm,
        )
        structures = (
            *body_layers(
                limb,
                skin_mm=self.skin_thickness_mm,
                fat_mm=self.subcutaneous_fat_mm,
                muscle_name="limb_muscle",
            ),
            *(_compartment(c, sign) for c in dims.compartments),
            *_diaphysis(self, dims),
            _artery(dims, sign),
            dims.nerve(self, sign),
        )
        return Phantom(
            name="long_bone",
            background_tissue="fat",
            structures=structures,
            landmarks_mm=_landmarks(self, sign, limb),
        )

    @model_validator(mode="after")
    def _canal_remains(self) -> LongBoneSpec:
        outer = _BONES[self.bone].outer_radius_mm
        if self.cortex_mm > outer - 2:
            raise ValueError(
                f"cortex_thickness_mm={self.cortex_mm} must leave a medullary canal of at least "
                f"2 mm radius in the {outer} mm-radius {self.bone} shaft"
            )
        return self

    @property
    def cortex_mm(self) -> float:
        """Mid-shaft cortical thickness in use (mm): the override or the bone's default."""
        if self.cortex_thickness_mm is not None:
            return self.cortex_thickness_mm
        return _BONES[self.bone].cortex_mm


def _vertical(x: float, y: float, half_length_mm: float, radius_mm: float) -> Cylinder:
    return Cylinder((x, y, half_length_mm), (x, y, -half_length_mm), radius_mm)


def _compartment(compartment: _Compartment, sign: float) -> Structure:
    shape = _vertical(
        sign * compartment.x_mm, compartment.y_mm, _LIMB_HALF_LENGTH_MM - 20, compartment.radius_mm
    )
    return Structure(compartment.name, "muscle", shape)


def _diaphysis(spec: LongBoneSpec, dims: _BoneDimensions) -> tuple[Structure, Structure]:
    cortex = spec.cortex_mm
    shaft = _vertical(0.0, 0.0, dims.half_length_mm, dims.outer_radius_mm)
    return cortical_pair(
        "diaphysis", "medullary_canal", shaft, cortex_mm=cortex, core_tissue="yellow_marrow"
    )


def _artery(dims: _BoneDimensions, sign: float) -> Structure:
    name, x, y, radius = dims.artery
    return Structure(name, "blood", _vertical(sign * x, y, _LIMB_HALF_LENGTH_MM - 10, radius))


def _sciatic_nerve(spec: LongBoneSpec, sign: float) -> Structure:
    """Sciatic nerve behind the femur (under biceps femoris, behind adductor magnus)."""
    radius = spec.nerve_radius_mm or 5.0
    path = ((-6.0, 44.0, 140.0), (0.0, 42.0, 0.0), (6.0, 40.0, -140.0))
    return Structure(
        "sciatic_nerve", "nerve", Tube(tuple((sign * x, y, z) for x, y, z in path), radius)
    )


def _radial_nerve(spec: LongBoneSpec, sign: float) -> Structure:
    """Radial nerve winding from posteromedial to lateral in the groove, then anterolateral.

    Angle 0° is posterior (+y) and +90° lateral; in the groove the nerve touches the bone.
    """
    radius = spec.nerve_radius_mm or 2.0
    touch = _BONES["humerus"].outer_radius_mm + radius + 0.3
    turns = [(z, -100.0 + 210.0 * (70.0 - z) / 120.0, touch) for z in range(70, -51, -5)]
    turns += [(-85.0, 125.0, touch + 4), (-130.0, 140.0, touch + 10)]
    path = tuple(
        (sign * r * math.sin(math.radians(a)), r * math.cos(math.radians(a)), float(z))
        for z, a, r in [(90.0, -110.0, touch + 4), *turns]
    )
    return Structure("radial_nerve", "nerve", Tube(path, radius))


_BONES: dict[str, _BoneDimensions] = {
    "femur": _BoneDimensions(
        outer_radius_mm=14.0,
        cortex_mm=6.0,
        half_length_mm=120.0,
        limb_radius_mm=80.0,
        limb_offset_mm=(-8.0, 12.0),
        compartments=(
            _Compartment("anterior_compartment", 2.0, -20.0, 30.0),
            _Compartment("medial_compartment", -38.0, 18.0, 26.0),
            _Compartment("posterior_compartment", 0.0, 48.0, 27.0),
        ),
        nerve=_sciatic_nerve,
        artery=("femoral_artery", -28.0, 2.0, 4.0),
    ),
    "humerus": _BoneDimensions(
        outer_radius_mm=11.0,
        cortex_mm=4.0,
        half_length_mm=90.0,
        limb_radius_mm=48.0,
        limb_offset_mm=(-3.0, 2.0),
        compartments=(
            _Compartment("anterior_compartment", 0.0, -14.0, 15.0),
            _Compartment("posterior_compartment", 0.0, 16.0, 16.0),
        ),
        nerve=_radial_nerve,
        artery=("brachial_artery", -20.0, -6.0, 2.5),
    ),
}
"""Per-bone defaults (mm); sources in docs/phantoms.md."""


def _landmarks(spec: LongBoneSpec, sign: float, limb: Cylinder) -> dict[str, Point]:
    skin = spec.skin_thickness_mm
    return {
        "diaphysis_center": (0.0, 0.0, 0.0),
        "skin_lateral": skin_point_mm(
            limb, skin_mm=skin, origin_mm=(0, 0, 0), direction=(sign, 0.0, 0.0)
        ),
        "skin_anterior": skin_point_mm(
            limb, skin_mm=skin, origin_mm=(0, 0, 0), direction=(0.0, -1.0, 0.0)
        ),
    }
