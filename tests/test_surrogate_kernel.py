"""The surrogate's per-probe kernel: its hand-written gradient (issue #5).

The kernel's gradient (``jax.custom_vjp``) must be that of the plain formulation, which autodiff
differentiates directly (:func:`probe_potential_reference`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optiprobe.surrogate import kernel
from optiprobe.surrogate.model import load_surrogate

NAMES = ("points", "tip", "unit", "weight", "media", "present")
ARGNUMS = (0, 1, 2, 3, 4, 8)


@pytest.fixture(scope="module")
def surrogate():
    return load_surrogate()


def _arguments(surrogate, seed, *, tip_offset_mm=(0.0, 0.0, 0.0), spread_mm=25.0):
    """Kernel arguments: 4,000 points around a probe with mixed media, mid-way between knots."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(-spread_mm, spread_mm, (3, 4000)) + np.array([[0.0], [0.0], [20.0]])
    tip = rng.uniform(-3.0, 3.0, 3) + np.asarray(tip_offset_mm)
    axis = np.array([0.15, -0.1, 1.0]) + rng.normal(0.0, 0.1, 3)
    table = surrogate._parameters[int(rng.integers(len(surrogate.models)))]  # (C, K, L, 5)
    knot = int(rng.integers(table.shape[1] - 1))
    media = rng.dirichlet(np.ones(len(surrogate.media)))
    return (
        jnp.asarray(points, jnp.float32),
        jnp.asarray(tip, jnp.float32),
        jnp.asarray(axis / np.linalg.norm(axis), jnp.float32),
        jnp.float32(rng.uniform(0.1, 0.9)),
        jnp.asarray(media, jnp.float32),
        table[:, knot],
        table[:, knot + 1],
        jnp.asarray(surrogate.v_levels[int(rng.integers(len(surrogate.media)))]),
        jnp.float32(1.0),
    )


def _loss(function, weights):
    """A smooth scalar of the potentials that weighs every point differently."""
    return lambda *args: jnp.sum(weights * jnp.sin(0.05 * function(*args)))


@pytest.mark.parametrize(
    "seed, tip_offset_mm, spread_mm",
    [(0, (0.0, 0.0, 0.0), 25.0), (1, (0.0, 0.0, 0.0), 25.0), (2, (30.0, -25.0, 10.0), 45.0)],
)
def test_custom_gradient_is_autodiff_of_the_plain_formulation(
    surrogate, seed, tip_offset_mm, spread_mm
):
    """Every differentiable input, including a tip far from the points' centre (the
    backward pass sums moments about that centre)."""
    args = _arguments(surrogate, seed, tip_offset_mm=tip_offset_mm, spread_mm=spread_mm)
    weights = jnp.asarray(np.random.default_rng(seed + 10).normal(size=4000), jnp.float32)
    np.testing.assert_array_equal(
        kernel.probe_potential(*args), kernel.probe_potential_reference(*args)
    )
    custom = jax.jit(jax.grad(_loss(kernel.probe_potential, weights), argnums=ARGNUMS))(*args)
    plain = jax.jit(jax.grad(_loss(kernel.probe_potential_reference, weights), argnums=ARGNUMS))(
        *args
    )
    for name, mine, reference in zip(NAMES, custom, plain, strict=True):
        scale = float(np.max(np.abs(reference)))
        assert scale > 0, name
        np.testing.assert_allclose(mine, reference, rtol=0, atol=1e-4 * scale, err_msg=name)


def test_gradient_of_some_inputs_only(surrogate):
    """The backward pass computes only what the differentiated inputs need (symbolic zeros)."""
    args = _arguments(surrogate, 3)
    weights = jnp.ones(4000, jnp.float32)
    for argnums in ((1,), (3,), (2, 4)):
        mine = jax.grad(_loss(kernel.probe_potential, weights), argnums=argnums)(*args)
        plain = jax.grad(_loss(kernel.probe_potential_reference, weights), argnums=argnums)(*args)
        for m, p in zip(mine, plain, strict=True):
            np.testing.assert_allclose(m, p, rtol=0, atol=1e-4 * float(np.max(np.abs(p))))


def test_gradient_matches_central_differences_in_float64(surrogate):
    """Directional derivatives along random directions of all inputs at once, in float64
    (central differences, h = 1e-6, agree to 1e-6 relative away from selection changes)."""
    with jax.enable_x64(True):
        args = [jnp.asarray(a, jnp.float64) for a in _arguments(surrogate, 4, spread_mm=20.0)]
        weights = jnp.asarray(np.random.default_rng(5).normal(size=4000))
        loss = _loss(kernel.probe_potential, weights)
        grads = jax.grad(loss, argnums=ARGNUMS)(*args)
        rng = np.random.default_rng(6)
        for _ in range(3):
            direction = [jnp.asarray(rng.normal(size=np.shape(args[i]))) for i in ARGNUMS]

            def moved(h, direction=direction):
                shifted = list(args)
                for i, d in zip(ARGNUMS, direction, strict=True):
                    shifted[i] = args[i] + h * d
                return float(loss(*shifted))

            h = 1e-6
            numeric = (moved(h) - moved(-h)) / (2 * h)
            analytic = sum(float(jnp.sum(g * d)) for g, d in zip(grads, direction, strict=True))
            assert abs(numeric) > 1e-3
            assert analytic == pytest.approx(numeric, rel=1e-6)


def test_vmap_of_the_gradient_is_the_gradient_of_each(surrogate):
    args = _arguments(surrogate, 7)
    tips = jnp.asarray(np.random.default_rng(8).uniform(-4, 4, (5, 3)), jnp.float32)
    weights = jnp.ones(4000, jnp.float32)

    def tip_gradient(tip):
        loss = _loss(kernel.probe_potential, weights)
        return jax.grad(loss, argnums=1)(args[0], tip, *args[2:])

    together = jax.jit(jax.vmap(tip_gradient))(tips)
    for i in range(len(tips)):
        alone = tip_gradient(tips[i])
        # Sums over 4,000 points in another order (float32): 1e-5 of the largest component.
        scale = float(np.max(np.abs(alone)))
        np.testing.assert_allclose(together[i], alone, rtol=0, atol=1e-5 * scale)


def test_elementary_reciprocals_are_float32_accurate():
    x = jnp.asarray(np.geomspace(1e-6, 1e6, 20001), jnp.float32)
    exact = 1.0 / np.asarray(x, np.float64)
    np.testing.assert_allclose(kernel._reciprocal(x), exact, rtol=4e-7)
    np.testing.assert_allclose(kernel._rsqrt(x), np.sqrt(exact), rtol=4e-7)
