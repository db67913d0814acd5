"""Criteria values on synthetic temperature fields whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from optiprobe.metrics import ice_margins_mm


def _ball(shape, centre, radius):
    index = np.indices(shape).transpose(1, 2, 3, 0)
    return np.linalg.norm(index - np.asarray(centre), axis=-1) <= radius


def test_margin_of_concentric_balls_is_the_radius_difference():
    shape = (61, 61, 61)
    tumor = _ball(shape, (30, 30, 30), 8)
    t_min = np.where(_ball(shape, (30, 30, 30), 13), -10.0, 20.0)  # 0 °C edge 5 voxels out
    margins = ice_margins_mm(t_min, tumor, (1.0, 1.0, 1.0), 0.0)
    assert np.median(margins) == pytest.approx(5.5, abs=0.6)  # distance to first warm voxel
    assert margins.min() >= 4.5


def test_margin_is_negative_where_the_tumour_is_not_covered():
    shape = (61, 61, 61)
    tumor = _ball(shape, (30, 30, 30), 8)
    t_min = np.where(_ball(shape, (33, 30, 30), 8), -10.0, 20.0)  # ice shifted 3 voxels
    margins = ice_margins_mm(t_min, tumor, (0.5, 0.5, 0.5), 0.0)
    assert margins.min() < 0  # uncovered side
    assert margins.min() == pytest.approx(-1.5, abs=0.5)  # 3 voxels of 0.5 mm
