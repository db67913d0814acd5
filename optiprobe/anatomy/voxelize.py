"""Voxelise a case: grid, tissue map (painted in order) and structure masks.

Painting order, later wins: base anatomy (background and phantom structures, label map, or a
uniform medium) → the case's extra ``anatomy.structures`` → ``protection`` regions (fluid, gas) →
the tumour. A structure's mask is the region it owns after painting: shells built by nesting
(skin over fat over muscle, cortex over cancellous bone) get their shell, and a structure inside
another (the cauda equina in the dural sac) is cut out of the outer one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optiprobe.anatomy.grid import Grid
from optiprobe.anatomy.labelmap import LabelImage, read_labelmap
from optiprobe.anatomy.phantoms import build_phantom
from optiprobe.anatomy.shapes import Shape
from optiprobe.anatomy.volume import Volume
from optiprobe.case.models import Case
from optiprobe.errors import OptiprobeError
from optiprobe.tissues import get_tissue, with_overrides

__all__ = ["case_grid", "voxelize"]

_PROTECTION_TISSUES = {"hydrodissection": "hydrodissection_fluid", "co2": "co2_gas"}


@dataclass
class _Canvas:
    """Mutable painting state used only while voxelising."""

    grid: Grid
    points_mm: np.ndarray
    tissue_names: list[str]
    tissue_index: np.ndarray
    structure_names: list[str]
    owner: np.ndarray  # index into structure_names + 1; 0 = background

    def tissue_id(self, name: str) -> int:
        if name not in self.tissue_names:
            self.tissue_names.append(name)
        return self.tissue_names.index(name)

    def paint_mask(self, name: str, tissue: str, mask: np.ndarray) -> None:
        self.tissue_index[mask] = self.tissue_id(tissue)
        self.structure_names.append(name)
        self.owner[mask] = len(self.structure_names)

    def masks(self) -> dict[str, np.ndarray]:
        return {name: self.owner == i + 1 for i, name in enumerate(self.structure_names)}

    def paint_shape(self, name: str, tissue: str, shape: Shape) -> None:
        self.paint_mask(name, tissue, self.inside(shape))

    def inside(self, shape: Shape) -> np.ndarray:
        """Voxels whose centre lies in ``shape``, evaluated only inside its bounding box."""
        lower, upper = shape.bounds_mm()
        first = np.maximum(np.floor(self.grid.world_to_index(lower)).astype(int), 0)
        last = np.minimum(
            np.ceil(self.grid.world_to_index(upper)).astype(int) + 1, self.grid.shape
        )
        mask = np.zeros(self.grid.shape, dtype=bool)
        if np.any(last <= first):
            return mask
        block = tuple(slice(a, b) for a, b in zip(first, last, strict=True))
        mask[block] = shape.signed_distance(self.points_mm[block]) <= 0.0
        return mask


def _tumor_bounds(case: Case, image: LabelImage | None) -> tuple[np.ndarray, np.ndarray]:
    tumor = case.tumor
    parts = [c.shape.to_shape().bounds_mm() for c in tumor.components]
    if tumor.shape is not None:
        parts.append(tumor.shape.to_shape().bounds_mm())
    else:
        bounds = image.bounds_of(tumor.label)
        if bounds is None:
            raise OptiprobeError(
                f"the label map holds no voxel with the tumour label {tumor.label}",
                location="tumor.label",
            )
        parts.append(bounds)
    lower, upper = zip(*parts, strict=True)
    return np.min(lower, axis=0), np.max(upper, axis=0)


def _paint_tumor(canvas: _Canvas, case: Case, sampled: np.ndarray | None) -> None:
    """Paint the tumour last: its main part and components, owned as one structure."""
    tumor = case.tumor
    main = (
        canvas.inside(tumor.shape.to_shape())
        if tumor.shape is not None
        else sampled == tumor.label
    )
    parts = [(c.tissue_name, canvas.inside(c.shape.to_shape())) for c in tumor.components]
    union = np.logical_or.reduce([main, *(mask for _, mask in parts)])
    canvas.paint_mask(tumor.name, tumor.tissue_name, union)
    for tissue, mask in parts:
        canvas.tissue_index[mask & ~main] = canvas.tissue_id(tissue)


# About 1.5 GB of voxel-centre coordinates while voxelising; far beyond any planning grid.
MAX_VOXELS = 60_000_000


def case_grid(case: Case, image: LabelImage | None = None) -> Grid:
    """The simulation grid of ``case``: its explicit box, or tumour bounds grown by the margin.

    Raises
    ------
    OptiprobeError
        If the grid would exceed :data:`MAX_VOXELS` voxels.
    """
    spacing = case.grid.spacing_xyz_mm
    if case.grid.box is not None:
        lower, upper = np.asarray(case.grid.box.min_mm), np.asarray(case.grid.box.max_mm)
    else:
        lower, upper = _tumor_bounds(case, image)
        lower, upper = lower - case.grid.margin_mm, upper + case.grid.margin_mm
    shape = np.ceil((upper - lower) / np.asarray(spacing)).astype(np.int64) + 1
    if not np.all(np.isfinite(lower)) or int(np.prod(shape)) > MAX_VOXELS:
        raise OptiprobeError(
            f"the grid would have {'×'.join(map(str, shape))} = {int(np.prod(shape)):,} voxels",
            location="grid",
            allowed=f"at most {MAX_VOXELS:,} voxels: a larger spacing_mm or a smaller margin/box",
        )
    return Grid.from_bounds(lower, upper, spacing)


def _paint_base(canvas: _Canvas, case: Case, sampled: np.ndarray | None) -> None:
    anatomy = case.anatomy
    if anatomy.uniform is not None:
        canvas.tissue_index[...] = canvas.tissue_id(anatomy.uniform.tissue)
    elif anatomy.phantom is not None:
        phantom = build_phantom(anatomy.phantom)
        canvas.tissue_index[...] = canvas.tissue_id(phantom.background_tissue)
        for structure in phantom.structures:
            canvas.paint_shape(structure.name, structure.tissue, structure.shape)
    else:
        _paint_labels(canvas, case, sampled)


def _paint_labels(canvas: _Canvas, case: Case, sampled: np.ndarray) -> None:
    spec = case.anatomy.labelmap
    known = {label.value for label in spec.labels} | {0}
    if case.tumor.label is not None:
        known.add(case.tumor.label)
    unknown = sorted(set(np.unique(sampled).tolist()) - known)
    if unknown:
        raise OptiprobeError(
            f"label value(s) {unknown} occur in the label map inside the grid but are not listed",
            file=spec.path,
            location="anatomy.labelmap.labels",
            allowed="one entry (value, name, tissue) for every label value in the grid",
        )
    canvas.tissue_index[...] = canvas.tissue_id(spec.background_tissue)
    for label in spec.labels:
        canvas.paint_mask(label.name, label.tissue, sampled == label.value)


def _check_coverage(grid: Grid, masks: dict[str, np.ndarray], case: Case) -> None:
    tumor = masks[case.tumor.name]
    if not tumor.any():
        raise OptiprobeError(
            f"the tumour covers no voxel of the {grid.spacing_mm} mm grid",
            location="tumor",
            allowed="a larger tumour or a finer grid.spacing_mm",
        )
    edge = np.zeros(grid.shape, dtype=bool)
    edge[[0, -1], :, :] = edge[:, [0, -1], :] = edge[:, :, [0, -1]] = True
    if (tumor & edge).any():
        raise OptiprobeError(
            "the tumour reaches the edge of the grid: part of it falls outside",
            location="grid",
            allowed="a larger grid.box, or grid.margin_mm instead of a box",
        )
    for i, protected in enumerate(case.protected):
        if not masks[protected.structure].any():
            raise OptiprobeError(
                f"protected structure {protected.structure!r} lies entirely outside the grid, "
                "so its temperature cannot be checked",
                location=f"protected[{i}].structure",
                allowed="a larger grid (grid.margin_mm or grid.box) that includes it",
            )
    for i, couple in enumerate(case.thermocouples):
        if not grid.contains(np.asarray(couple.position_mm)):
            raise OptiprobeError(
                f"thermocouple {couple.name!r} at {couple.position_mm} is outside the grid "
                f"[{grid.lower_mm.round(1).tolist()}, {grid.upper_mm.round(1).tolist()}] mm",
                location=f"thermocouples[{i}].position_mm",
                allowed="a position inside the grid",
            )


def voxelize(case: Case) -> Volume:
    """Turn a validated case into a :class:`Volume` on its grid.

    Raises
    ------
    OptiprobeError
        If the tumour is empty or leaves the grid, a protected structure or thermocouple lies
        outside the grid, or the label map holds labels the case does not list.
    """
    labelmap = case.anatomy.labelmap
    image = None if labelmap is None else read_labelmap(labelmap.path)
    grid = case_grid(case, image)
    canvas = _Canvas(
        grid=grid,
        points_mm=grid.points_mm(),
        tissue_names=[],
        tissue_index=np.zeros(grid.shape, dtype=np.uint8),
        structure_names=[],
        owner=np.zeros(grid.shape, dtype=np.uint16),
    )
    sampled = None if image is None else image.sample(canvas.points_mm)
    _paint_base(canvas, case, sampled)
    for structure in case.anatomy.structures:
        canvas.paint_shape(structure.name, structure.tissue, structure.shape.to_shape())
    for region in case.protection:
        canvas.paint_shape(region.name, _PROTECTION_TISSUES[region.type], region.shape.to_shape())
    _paint_tumor(canvas, case, sampled)
    masks = canvas.masks()
    _check_coverage(grid, masks, case)
    tissues = tuple(_tissue(name, case) for name in canvas.tissue_names)
    return Volume(
        grid=grid,
        tissue_index=canvas.tissue_index,
        tissues=tissues,
        masks=masks,
        tumor_name=case.tumor.name,
        protected=tuple(p.structure for p in case.protected),
    )


def _tissue(name: str, case: Case):
    tissue = get_tissue(name)
    overrides = case.tissue_overrides.get(name)
    if not overrides:
        return tissue
    return with_overrides(tissue, overrides, source=f"case {case.name} tissue_overrides")
