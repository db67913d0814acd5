"""Sacrum phantom (S1–S3): sacral bodies and alae, canal and roots, S1/S2 foramina, rectum.

Frame: patient LPS in mm with the S2 body centre at the origin (+x left, +y posterior, +z
superior). The sacrum is built in a local frame tilted by ``sacral_slope_deg``: local ``a`` runs
caudally along the sacrum (down and back), local ``p`` dorsally (perpendicular to ``a``), local x
is patient left. Bodies are boxes (cortical envelope, cancellous core) whose posterior walls are
aligned, so the anterior surface steps back caudally; the canal lies behind them under a dorsal
plate (fused laminae). The S1 and S2 roots leave the canal anterolaterally through fat-filled
foramen channels towards the piriformis; the rectum lies in front of S3.
Dimensions and sources: ``docs/phantoms.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from optiprobe._model import StrictModel
from optiprobe.anatomy.phantoms._common import (
    SIDE_SIGN,
    Frame,
    Point,
    body_layers,
    cortical_pair,
    envelopes_then_cores,
    ray_exit_mm,
    skin_point_mm,
)
from optiprobe.anatomy.shapes import Box, Capsule, Ellipsoid, Tube
from optiprobe.anatomy.structure import Phantom, Structure

__all__ = ["SacrumSpec"]

_OUTLINE_RADII_MM = (175.0, 115.0, 280.0)
_DORSAL_MUSCLE_MM = 8.0
_CANAL_WIDTH_MM = 28.0
_CANAL_DEPTH_MM = 12.0
_DORSAL_PLATE_MM = 8.0
_CANAL_SPAN_A_MM = (-52.0, 36.0)  # local a: from the L5–S1 disc to the S3–S4 junction
_DISC_HEIGHT_MM = 11.0
_ALA_WIDTH_MM = 36.0
_LATERAL_MASS_END_A_MM = 20.0
_ILIUM_WIDTH_MM = 18.0
_PRESACRAL_GAP_MM = 8.0


@dataclass(frozen=True)
class _Segment:
    """One sacral segment body in the local frame: width (x), height (a), depth (p), in mm."""

    width_mm: float
    height_mm: float
    depth_mm: float


_SEGMENTS: dict[str, _Segment] = {
    "s1": _Segment(48, 28, 32),
    "s2": _Segment(36, 22, 24),
    "s3": _Segment(28, 18, 18),
}
_NEXT_SEGMENT = {"s1": "s2", "s2": "s3"}
_BACK_P_MM = _SEGMENTS["s2"].depth_mm / 2  # common posterior wall of the bodies (local p)


class SacrumSpec(StrictModel):
    """Parameters of the ``sacrum`` phantom; lengths in mm, the slope in degrees."""

    name: Literal["sacrum"] = "sacrum"
    sacral_slope_deg: float = Field(
        40.0, gt=15, le=65, description="Tilt of the S1 endplate to the horizontal (degrees)."
    )
    cortex_thickness_mm: float = Field(
        1.0, gt=0.3, le=3, description="Cortical shell of the sacral bodies and alae (mm)."
    )
    s1_root_radius_mm: float = Field(2.5, gt=0.5, le=5, description="S1 root radius (mm).")
    s2_root_radius_mm: float = Field(2.0, gt=0.5, le=5, description="S2 root radius (mm).")
    rectum_radius_mm: float = Field(17.0, gt=8, le=35, description="Rectal radius (mm).")
    skin_thickness_mm: float = Field(2.0, gt=0.5, le=5, description="Skin thickness (mm).")
    subcutaneous_fat_mm: float = Field(
        15.0, gt=1, le=80, description="Subcutaneous fat over the sacrum (mm)."
    )

    def build(self) -> Phantom:
        """The phantom: structures painted in order and landmarks (LPS, mm)."""
        frame = _sacral_frame(self.sacral_slope_deg)
        outline = _outline(self, frame)
        layers = body_layers(
            outline,
            skin_mm=self.skin_thickness_mm,
            fat_mm=self.subcutaneous_fat_mm,
            muscle_name="pelvic_muscle",
        )
        structures = (
            *layers,
            *_soft_tissue(self, frame, layers[2].shape),
            *_bones(self, frame),
            *_canal(frame),
            *_roots(self, frame),
        )
        return Phantom(
            name="sacrum",
            background_tissue="fat",
            structures=structures,
            landmarks_mm=_landmarks(self, frame, outline),
        )


def _sacral_frame(slope_deg: float) -> Frame:
    """Local axes: x (left), a (caudal along the sacrum), p (dorsal), origin at S2's centre."""
    s, c = math.sin(math.radians(slope_deg)), math.cos(math.radians(slope_deg))
    return Frame((0.0, 0.0, 0.0), ((1.0, 0.0, 0.0), (0.0, s, -c), (0.0, c, s)))


def _center_a(segment: str) -> float:
    """Local ``a`` of a segment's centre; S2 at 0, S1 above (negative), S3 below."""
    s1, s2, s3 = (_SEGMENTS[k].height_mm for k in ("s1", "s2", "s3"))
    return {"s1": -(s1 + s2) / 2, "s2": 0.0, "s3": (s2 + s3) / 2}[segment]


def _center(segment: str) -> tuple[float, float, float]:
    """Local centre (x, a, p) of a segment body."""
    return (0.0, _center_a(segment), _BACK_P_MM - _SEGMENTS[segment].depth_mm / 2)


def _dorsal_plate_box(frame: Frame) -> Box:
    """Fused laminae and median crest behind the canal (S1–S3); overlaps the canal by 1 mm."""
    center = (0.0, -5.0, _BACK_P_MM + _CANAL_DEPTH_MM + _DORSAL_PLATE_MM / 2 - 1)
    return frame.box(center, (40.0, 75.0, _DORSAL_PLATE_MM))


def _outline(spec: SacrumSpec, frame: Frame) -> Ellipsoid:
    """Body surface placed so that the back lies the soft-tissue depth behind the sacrum."""
    back_y = float(_dorsal_plate_box(frame).bounds_mm()[1][1])
    skin_y = back_y + _DORSAL_MUSCLE_MM + spec.subcutaneous_fat_mm + spec.skin_thickness_mm
    return Ellipsoid((0.0, skin_y - _OUTLINE_RADII_MM[1], 0.0), _OUTLINE_RADII_MM)


def _soft_tissue(spec: SacrumSpec, frame: Frame, muscle: Ellipsoid) -> tuple[Structure, ...]:
    """Pelvic cavity, gluteus maximus on each side (inside the muscle layer), rectum."""
    cavity = Ellipsoid((0.0, -80.0, -5.0), (100.0, 50.0, 75.0))
    gluteal = []
    for side in ("left", "right"):
        x = SIDE_SIGN[side] * 70.0
        back = ray_exit_mm(muscle, (x, 0.0, -30.0), (0, 1, 0))[1] - 1.0
        shape = Ellipsoid((x, back - 18.0, -30.0), (40.0, 18.0, 80.0))
        gluteal.append(Structure(f"gluteus_maximus_{side}", "muscle", shape))
    p_rectum = _BACK_P_MM - _SEGMENTS["s3"].depth_mm - _PRESACRAL_GAP_MM - spec.rectum_radius_mm
    rectum = Capsule(
        frame.to_world((0, 15.0, p_rectum)),
        frame.to_world((0, 75.0, p_rectum)),
        spec.rectum_radius_mm,
    )
    return (
        Structure("pelvic_cavity", "bowel", cavity),
        *gluteal,
        Structure("rectum", "bowel", rectum),
    )


def _bones(spec: SacrumSpec, frame: Frame) -> tuple[Structure, ...]:
    """Iliac wings, L5–S1 disc, dorsal plate, then bodies and alae (envelopes, then cores)."""
    cortex = spec.cortex_thickness_mm
    pairs = [
        cortical_pair(
            f"{k}_body_cortex", f"{k}_body", frame.box(_center(k), _dims(k)), cortex_mm=cortex
        )
        for k in _SEGMENTS
    ]
    pairs += [_lateral_mass(frame, side, cortex_mm=cortex) for side in ("left", "right")]
    s1 = _SEGMENTS["s1"]
    disc_a = _center_a("s1") - s1.height_mm / 2 - _DISC_HEIGHT_MM / 2
    disc = frame.box((0.0, disc_a, _center("s1")[2]), (s1.width_mm, _DISC_HEIGHT_MM, s1.depth_mm))
    return (
        *(_ilium(frame, side) for side in ("left", "right")),
        Structure("disc_l5_s1", "intervertebral_disc", disc),
        Structure("sacral_dorsal_plate", "cortical_bone", _dorsal_plate_box(frame)),
        *envelopes_then_cores(*pairs),
    )


def _lateral_mass(frame: Frame, side: str, *, cortex_mm: float) -> tuple[Structure, Structure]:
    """Ala and lateral mass (S1–S2), from the anterior surface back to the dorsal plate."""
    inner = _CANAL_WIDTH_MM / 2
    top, bottom = _center_a("s1") - _SEGMENTS["s1"].height_mm / 2, _LATERAL_MASS_END_A_MM
    front = _BACK_P_MM - _SEGMENTS["s1"].depth_mm + 2
    back = _BACK_P_MM + _CANAL_DEPTH_MM + _DORSAL_PLATE_MM
    center = (
        SIDE_SIGN[side] * (inner + _ALA_WIDTH_MM / 2),
        (top + bottom) / 2,
        (front + back) / 2,
    )
    box = frame.box(center, (_ALA_WIDTH_MM, bottom - top, back - front))
    return cortical_pair(
        f"sacral_ala_{side}_cortex", f"sacral_ala_{side}", box, cortex_mm=cortex_mm
    )


def _ilium(frame: Frame, side: str) -> Structure:
    """Iliac bone lateral to the sacroiliac joint (S1–S2 levels)."""
    x = SIDE_SIGN[side] * (_CANAL_WIDTH_MM / 2 + _ALA_WIDTH_MM + _ILIUM_WIDTH_MM / 2)
    box = frame.box((x, -15.0, 0.0), (_ILIUM_WIDTH_MM, 60.0, 50.0))
    return Structure(f"ilium_{side}", "cancellous_bone", box)


def _dims(segment: str) -> tuple[float, float, float]:
    s = _SEGMENTS[segment]
    return (s.width_mm, s.height_mm, s.depth_mm)


def _canal(frame: Frame) -> tuple[Structure, ...]:
    """Canal (epidural fat) from the L5–S1 disc to S3, the dural sac ending at S2, the roots."""
    mid_p = _BACK_P_MM + _CANAL_DEPTH_MM / 2
    top, bottom = _CANAL_SPAN_A_MM
    canal = frame.box(
        (0, (top + bottom) / 2, mid_p), (_CANAL_WIDTH_MM, bottom - top, _CANAL_DEPTH_MM)
    )
    sac_radius = min(5.0, _CANAL_DEPTH_MM / 2 - 1)
    sac = Capsule(frame.to_world((0, top, mid_p)), frame.to_world((0, 0.0, mid_p)), sac_radius)
    roots = frame.ellipsoid(
        (0, (top + bottom) / 2, mid_p - 0.5),
        (_CANAL_WIDTH_MM / 2 - 4, (bottom - top) / 2, _CANAL_DEPTH_MM / 2 - 2.5),
    )
    return (
        Structure("sacral_canal", "fat", canal),
        Structure("dural_sac", "csf", sac),
        Structure("sacral_roots", "nerve", roots),
    )


def _root_path(segment: str, sign: float) -> tuple[tuple[float, float, float], ...]:
    """Local polyline of a segment's root: canal → foramen → anterior opening → pelvis."""
    seg, below = _SEGMENTS[segment], _SEGMENTS[_NEXT_SEGMENT[segment]]
    junction = _center_a(segment) + seg.height_mm / 2
    mid_p = _BACK_P_MM + _CANAL_DEPTH_MM / 2
    front = _BACK_P_MM - seg.depth_mm + 2
    points = (
        (4.0, junction - 25.0, mid_p),
        (_CANAL_WIDTH_MM / 2 - 3, junction - 3, _BACK_P_MM + 2),
        (below.width_mm / 2 + 6, junction, front),
        (seg.width_mm / 2 + 22, junction + 20, front - 15),
    )
    return tuple((sign * x, a, p) for x, a, p in points)


def _roots(spec: SacrumSpec, frame: Frame) -> tuple[Structure, ...]:
    """Foramen channels (fat), then the S1 and S2 roots through them."""
    radii = {"s1": spec.s1_root_radius_mm, "s2": spec.s2_root_radius_mm}
    channels, roots = [], []
    for segment in ("s1", "s2"):
        for side in ("left", "right"):
            path = tuple(frame.to_world(p) for p in _root_path(segment, SIDE_SIGN[side]))
            radius = radii[segment]
            channels.append(
                Structure(f"{segment}_foramen_{side}", "fat", Tube(path[1:3], radius + 2.0))
            )
            roots.append(Structure(f"sacral_root_{segment}_{side}", "nerve", Tube(path, radius)))
    return (*channels, *roots)


def _landmarks(spec: SacrumSpec, frame: Frame, outline: Ellipsoid) -> dict[str, Point]:
    s2_center = frame.to_world(_center("s2"))
    return {
        "s1_body_center": frame.to_world(_center("s1")),
        "s2_body_center": s2_center,
        "s3_body_center": frame.to_world(_center("s3")),
        "canal_s2": frame.to_world((0, 0.0, _BACK_P_MM + _CANAL_DEPTH_MM / 2)),
        "skin_posterior": skin_point_mm(
            outline, skin_mm=spec.skin_thickness_mm, origin_mm=s2_center, direction=(0, 1, 0)
        ),
    }
