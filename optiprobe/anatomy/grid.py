"""The voxel grid: origin, spacing and shape in patient LPS millimetres.

Array index order is (i, j, k) = (x, y, z) with x towards patient Left, y towards Posterior and z
towards Superior (the DICOM/ITK/3D Slicer convention). ``origin_mm`` is the centre of voxel
(0, 0, 0).
Grids built here are axis-aligned; oblique images are reoriented or rejected at import.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Grid"]


@dataclass(frozen=True)
class Grid:
    """An axis-aligned LPS voxel grid.

    Parameters
    ----------
    origin_mm : tuple of 3 float
        World position (LPS, mm) of the centre of voxel (0, 0, 0).
    spacing_mm : tuple of 3 float
        Voxel size along x, y, z in mm; all > 0.
    shape : tuple of 3 int
        Number of voxels along x, y, z.
    """

    origin_mm: tuple[float, float, float]
    spacing_mm: tuple[float, float, float]
    shape: tuple[int, int, int]

    def __post_init__(self) -> None:
        if len(self.origin_mm) != 3 or len(self.spacing_mm) != 3 or len(self.shape) != 3:
            raise ValueError("origin_mm, spacing_mm and shape must each have 3 entries")
        if min(self.spacing_mm) <= 0:
            raise ValueError(f"spacing_mm must be > 0, got {self.spacing_mm}")
        if min(self.shape) < 1:
            raise ValueError(f"shape must be >= 1 along every axis, got {self.shape}")

    @classmethod
    def from_bounds(
        cls, lower_mm: np.ndarray, upper_mm: np.ndarray, spacing_mm: tuple[float, float, float]
    ) -> Grid:
        """Smallest grid of the given spacing whose voxel centres cover ``[lower_mm, upper_mm]``.

        The box is centred so that the extra fraction of a voxel is split evenly on both sides.
        """
        lower = np.asarray(lower_mm, dtype=float)
        upper = np.asarray(upper_mm, dtype=float)
        spacing = np.asarray(spacing_mm, dtype=float)
        shape = np.maximum(np.ceil((upper - lower) / spacing).astype(int) + 1, 1)
        centre = 0.5 * (lower + upper)
        origin = centre - 0.5 * (shape - 1) * spacing
        return cls(tuple(origin.tolist()), tuple(spacing.tolist()), tuple(int(n) for n in shape))

    @property
    def n_voxels(self) -> int:
        """Total number of voxels."""
        return int(np.prod(self.shape))

    @property
    def voxel_volume_mm3(self) -> float:
        """Volume of one voxel in mm³."""
        return float(np.prod(self.spacing_mm))

    @property
    def lower_mm(self) -> np.ndarray:
        """World position of the first voxel centre, shape (3,)."""
        return np.asarray(self.origin_mm, dtype=float)

    @property
    def upper_mm(self) -> np.ndarray:
        """World position of the last voxel centre, shape (3,)."""
        return self.lower_mm + (np.asarray(self.shape) - 1) * np.asarray(self.spacing_mm)

    def axes_mm(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Voxel-centre coordinates along x, y and z (three 1-D arrays, mm)."""
        return tuple(
            o + s * np.arange(n, dtype=float)
            for o, s, n in zip(self.origin_mm, self.spacing_mm, self.shape, strict=True)
        )

    def points_mm(self) -> np.ndarray:
        """All voxel centres, shape ``(*shape, 3)``, LPS mm, float64."""
        x, y, z = self.axes_mm()
        return np.stack(np.meshgrid(x, y, z, indexing="ij"), axis=-1)

    def world_to_index(self, points_mm: np.ndarray) -> np.ndarray:
        """Continuous voxel index of world points, shape ``(..., 3)``."""
        return (np.asarray(points_mm, dtype=float) - self.lower_mm) / np.asarray(self.spacing_mm)

    def contains(self, points_mm: np.ndarray) -> np.ndarray:
        """Whether each point lies within the grid's voxel-centre box, shape ``(...)``."""
        index = self.world_to_index(points_mm)
        return np.all((index >= -0.5) & (index <= np.asarray(self.shape) - 0.5), axis=-1)

    def affine_lps(self) -> np.ndarray:
        """4×4 voxel-index → LPS-mm affine."""
        affine = np.diag([*self.spacing_mm, 1.0])
        affine[:3, 3] = self.origin_mm
        return affine

    def affine_ras(self) -> np.ndarray:
        """4×4 voxel-index → RAS-mm affine, as NIfTI files store it."""
        return np.diag([-1.0, -1.0, 1.0, 1.0]) @ self.affine_lps()
