"""The LPS grid: bounds coverage, index/world round trip, RAS affine for NIfTI."""

import numpy as np
import pytest

from optiprobe.anatomy.grid import Grid


def test_from_bounds_covers_box_and_is_centred():
    grid = Grid.from_bounds(np.array([-10.0, 0, 5]), np.array([10.0, 7.5, 5.2]), (1.0, 2.0, 0.5))
    assert np.all(grid.lower_mm <= [-10, 0, 5]) and np.all(grid.upper_mm >= [10, 7.5, 5.2])
    np.testing.assert_allclose(0.5 * (grid.lower_mm + grid.upper_mm), [0, 3.75, 5.1])
    assert grid.shape == (21, 5, 2)


def test_points_and_index_round_trip():
    grid = Grid((-3.0, 2.0, 10.0), (0.5, 1.0, 2.0), (4, 5, 6))
    points = grid.points_mm()
    assert points.shape == (4, 5, 6, 3)
    np.testing.assert_allclose(points[1, 2, 3], [-2.5, 4.0, 16.0])
    index = grid.world_to_index(points)
    np.testing.assert_allclose(index[1, 2, 3], [1, 2, 3])
    homogeneous = grid.affine_lps() @ np.array([1, 2, 3, 1.0])
    np.testing.assert_allclose(homogeneous[:3], points[1, 2, 3])


def test_ras_affine_flips_x_and_y_only():
    grid = Grid((-3.0, 2.0, 10.0), (0.5, 1.0, 2.0), (4, 5, 6))
    ras = grid.affine_ras() @ np.array([1, 2, 3, 1.0])
    lps = grid.affine_lps() @ np.array([1, 2, 3, 1.0])
    np.testing.assert_allclose(ras[:3], lps[:3] * [-1, -1, 1])


def test_contains():
    grid = Grid((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (3, 3, 3))
    assert grid.contains(np.array([2.4, 0, 1]))
    assert not grid.contains(np.array([2.6, 0, 1]))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin_mm": (0, 0, 0), "spacing_mm": (1, 0, 1), "shape": (2, 2, 2)},
        {"origin_mm": (0, 0, 0), "spacing_mm": (1, 1, 1), "shape": (2, 0, 2)},
        {"origin_mm": (0, 0), "spacing_mm": (1, 1, 1), "shape": (2, 2, 2)},
    ],
)
def test_invalid_grid_rejected(kwargs):
    with pytest.raises(ValueError):
        Grid(**kwargs)
