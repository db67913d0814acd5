"""Signed-distance shapes: exact distances where known, correct signs, bounds that contain."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optiprobe.anatomy import shapes

coords = st.floats(-50, 50, allow_nan=False)
points = st.tuples(coords, coords, coords).map(np.array)
radii = st.floats(0.5, 30)


@given(points, points, radii)
def test_sphere_distance_is_euclidean(p, c, r):
    d = shapes.Sphere(tuple(c), r).signed_distance(p)
    assert d == pytest.approx(np.linalg.norm(p - c) - r, abs=1e-9)


@given(points)
def test_box_distance_matches_brute_force_outside(p):
    box = shapes.Box((1.0, -2.0, 3.0), (10.0, 6.0, 4.0))
    lower, upper = box.bounds_mm()
    nearest = np.clip(p, lower, upper)
    expected = np.linalg.norm(p - nearest)
    d = box.signed_distance(p)
    if expected > 0:
        assert d == pytest.approx(expected, abs=1e-9)
    else:
        assert d <= 0
        assert d == pytest.approx(-np.min(np.minimum(p - lower, upper - p)), abs=1e-9)


@given(points)
def test_capsule_equals_two_point_tube(p):
    capsule = shapes.Capsule((0, 0, 0), (10, 5, -3), 2.5)
    tube = shapes.Tube(((0, 0, 0), (10, 5, -3)), 2.5)
    assert capsule.signed_distance(p) == pytest.approx(tube.signed_distance(p))


@given(points)
def test_cylinder_inside_iff_radial_and_axial_within(p):
    cyl = shapes.Cylinder((0, 0, -10), (0, 0, 10), 4.0)
    inside = np.hypot(p[0], p[1]) < 4.0 and abs(p[2]) < 10.0
    d = cyl.signed_distance(p)
    if abs(d) > 1e-9:
        assert (d < 0) == inside


@settings(max_examples=200)
@given(points)
def test_ellipsoid_sign_matches_implicit_equation(p):
    ell = shapes.Ellipsoid((2, 1, -1), (12, 6, 4))
    q = np.sum(((p - np.array([2, 1, -1])) / np.array([12, 6, 4])) ** 2)
    d = ell.signed_distance(p)
    if abs(q - 1) > 1e-6:
        assert (d < 0) == (q < 1)


def test_ellipsoid_distance_exact_on_axes():
    ell = shapes.Ellipsoid((0, 0, 0), (12, 6, 4))
    assert ell.signed_distance(np.array([15.0, 0, 0])) == pytest.approx(3.0)
    assert ell.signed_distance(np.array([0, 0, 7.0])) == pytest.approx(3.0)


def test_rotated_ellipsoid_follows_axes():
    axes = ((0, 1, 0), (-1, 0, 0), (0, 0, 1))  # long axis along y
    ell = shapes.Ellipsoid((0, 0, 0), (12, 3, 3), axes)
    assert ell.signed_distance(np.array([0, 10.0, 0])) < 0
    assert ell.signed_distance(np.array([10.0, 0, 0])) > 0
    np.testing.assert_allclose(ell.bounds_mm()[1], [3, 12, 3])


@pytest.mark.parametrize(
    "shape",
    [
        shapes.Sphere((1, 2, 3), 5),
        shapes.Ellipsoid((0, 0, 0), (8, 4, 2), ((0.6, 0.8, 0), (-0.8, 0.6, 0), (0, 0, 1))),
        shapes.Box((0, 0, 0), (4, 6, 8), ((0.6, 0.8, 0), (-0.8, 0.6, 0), (0, 0, 1))),
        shapes.Cylinder((0, 0, 0), (10, 10, 0), 3),
        shapes.Capsule((0, 0, 0), (0, 10, 10), 3),
        shapes.Tube(((0, 0, 0), (10, 0, 0), (10, 10, 5)), 2),
    ],
)
def test_bounds_contain_every_inside_point(shape):
    rng = np.random.default_rng(0)
    samples = rng.uniform(-25, 25, size=(20000, 3))
    inside = samples[shape.signed_distance(samples) <= 0]
    assert len(inside) > 10
    lower, upper = shape.bounds_mm()
    assert np.all(inside >= lower - 1e-9) and np.all(inside <= upper + 1e-9)


def test_invalid_axes_rejected():
    with pytest.raises(ValueError, match="orthonormal"):
        shapes.Box((0, 0, 0), (1, 1, 1), ((1, 0, 0), (1, 0, 0), (0, 0, 1))).signed_distance(
            np.zeros(3)
        )
