"""The voxelised case: tissue map, per-tissue properties and structure masks on a grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optiprobe.anatomy.grid import Grid
from optiprobe.tissues import Tissue

__all__ = ["Volume"]


@dataclass(frozen=True, eq=False)
class Volume:
    """A labelled volume, ready for the thermal solver.

    Parameters
    ----------
    grid
        The LPS voxel grid.
    tissue_index : ndarray, shape ``grid.shape``, uint8
        Index into ``tissues`` for every voxel.
    tissues
        The tissues used, case overrides applied.
    masks
        Structure name → boolean array of shape ``grid.shape``: the voxels the structure owns
        after painting (later structures cut earlier ones).
    tumor_name
        Key of the tumour in ``masks``.
    protected
        Names of the protected structures (keys of ``masks``).
    """

    grid: Grid
    tissue_index: np.ndarray
    tissues: tuple[Tissue, ...]
    masks: dict[str, np.ndarray]
    tumor_name: str
    protected: tuple[str, ...]

    @property
    def tumor_mask(self) -> np.ndarray:
        """Boolean mask of the tumour."""
        return self.masks[self.tumor_name]

    @property
    def tissue_names(self) -> tuple[str, ...]:
        """Tissue names in index order."""
        return tuple(t.name for t in self.tissues)

    def property_map(self, name: str) -> np.ndarray:
        """Per-voxel values of tissue property ``name`` (float32, shape ``grid.shape``)."""
        table = np.array([t.value(name) for t in self.tissues], dtype=np.float32)
        return table[self.tissue_index]

    def volume_ml(self, name: str) -> float:
        """Volume of structure ``name`` in millilitres."""
        return float(self.masks[name].sum()) * self.grid.voxel_volume_mm3 / 1000.0

    def centroid_mm(self, name: str) -> np.ndarray:
        """Centroid (LPS, mm) of structure ``name``, shape (3,)."""
        index = np.argwhere(self.masks[name]).mean(axis=0)
        return self.grid.lower_mm + index * np.asarray(self.grid.spacing_mm)
