"""Level table and derived layout of the lumbar vertebra phantom (LPS, mm).

Kept apart from ``lumbar_vertebra`` so that the builders there stay short; see that module for
the frame and ``docs/phantoms.md`` for the sources of every number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from optiprobe.anatomy.phantoms._common import Point
from optiprobe.anatomy.shapes import Ellipsoid

if TYPE_CHECKING:
    from optiprobe.anatomy.phantoms.lumbar_vertebra import LumbarVertebraSpec

LumbarLevel = Literal["L1", "L2", "L3", "L4", "L5"]

# Fixed soft-tissue and posterior-element geometry (mm); see docs/phantoms.md.
TORSO_RADII_MM = (165.0, 115.0, 280.0)
ABDOMINAL_WALL_MM = 14.0
FASCIA_MM = 3.0
LONG_HALF_LENGTH_MM = 150.0
SPINOUS_LENGTH_MM = 30.0  # from the back of the canal to the tip
SPINOUS_WIDTH_MM = 8.0
SPINOUS_HEIGHT_MM = 22.0
LAMINA_THICKNESS_MM = 6.0
LAMINA_HEIGHT_MM = 24.0
TRANSVERSE_THICKNESS_MM = 6.0
TRANSVERSE_HEIGHT_MM = 12.0
PEDICLE_OVERLAP_MM = 5.0
AORTA_RADIUS_MM = 9.0
IVC_RADIUS_MM = 11.0


@dataclass(frozen=True)
class LevelDimensions:
    """Bony dimensions of one lumbar level (mm; the pedicle angle in degrees).

    ``pedicle_angle_deg`` is the transverse angle of the pedicle axis to the sagittal plane
    (converging anteriorly); ``neural_content`` names the builder of the dural sac's content.
    """

    body_width_mm: float
    body_depth_mm: float
    body_height_mm: float
    disc_height_mm: float
    canal_width_mm: float
    canal_depth_mm: float
    pedicle_width_mm: float
    pedicle_height_mm: float
    pedicle_angle_deg: float
    transverse_span_mm: float
    psoas_radii_mm: tuple[float, float]
    neural_content: Literal["spinal_cord", "cauda_equina"]


# Columns: body width, depth, height, disc height, canal width, canal depth, pedicle width,
# pedicle height, pedicle angle (deg), transverse-process tip-to-tip span, psoas semi-axes (x, y),
# neural content of the dural sac.
_CORD, _CAUDA = "spinal_cord", "cauda_equina"
LEVEL_DIMENSIONS: dict[str, LevelDimensions] = {
    "L1": LevelDimensions(42, 33, 25.5, 8.5, 22, 17.5, 8.7, 15.4, 11, 72, (9, 12), _CORD),
    "L2": LevelDimensions(44, 34, 26.5, 9.5, 22.5, 16.5, 8.9, 15, 12, 84, (12, 15), _CAUDA),
    "L3": LevelDimensions(46, 35, 27, 10.5, 23.5, 15.5, 10.3, 14.9, 14, 96, (14, 18), _CAUDA),
    "L4": LevelDimensions(48, 35, 27, 11, 24.5, 16, 12.9, 14.8, 18, 90, (16, 20), _CAUDA),
    "L5": LevelDimensions(50, 35.5, 26.5, 11, 27, 16.5, 17, 14, 30, 88, (17, 21), _CAUDA),
}
"""Per-level defaults, rounded from Panjabi 1992, Zindrick 1987 and Griffith 2016 (docs)."""


@dataclass(frozen=True)
class LumbarLayout:
    """Derived positions (mm) shared by the builders."""

    spec: LumbarVertebraSpec
    dims: LevelDimensions
    canal_y: float
    canal_back_y: float
    pedicle_z: float
    transverse_y: float
    torso: Ellipsoid

    @classmethod
    def of(cls, spec: LumbarVertebraSpec) -> LumbarLayout:
        """Positions derived from validated parameters."""
        dims = spec.dimensions
        canal_back_y = dims.body_depth_mm / 2 + dims.canal_depth_mm
        skin_y = canal_back_y + SPINOUS_LENGTH_MM + FASCIA_MM
        skin_y += spec.subcutaneous_fat_mm + spec.skin_thickness_mm
        torso_center = (0.0, skin_y - TORSO_RADII_MM[1], 0.0)
        return cls(
            spec=spec,
            dims=dims,
            canal_y=dims.body_depth_mm / 2 + dims.canal_depth_mm / 2,
            canal_back_y=canal_back_y,
            pedicle_z=dims.body_height_mm / 2 - dims.pedicle_height_mm / 2 - 1.5,
            transverse_y=dims.body_depth_mm / 2 + 0.6 * dims.canal_depth_mm,
            torso=Ellipsoid(torso_center, TORSO_RADII_MM),
        )

    @property
    def spinous_tip_y(self) -> float:
        """Posterior end of the spinous process, y (mm)."""
        return self.canal_back_y + SPINOUS_LENGTH_MM

    @property
    def sac_y(self) -> float:
        """Dural sac centre, y (mm)."""
        spec = self.spec
        front = self.dims.body_depth_mm / 2 + spec.anterior_epidural_gap_mm
        return front + spec.dural_sac_depth_mm / 2

    def pedicle_center(self, sign: float) -> Point:
        """Pedicle isthmus centre (mm) on the side of ``sign`` (+1 left, -1 right)."""
        dims = self.dims
        x = dims.canal_width_mm / 2 + dims.pedicle_width_mm / 2
        return (sign * x, self.canal_y, self.pedicle_z)

    def pedicle_half_length(self) -> float:
        """Semi-axis of the pedicle ellipsoid along its transverse angle (mm)."""
        half_y = self.dims.canal_depth_mm / 2 + PEDICLE_OVERLAP_MM
        return half_y / math.cos(math.radians(self.dims.pedicle_angle_deg))
