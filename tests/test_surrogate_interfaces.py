"""Interface-aware surrogate (issue #5): uniform media unchanged, interfaces mixed, jit/grad."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optiprobe.anatomy.grid import Grid
from optiprobe.surrogate.interfaces import interface_query, interface_temperature
from optiprobe.surrogate.model import ProbeSet, load_surrogate, volume_query

GRID = Grid(origin_mm=(-20.0, -20.0, -2.0), spacing_mm=(1.0, 1.0, 1.0), shape=(41, 41, 45))
MODES = [("point", {}), ("path", {"sigma_mm": 1.0, "path_mm": 8.0}), ("coldest", {})]


@pytest.fixture(scope="module")
def surrogate():
    return load_surrogate()


def _volume(bone_from_x_mm: float | None):
    """Bowel (a perfused, "lytic" class), with cancellous bone where x >= ``bone_from_x_mm``
    (None: all bowel): the rectum-next-to-bone geometry of the held-out misses."""
    index = np.zeros(GRID.shape, np.uint8)
    if bone_from_x_mm is not None:
        x = GRID.lower_mm[0] + np.arange(GRID.shape[0]) * GRID.spacing_mm[0]
        index[x >= bone_from_x_mm] = 1
    return SimpleNamespace(
        grid=GRID, tissue_names=("bowel", "cancellous_bone"), tissue_index=index
    )


def _probes(surrogate, tips, freeze=(10.0, 10.0)):
    tips = np.asarray(tips, np.float32).reshape(-1, 3)
    n = len(tips)
    return ProbeSet(
        tips_mm=jnp.asarray(tips),
        entries_mm=jnp.asarray(tips + np.array([0.0, 0.0, 80.0], np.float32)),
        freeze_min=jnp.asarray(np.tile(np.asarray(freeze, np.float32), (n, 1))),
        model=jnp.full(n, surrogate.model_index("cryo-1.7mm"), jnp.int32),
        present=jnp.ones(n, jnp.float32),
    )


@pytest.mark.parametrize("mode, params", MODES)
def test_in_a_uniform_medium_it_is_the_plain_surrogate(surrogate, mode, params):
    volume = _volume(None)
    probes = _probes(surrogate, [[-4.0, 0.0, 0.0], [5.0, 3.0, 1.0]])
    plain = np.asarray(surrogate.temperature(probes, volume_query(volume, surrogate)))
    query = interface_query(volume, surrogate, mode=mode, **params)
    mixed = np.asarray(interface_temperature(surrogate, probes, query))
    assert plain.min() < -80  # the comparison covers frozen and warm points
    np.testing.assert_allclose(mixed, plain, atol=1e-3)


@pytest.mark.parametrize("mode, params", MODES)
def test_a_bowel_point_next_to_frozen_bone_is_colder_than_the_plain_surrogate(
    surrogate, mode, params
):
    """A probe in bone (x ≥ 0); bowel points just across the interface are cooled through it."""
    volume = _volume(0.0)
    probes = _probes(surrogate, [[8.0, 0.0, 0.0]])
    plain = np.asarray(surrogate.temperature(probes, volume_query(volume, surrogate)))
    query = interface_query(volume, surrogate, mode=mode, **params)
    mixed = np.asarray(interface_temperature(surrogate, probes, query))
    plain, mixed = plain.reshape(GRID.shape), mixed.reshape(GRID.shape)
    centre = (slice(None), 20, 22)  # the line y = 0, z = 20 mm through the active zone
    x = GRID.lower_mm[0] + np.arange(GRID.shape[0])
    soft_near = (x >= -2.0) & (x < 0.0)
    assert np.all(mixed[centre][soft_near] < plain[centre][soft_near] - 1.0)
    far = (x <= -14.0) | (x >= 16.0)  # no other class within reach: unchanged
    np.testing.assert_allclose(mixed[centre][far], plain[centre][far], atol=1e-3)


@pytest.mark.parametrize("mode, params", MODES)
def test_jit_vmap_and_gradients_work(surrogate, mode, params):
    volume = _volume(0.0)
    mask = np.zeros(GRID.shape, bool)
    mask[10:30:2, 10:30:2, 12:36:3] = True
    query = interface_query(volume, surrogate, mask, mode=mode, **params)
    probes = _probes(surrogate, [[6.2, 0.3, 0.1], [-5.7, -0.4, 0.2]], freeze=(8.0, 9.0))

    def score(tips):
        moved = dataclasses.replace(probes, tips_mm=tips)
        t = interface_temperature(surrogate, moved, query)
        return jnp.mean(jax.nn.sigmoid((-20.0 - t) / 4.0))

    eager = interface_temperature(surrogate, probes, query)
    compiled = jax.jit(interface_temperature, static_argnums=0)(surrogate, probes, query)
    np.testing.assert_allclose(compiled, eager, atol=1e-3)
    batch = jax.tree_util.tree_map(lambda a: jnp.stack([a, a]), probes)
    batched = jax.vmap(interface_temperature, in_axes=(None, 0, None))(surrogate, batch, query)
    np.testing.assert_allclose(batched[1], eager, atol=1e-3)
    grad = jax.grad(score)(probes.tips_mm)
    h, at = 0.05, (0, 0)
    plus = score(probes.tips_mm.at[at].add(h))
    minus = score(probes.tips_mm.at[at].add(-h))
    numeric = float(plus - minus) / (2 * h)
    assert abs(numeric) > 1e-5
    assert float(grad[at]) == pytest.approx(numeric, rel=0.05)


def test_the_coldest_class_bounds_the_mixture_from_below(surrogate):
    """The "coldest" mode is a conservative bound for structure limits: over the same classes
    (shares of at least MIN_WEIGHT) never warmer than the point mixture (σ 5 mm), and colder
    than it where bone lies around a bowel point."""
    from optiprobe.surrogate.interfaces import MIN_WEIGHT

    volume = _volume(0.0)
    probes = _probes(surrogate, [[8.0, 0.0, 0.0]])
    mixed = interface_query(volume, surrogate, mode="point")
    coldest = interface_query(volume, surrogate, mode="coldest", min_share=MIN_WEIGHT)
    t_mixed = np.asarray(interface_temperature(surrogate, probes, mixed)).reshape(GRID.shape)
    t_cold = np.asarray(interface_temperature(surrogate, probes, coldest)).reshape(GRID.shape)
    assert np.all(t_cold <= t_mixed + 1e-3)
    x = GRID.lower_mm[0] + np.arange(GRID.shape[0])
    near = (x >= -3.0) & (x < 0.0)  # bowel within 3 mm of the bone
    assert np.all(t_cold[near, 20, 22] < t_mixed[near, 20, 22] - 1.0)


def test_bad_options_are_refused(surrogate):
    with pytest.raises(ValueError, match="mode"):
        interface_query(_volume(None), surrogate, mode="nearest")
    with pytest.raises(ValueError, match="sigma_mm"):
        interface_query(_volume(None), surrogate, sigma_mm=0.0)
    with pytest.raises(ValueError, match="min_share"):
        interface_query(_volume(None), surrogate, mode="coldest", min_share=0.0)
