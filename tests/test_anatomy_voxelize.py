"""Voxelisation: the bounding-box crop changes nothing; ownership masks partition the grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optiprobe.anatomy.grid import Grid
from optiprobe.anatomy.phantoms import build_phantom
from optiprobe.anatomy.voxelize import _Canvas, voxelize
from optiprobe.case import load_case

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.mark.parametrize("name", ["lumbar_vertebra", "rib", "sacrum", "acetabulum", "long_bone"])
def test_cropped_inside_equals_full_evaluation(name):
    phantom = build_phantom({"name": name})
    lower, upper = np.array(phantom.structures[-1].shape.bounds_mm())
    grid = Grid.from_bounds(lower - 25, upper + 25, (2.0, 2.0, 2.0))
    points = grid.points_mm()
    canvas = _Canvas(grid, points, [], np.zeros(grid.shape, np.uint8), [], np.zeros(grid.shape))
    for structure in phantom.structures:
        full = structure.shape.signed_distance(points) <= 0
        np.testing.assert_array_equal(canvas.inside(structure.shape), full, err_msg=structure.name)


def test_masks_partition_the_painted_voxels():
    volume = voxelize(load_case(SCENARIOS / "l4_osteoblastic_posterior_wall.yaml"))
    owned = np.sum([m.astype(int) for m in volume.masks.values()], axis=0)
    assert owned.max() == 1  # no voxel belongs to two structures
    # Nested shells: the skin mask is a shell, not the whole body.
    assert volume.masks["cauda_equina"].any()
    assert not (volume.masks["dural_sac"] & volume.masks["cauda_equina"]).any()
