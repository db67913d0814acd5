"""Temperature–volume histograms and the tumour-surface margin map.

The temperature–volume histogram (TVH) is the cryoablation counterpart of radiotherapy's
cumulative dose–volume histogram: for each temperature ``T`` the fraction of a structure whose
minimum temperature reached ``T`` or colder. It uses the same ``<=`` as the coverage criteria of
:mod:`optiprobe.metrics.evaluate`, so the curve at −20 °C equals the reported coverage value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from optiprobe.metrics.evaluate import ice_margins_mm

__all__ = [
    "MarginMap",
    "TemperatureVolumeHistogram",
    "default_temperatures_c",
    "margin_map",
    "temperature_volume_histogram",
]


def default_temperatures_c(t_min_c: np.ndarray | None = None, *, step_c: float = 0.5):
    """Temperatures (°C, ascending) at which to sample a TVH: from the coldest value of
    ``t_min_c`` (at most −60 °C) up to 40 °C in ``step_c`` steps."""
    coldest = -60.0 if t_min_c is None else min(-60.0, float(np.floor(np.min(t_min_c))))
    return np.arange(coldest, 40.0 + step_c / 2, step_c)


@dataclass(frozen=True)
class TemperatureVolumeHistogram:
    """Cumulative TVH of one structure.

    Attributes
    ----------
    name : str
    temperatures_c : (n,) float
        Ascending sample temperatures, °C.
    fraction_colder : (n,) float
        Fraction (0–1) of the structure's voxels with minimum temperature ``<= T``.
    volume_ml : float
        Volume of the structure, mL.
    """

    name: str
    temperatures_c: np.ndarray
    fraction_colder: np.ndarray
    volume_ml: float

    def fraction_at(self, temperature_c: float) -> float:
        """Fraction colder than or equal to ``temperature_c``, interpolated between samples."""
        return float(np.interp(temperature_c, self.temperatures_c, self.fraction_colder))


def temperature_volume_histogram(
    t_min_c: np.ndarray,
    mask: np.ndarray,
    temperatures_c: np.ndarray,
    *,
    name: str = "",
    voxel_volume_mm3: float = 1.0,
) -> TemperatureVolumeHistogram:
    """Fraction of ``mask`` whose minimum temperature is ``<=`` each of ``temperatures_c``.

    Parameters
    ----------
    t_min_c : ndarray, shape (nx, ny, nz), float
        Minimum temperature reached in each voxel, °C.
    mask : ndarray, same shape, bool
        The structure's voxels; must not be empty.
    temperatures_c : ndarray, shape (n,), float
        Ascending temperatures, °C.
    voxel_volume_mm3 : float
        Volume of one voxel, mm³ (only for ``volume_ml``).
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != np.shape(t_min_c):
        raise ValueError(f"mask shape {mask.shape} differs from field {np.shape(t_min_c)}")
    if not mask.any():
        raise ValueError(f"structure {name!r} has no voxels")
    values = np.sort(np.asarray(t_min_c)[mask].astype(np.float64))
    temperatures = np.asarray(temperatures_c, dtype=np.float64)
    counts = np.searchsorted(values, temperatures, side="right")  # voxels <= T
    return TemperatureVolumeHistogram(
        name,
        temperatures,
        counts / values.size,
        float(values.size * voxel_volume_mm3 / 1000.0),
    )


@dataclass(frozen=True)
class MarginMap:
    """The isotherm's reach beyond each tumour-surface voxel (see ``ice_margins_mm``).

    Attributes
    ----------
    points_mm : (m, 3) float
        Tumour-surface voxel centres, LPS mm.
    margins_mm : (m,) float
        Signed distance the isotherm reaches beyond each point, mm (negative: not covered).
    isotherm_c : float
    """

    points_mm: np.ndarray
    margins_mm: np.ndarray
    isotherm_c: float


def margin_map(t_min_c: np.ndarray, tumor: np.ndarray, grid, isotherm_c: float) -> MarginMap:
    """Margins of :func:`~optiprobe.metrics.evaluate.ice_margins_mm` with the positions of the
    tumour-surface voxels they belong to (same surface, same order: row-major voxel order)."""
    tumor = np.asarray(tumor, dtype=bool)
    margins = ice_margins_mm(t_min_c, tumor, grid.spacing_mm, isotherm_c)
    surface = tumor & ~ndimage.binary_erosion(tumor)
    index = np.argwhere(surface)
    if index.shape[0] != margins.size:  # the evaluate module changed its surface definition
        raise RuntimeError("tumour surface of margin_map and ice_margins_mm differ")
    points = grid.lower_mm + index * np.asarray(grid.spacing_mm)
    return MarginMap(points, np.asarray(margins, dtype=float), float(isotherm_c))
