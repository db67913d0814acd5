"""Periacetabular phantom: acetabular roof, posterior column, femoral head and sciatic nerve.

Frame: patient LPS in mm with the hip-joint centre (femoral head centre) at the origin (+x left,
+y posterior, +z superior); ``side`` chooses the left (lateral = +x) or right (lateral = -x) hip.
The acetabulum is an ellipsoidal block of supra-acetabular bone (cortical envelope, cancellous
core) out of which the joint (cartilage sphere, then the femoral head) is painted; the ilium rises
above it, the posterior column runs posteroinferiorly to the ischial tuberosity, and the sciatic
nerve descends behind the column. Dimensions and sources: ``docs/phantoms.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from optiprobe._model import StrictModel
from optiprobe.anatomy.phantoms._common import (
    SIDE_SIGN,
    Point,
    Side,
    as_point,
    body_layers,
    cortical_pair,
    envelopes_then_cores,
    skin_point_mm,
)
from optiprobe.anatomy.shapes import Capsule, Cylinder, Ellipsoid, Sphere, Tube
from optiprobe.anatomy.structure import Phantom, Structure

__all__ = ["AcetabulumSpec"]

# Body outline fitted to the hip region (centred 60 mm towards the midline); mm.
_OUTLINE_CENTER_MM = (-60.0, 10.0, 0.0)
_OUTLINE_RADII_MM = (160.0, 120.0, 280.0)
_MIDLINE_X_MM = -90.0
_POSTERIOR_COLUMN_RADIUS_MM = 12.0
_FEMORAL_NECK_RADIUS_MM = 15.0
_FEMORAL_SHAFT_RADIUS_MM = 14.0
_FEMORAL_SHAFT_CORTEX_MM = 5.0


class AcetabulumSpec(StrictModel):
    """Parameters of the ``acetabulum`` phantom; every length in mm."""

    name: Literal["acetabulum"] = "acetabulum"
    side: Side = Field("right", description="Which hip: 'left' (lateral = +x) or 'right'.")
    femoral_head_radius_mm: float = Field(
        23.5, gt=15, le=32, description="Radius of the bony femoral head (mm)."
    )
    joint_cartilage_mm: float = Field(
        4.0, gt=0.5, le=8, description="Femoral plus acetabular cartilage thickness (mm)."
    )
    cortex_thickness_mm: float = Field(
        1.5, gt=0.3, le=4, description="Cortical shell of the pelvic bone (mm)."
    )
    sciatic_nerve_radius_mm: float = Field(
        5.5, gt=2, le=10, description="Radius of the sciatic nerve tube (mm)."
    )
    skin_thickness_mm: float = Field(2.5, gt=0.5, le=5, description="Skin thickness (mm).")
    subcutaneous_fat_mm: float = Field(
        25.0, gt=1, le=60, description="Subcutaneous fat over the hip and buttock (mm)."
    )

    @property
    def socket_radius_mm(self) -> float:
        """Radius of the acetabular bone surface: head plus joint cartilage (mm)."""
        return self.femoral_head_radius_mm + self.joint_cartilage_mm

    def build(self) -> Phantom:
        """The phantom: structures painted in order and landmarks (LPS, mm)."""
        sign = SIDE_SIGN[self.side]
        outline = Ellipsoid(_mirror(_OUTLINE_CENTER_MM, sign), _OUTLINE_RADII_MM)
        layers = body_layers(
            outline,
            skin_mm=self.skin_thickness_mm,
            fat_mm=self.subcutaneous_fat_mm,
            muscle_name="pelvic_muscle",
        )
        structures = (
            *layers,
            *_soft_tissue(sign),
            *_pelvic_bone(self, sign),
            *_femur(self, sign),
            *_nerves_and_vessels(self, sign),
        )
        return Phantom(
            name="acetabulum",
            background_tissue="fat",
            structures=structures,
            landmarks_mm=_landmarks(self, sign, outline),
        )


def _mirror(point: Point, sign: float) -> Point:
    """A point given for the left side (lateral = +x), mirrored to ``sign``'s side."""
    return as_point((sign * point[0], point[1], point[2]))


def _soft_tissue(sign: float) -> tuple[Structure, ...]:
    """Pelvic viscera medial to the quadrilateral plate; gluteus maximus and medius."""
    viscera = Ellipsoid(_mirror((_MIDLINE_X_MM, 0, 20), sign), (50.0, 55.0, 70.0))
    maximus = Ellipsoid(_mirror((-5, 68, -15), sign), (55.0, 18.0, 80.0))
    medius = Ellipsoid(_mirror((8, 15, 60), sign), (18.0, 40.0, 35.0))
    return (
        Structure("pelvic_viscera", "bowel", viscera),
        Structure("gluteus_maximus", "muscle", maximus),
        Structure("gluteus_medius", "muscle", medius),
    )


def _pelvic_bone(spec: AcetabulumSpec, sign: float) -> tuple[Structure, ...]:
    """Ilium, supra-acetabular block and posterior column (each cortex over cancellous)."""
    socket = spec.socket_radius_mm
    ilium = Ellipsoid(_mirror((-14, 12, socket + 35), sign), (10.0, 40.0, 45.0))
    # Centre and semi-axes give ~26 mm of bone above the socket, a ~9 mm medial wall and a
    # lateral roof edge at a centre-edge angle of ~33° (normal adult hips: 25–40°).
    block = Ellipsoid(_mirror((-12, 4, 18), sign), (socket, socket + 6, socket + 12))
    column = Capsule(
        _mirror((-10, socket + 3, 15), sign),
        _mirror((-18, socket + 5, -60), sign),
        _POSTERIOR_COLUMN_RADIUS_MM,
    )
    cortex = spec.cortex_thickness_mm
    return envelopes_then_cores(
        cortical_pair("ilium_cortex", "ilium", ilium, cortex_mm=cortex),
        cortical_pair("acetabulum_cortex", "acetabulum", block, cortex_mm=cortex),
        cortical_pair("posterior_column_cortex", "posterior_column", column, cortex_mm=cortex),
    )


def _femur(spec: AcetabulumSpec, sign: float) -> tuple[Structure, ...]:
    """Joint cartilage carving the socket, then neck, proximal shaft and head."""
    trochanter = _mirror((45, 10, -40), sign)
    shaft = Cylinder(trochanter, _mirror((40, 10, -95), sign), _FEMORAL_SHAFT_RADIUS_MM)
    neck = Capsule(_mirror((8, 2, -5), sign), trochanter, _FEMORAL_NECK_RADIUS_MM)
    return (
        Structure("hip_joint_cartilage", "cartilage", Sphere((0, 0, 0), spec.socket_radius_mm)),
        *cortical_pair(
            "femoral_shaft_cortex",
            "femoral_shaft",
            shaft,
            cortex_mm=_FEMORAL_SHAFT_CORTEX_MM,
            core_tissue="yellow_marrow",
        ),
        Structure("femoral_neck", "cancellous_bone", neck),
        Structure(
            "femoral_head", "cancellous_bone", Sphere((0, 0, 0), spec.femoral_head_radius_mm)
        ),
    )


def _nerves_and_vessels(spec: AcetabulumSpec, sign: float) -> tuple[Structure, ...]:
    """Sciatic nerve from the greater sciatic notch down behind the column; femoral bundle."""
    socket = spec.socket_radius_mm
    back = socket + 3 + _POSTERIOR_COLUMN_RADIUS_MM + spec.sciatic_nerve_radius_mm + 10
    sciatic = (
        (-40.0, back + 4, 55.0),
        (-22.0, back + 2, 20.0),
        (-12.0, back, -20.0),
        (-2.0, back - 2, -60.0),
        (8.0, back - 6, -95.0),
    )
    front = -(socket + 15)
    bundle = (  # medial to lateral: vein, artery, nerve (name, tissue, x, radius)
        ("femoral_vein", "blood", -18.0, 6.0),
        ("femoral_artery", "blood", -6.0, 4.0),
        ("femoral_nerve", "nerve", 6.0, 3.0),
    )
    return (
        Structure(
            "sciatic_nerve",
            "nerve",
            Tube(tuple(_mirror(p, sign) for p in sciatic), spec.sciatic_nerve_radius_mm),
        ),
        *(
            Structure(
                name,
                tissue,
                Cylinder(_mirror((x, front, 40), sign), _mirror((x, front, -95), sign), r),
            )
            for name, tissue, x, r in bundle
        ),
    )


def _landmarks(spec: AcetabulumSpec, sign: float, outline: Ellipsoid) -> dict[str, Point]:
    socket = spec.socket_radius_mm
    column_center = _mirror((-14, socket + 4, -22.5), sign)
    return {
        "hip_center": (0.0, 0.0, 0.0),
        "acetabular_roof": _mirror((-2, 0, socket + 10), sign),
        "posterior_column_center": column_center,
        "skin_posterior_lateral": skin_point_mm(
            outline,
            skin_mm=spec.skin_thickness_mm,
            origin_mm=(0, 0, 0),
            direction=(sign * 0.7071, 0.7071, 0.0),
        ),
    }
