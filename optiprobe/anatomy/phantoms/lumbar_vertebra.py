"""Lumbar vertebra phantom (L1–L5) for transpedicular and posterolateral access.

Frame: patient LPS in mm with the vertebral body's centre at the origin (+x left, +y posterior,
+z superior). The body is a box (flat endplates and posterior wall) with a cortical envelope and a
cancellous core; one disc and one adjacent body lie above and below. Posterior elements, the
canal with epidural fat, the dural sac, its neural content (cauda equina, or the conus/spinal
cord at L1) and the exiting nerve roots sit behind it; psoas, paraspinal muscles, the great
vessels, the abdominal cavity and the body wall (skin, fat, muscle) surround it.
Dimensions and their sources: ``docs/phantoms.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from pydantic import Field, model_validator

from optiprobe._model import StrictModel
from optiprobe.anatomy.phantoms._common import (
    SIDE_SIGN,
    Point,
    as_point,
    body_layers,
    cortical_pair,
    envelopes_then_cores,
    ray_exit_mm,
    skin_point_mm,
    yaw_frame,
)
from optiprobe.anatomy.phantoms._lumbar_layout import (
    ABDOMINAL_WALL_MM,
    AORTA_RADIUS_MM,
    IVC_RADIUS_MM,
    LAMINA_HEIGHT_MM,
    LAMINA_THICKNESS_MM,
    LEVEL_DIMENSIONS,
    LONG_HALF_LENGTH_MM,
    SPINOUS_HEIGHT_MM,
    SPINOUS_LENGTH_MM,
    SPINOUS_WIDTH_MM,
    TRANSVERSE_HEIGHT_MM,
    TRANSVERSE_THICKNESS_MM,
    LevelDimensions,
    LumbarLayout,
    LumbarLevel,
)
from optiprobe.anatomy.shapes import Box, Capsule, Cylinder, Ellipsoid, Tube
from optiprobe.anatomy.structure import Phantom, Structure

__all__ = ["LumbarLevel", "LumbarVertebraSpec"]


class LumbarVertebraSpec(StrictModel):
    """Parameters of the ``lumbar_vertebra`` phantom; every length in mm."""

    name: Literal["lumbar_vertebra"] = "lumbar_vertebra"
    level: LumbarLevel = Field("L4", description="Lumbar level L1–L5; sets the bony dimensions.")
    body_width_mm: float | None = Field(
        None, gt=25, le=80, description="Override of the body's transverse width (mm)."
    )
    body_depth_mm: float | None = Field(
        None, gt=20, le=60, description="Override of the body's anteroposterior depth (mm)."
    )
    body_height_mm: float | None = Field(
        None, gt=15, le=45, description="Override of the body's craniocaudal height (mm)."
    )
    cortex_thickness_mm: float = Field(
        1.0, gt=0.2, le=3.0, description="Cortical shell of the body and pedicles (mm)."
    )
    anterior_epidural_gap_mm: float = Field(
        1.5, gt=0, le=5, description="Posterior body wall to the dural sac (mm)."
    )
    dural_sac_width_mm: float = Field(16.0, gt=5, le=30, description="Dural sac width (mm).")
    dural_sac_depth_mm: float = Field(12.0, gt=4, le=25, description="Dural sac AP depth (mm).")
    nerve_root_radius_mm: float = Field(
        2.5, gt=0.5, le=5, description="Radius of each exiting nerve root (mm)."
    )
    skin_thickness_mm: float = Field(2.0, gt=0.5, le=5, description="Skin thickness (mm).")
    subcutaneous_fat_mm: float = Field(
        15.0, gt=1, le=100, description="Subcutaneous fat thickness of the back (mm)."
    )

    @property
    def dimensions(self) -> LevelDimensions:
        """The level's bony dimensions with any body overrides applied."""
        overrides = {
            key: value
            for key in ("body_width_mm", "body_depth_mm", "body_height_mm")
            if (value := getattr(self, key)) is not None
        }
        return replace(LEVEL_DIMENSIONS[self.level], **overrides)

    @model_validator(mode="after")
    def _fits(self) -> LumbarVertebraSpec:
        dims = self.dimensions
        if self.dural_sac_width_mm > dims.canal_width_mm - 2:
            raise ValueError(
                f"dural_sac_width_mm={self.dural_sac_width_mm} must be at least 2 mm below the "
                f"{self.level} canal width {dims.canal_width_mm} mm"
            )
        if self.dural_sac_depth_mm + self.anterior_epidural_gap_mm > dims.canal_depth_mm - 1:
            raise ValueError(
                "dural_sac_depth_mm + anterior_epidural_gap_mm must leave 1 mm of the "
                f"{self.level} canal depth {dims.canal_depth_mm} mm"
            )
        if 4 * self.cortex_thickness_mm >= min(dims.pedicle_width_mm, dims.body_height_mm):
            raise ValueError("cortex_thickness_mm must be below a quarter of the pedicle width")
        if dims.body_width_mm < dims.canal_width_mm + 10:
            raise ValueError(
                f"body_width_mm={dims.body_width_mm} must exceed the {self.level} canal width "
                f"{dims.canal_width_mm} mm by at least 10 mm"
            )
        return self

    def build(self) -> Phantom:
        """The phantom: structures painted in order and landmarks (LPS, mm)."""
        layout = LumbarLayout.of(self)
        structures = (*_soft_tissue(layout), *_bones(layout), *_neural(layout))
        return Phantom(
            name="lumbar_vertebra",
            background_tissue="fat",
            structures=structures,
            landmarks_mm=_landmarks(layout),
        )


# --- soft tissue ------------------------------------------------------------------------------


def _soft_tissue(layout: LumbarLayout) -> tuple[Structure, ...]:
    spec = layout.spec
    layers = body_layers(
        layout.torso,
        skin_mm=spec.skin_thickness_mm,
        fat_mm=spec.subcutaneous_fat_mm,
        muscle_name="trunk_muscle",
    )
    return (
        *layers,
        _abdominal_cavity(layout, layers[2].shape),
        *(_psoas(layout, side) for side in ("left", "right")),
        *(_paraspinal(layout, side, layers[2].shape) for side in ("left", "right")),
        *_great_vessels(layout),
    )


def _abdominal_cavity(layout: LumbarLayout, muscle: Ellipsoid) -> Structure:
    """Bowel-filled cavity from the abdominal wall back to the front of the vertebral body."""
    front_y = muscle.center_mm[1] - muscle.radii_mm[1] + ABDOMINAL_WALL_MM
    back_y = -layout.dims.body_depth_mm / 2
    radii = (0.75 * muscle.radii_mm[0], (back_y - front_y) / 2, 0.9 * muscle.radii_mm[2])
    return Structure("abdominal_cavity", "bowel", Ellipsoid((0, (front_y + back_y) / 2, 0), radii))


def _psoas(layout: LumbarLayout, side: str) -> Structure:
    """Psoas major beside the body, in front of the transverse process."""
    rx, ry = layout.dims.psoas_radii_mm
    x = SIDE_SIGN[side] * (layout.dims.body_width_mm / 2 + rx - 3)
    y = layout.transverse_y - TRANSVERSE_THICKNESS_MM / 2 - ry
    shape = Ellipsoid((x, y, 0), (rx, ry, LONG_HALF_LENGTH_MM))
    return Structure(f"psoas_{side}", "muscle", shape)


def _paraspinal(layout: LumbarLayout, side: str, muscle: Ellipsoid) -> Structure:
    """Erector spinae and multifidus: from the transverse processes back to the fascia."""
    rx = 32.0
    x = SIDE_SIGN[side] * (SPINOUS_WIDTH_MM / 2 + 1 + rx)
    front_y = layout.transverse_y + TRANSVERSE_THICKNESS_MM / 2
    back_y = ray_exit_mm(muscle, (x, front_y, 0), (0, 1, 0))[1] - 1.0
    shape = Ellipsoid((x, (front_y + back_y) / 2, 0), (rx, (back_y - front_y) / 2, 140.0))
    return Structure(f"paraspinal_{side}", "muscle", shape)


def _great_vessels(layout: LumbarLayout) -> tuple[Structure, Structure]:
    """Aorta (left-anterior) and inferior vena cava (right-anterior) of the body, 2 mm away."""
    width, front = layout.dims.body_width_mm, -layout.dims.body_depth_mm / 2 - 2
    half = 0.6 * LONG_HALF_LENGTH_MM
    vessels = (
        ("aorta", 0.3 * width, AORTA_RADIUS_MM),
        ("inferior_vena_cava", -0.45 * width, IVC_RADIUS_MM),
    )
    return tuple(
        Structure(name, "blood", Cylinder((x, front - r, half), (x, front - r, -half), r))
        for name, x, r in vessels
    )


# --- bone -------------------------------------------------------------------------------------


def _bones(layout: LumbarLayout) -> tuple[Structure, ...]:
    """Posterior elements first, then body and pedicles (envelopes, then cores) over them."""
    dims, spec = layout.dims, layout.spec
    body = Box((0, 0, 0), (dims.body_width_mm, dims.body_depth_mm, dims.body_height_mm))
    body_pair = cortical_pair(
        "vertebral_body_cortex", "vertebral_body", body, cortex_mm=spec.cortex_thickness_mm
    )
    return (
        *_adjacent_segments(layout),
        *(_lamina(layout, side) for side in ("left", "right")),
        _spinous_process(layout),
        *(_transverse_process(layout, side) for side in ("left", "right")),
        *envelopes_then_cores(body_pair, _pedicle(layout, "left"), _pedicle(layout, "right")),
    )


def _adjacent_segments(layout: LumbarLayout) -> tuple[Structure, ...]:
    """Discs above and below, and the neighbouring bodies beyond them (cancellous)."""
    dims = layout.dims
    height, disc = dims.body_height_mm, dims.disc_height_mm
    footprint = (dims.body_width_mm, dims.body_depth_mm)
    structures: list[Structure] = []
    for where, sign in (("superior", 1.0), ("inferior", -1.0)):
        body = Box((0, 0, sign * (height + disc)), (*footprint, height))
        disc_box = Box((0, 0, sign * (height + disc) / 2), (*footprint, disc))
        structures.append(Structure(f"adjacent_body_{where}", "cancellous_bone", body))
        structures.append(Structure(f"disc_{where}", "intervertebral_disc", disc_box))
    return tuple(structures)


def _pedicle(layout: LumbarLayout, side: str) -> tuple[Structure, Structure]:
    """Elliptic pedicle along its transverse angle, from inside the body to the facet junction."""
    dims, sign = layout.dims, SIDE_SIGN[side]
    frame = yaw_frame(layout.pedicle_center(sign), sign * dims.pedicle_angle_deg)
    radii = (dims.pedicle_width_mm / 2, layout.pedicle_half_length(), dims.pedicle_height_mm / 2)
    return cortical_pair(
        f"pedicle_{side}",
        f"pedicle_{side}_core",
        frame.ellipsoid((0, 0, 0), radii),
        cortex_mm=layout.spec.cortex_thickness_mm,
    )


def _lamina(layout: LumbarLayout, side: str) -> Structure:
    """Plate from the pedicle's back to the midline; its front overlaps the (later) canal."""
    sign = SIDE_SIGN[side]
    lateral = (layout.pedicle_center(sign)[0], layout.canal_back_y - 3)
    medial = (0.0, layout.canal_back_y)
    dx, dy = medial[0] - lateral[0], medial[1] - lateral[1]
    length = math.hypot(dx, dy)
    along = (dx / length, dy / length, 0.0)
    flip = 1.0 if along[0] > 0 else -1.0  # pick the in-plane normal that points posteriorly
    normal = (flip * -along[1], flip * along[0], 0.0)
    offset = LAMINA_THICKNESS_MM / 2 - 2.0
    center = (
        (lateral[0] + medial[0]) / 2 + offset * normal[0],
        (lateral[1] + medial[1]) / 2 + offset * normal[1],
        layout.pedicle_z - 5,
    )
    size = (length + 4, LAMINA_THICKNESS_MM, LAMINA_HEIGHT_MM)
    box = Box(center, size, axes=(along, normal, (0.0, 0.0, 1.0)))
    return Structure(f"lamina_{side}", "cortical_bone", box)


def _spinous_process(layout: LumbarLayout) -> Structure:
    """From the laminar junction (overlapping the canal's back) to the tip."""
    y = layout.spinous_tip_y - SPINOUS_LENGTH_MM / 2
    size = (SPINOUS_WIDTH_MM, SPINOUS_LENGTH_MM, SPINOUS_HEIGHT_MM)
    return Structure("spinous_process", "cortical_bone", Box((0, y, layout.pedicle_z - 7), size))


def _transverse_process(layout: LumbarLayout, side: str) -> Structure:
    """From the pedicle's axis out to half the tip-to-tip span, at the pedicle's level."""
    sign = SIDE_SIGN[side]
    inner = layout.pedicle_center(sign)[0] * sign
    outer = layout.dims.transverse_span_mm / 2
    center = (sign * (inner + outer) / 2, layout.transverse_y, layout.pedicle_z)
    size = (outer - inner, TRANSVERSE_THICKNESS_MM, TRANSVERSE_HEIGHT_MM)
    return Structure(f"transverse_process_{side}", "cortical_bone", Box(center, size))


# --- canal and nerves -------------------------------------------------------------------------


def _neural(layout: LumbarLayout) -> tuple[Structure, ...]:
    """Canal (epidural fat), dural sac (CSF), its content and the exiting roots."""
    dims, spec = layout.dims, layout.spec
    canal = Ellipsoid(
        (0, layout.canal_y, 0),
        (dims.canal_width_mm / 2, dims.canal_depth_mm / 2, LONG_HALF_LENGTH_MM),
    )
    sac_radii = (spec.dural_sac_width_mm / 2, spec.dural_sac_depth_mm / 2, LONG_HALF_LENGTH_MM)
    return (
        Structure("spinal_canal", "fat", canal),
        Structure("dural_sac", "csf", Ellipsoid((0, layout.sac_y, 0), sac_radii)),
        _NEURAL_CONTENT[dims.neural_content](layout),
        *(_nerve_root(layout, side) for side in ("left", "right")),
    )


def _cauda_equina(layout: LumbarLayout) -> Structure:
    """The roots of the cauda equina as one bundle, 2 mm inside the sac."""
    spec = layout.spec
    radii = (spec.dural_sac_width_mm / 2 - 2, spec.dural_sac_depth_mm / 2 - 2, 140.0)
    return Structure("cauda_equina", "nerve", Ellipsoid((0, layout.sac_y, 0), radii))


def _spinal_cord(layout: LumbarLayout) -> Structure:
    """Conus medullaris ending (rounded) at the middle of the disc below the level (L1–L2)."""
    tip_z = -(layout.dims.body_height_mm + layout.dims.disc_height_mm) / 2
    radius = min(4.5, layout.spec.dural_sac_depth_mm / 2 - 1)
    top = (0.0, layout.sac_y, LONG_HALF_LENGTH_MM - radius)
    shape = Capsule(top, (0.0, layout.sac_y, tip_z + radius), radius)
    return Structure("spinal_cord", "spinal_cord", shape)


_NEURAL_CONTENT: dict[str, Callable[[LumbarLayout], Structure]] = {
    "cauda_equina": _cauda_equina,
    "spinal_cord": _spinal_cord,
}


def _nerve_root(layout: LumbarLayout, side: str) -> Structure:
    """Root leaving the sac below the pedicle, through the foramen, into the psoas."""
    dims, spec, sign = layout.dims, layout.spec, SIDE_SIGN[side]
    below = layout.pedicle_z - dims.pedicle_height_mm / 2
    back_wall = dims.body_depth_mm / 2
    clearance = spec.nerve_root_radius_mm + 0.5
    points = (
        (0.25 * spec.dural_sac_width_mm, layout.sac_y, below + 2),
        (dims.canal_width_mm / 2 - 1, back_wall + clearance, below - 5),
        (dims.body_width_mm / 2 + clearance + 2, back_wall + clearance, below - 8),
        (dims.body_width_mm / 2 + dims.psoas_radii_mm[0], -2.0, below - 22),
    )
    mirrored = tuple((sign * x, y, z) for x, y, z in points)
    return Structure(f"nerve_root_{side}", "nerve", Tube(mirrored, spec.nerve_root_radius_mm))


# --- landmarks --------------------------------------------------------------------------------


def _landmarks(layout: LumbarLayout) -> dict[str, Point]:
    dims, spec = layout.dims, layout.spec
    landmarks: dict[str, Point] = {
        "body_center": (0.0, 0.0, 0.0),
        "posterior_wall_center": (0.0, dims.body_depth_mm / 2 - spec.cortex_thickness_mm / 2, 0.0),
        "canal_center": (0.0, layout.canal_y, 0.0),
        "spinous_process_tip": (0.0, layout.spinous_tip_y - 1.0, layout.pedicle_z - 7),
        "skin_posterior": skin_point_mm(
            layout.torso,
            skin_mm=spec.skin_thickness_mm,
            origin_mm=(0, layout.canal_y, 0),
            direction=(0, 1, 0),
        ),
    }
    for side in ("left", "right"):
        sign = SIDE_SIGN[side]
        center = layout.pedicle_center(sign)
        frame = yaw_frame(center, sign * dims.pedicle_angle_deg)
        landmarks[f"pedicle_{side}_center"] = center
        landmarks[f"pedicle_{side}_entry"] = frame.to_world((0, -layout.pedicle_half_length(), 0))
    return {name: as_point(point) for name, point in landmarks.items()}
