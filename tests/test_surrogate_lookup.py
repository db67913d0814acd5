"""The surrogate's T(V) lookup must be ``jnp.interp`` to the bit (issue #5)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optiprobe.surrogate import medium as med
from optiprobe.surrogate.lookup import InverseTable
from optiprobe.surrogate.model import load_surrogate


@pytest.fixture(scope="module")
def surrogate():
    return load_surrogate()


def test_inverse_table_is_jnp_interp_to_the_bit(surrogate):
    """Values and derivatives, at random potentials, on the table's nodes and outside it."""
    rng = np.random.default_rng(9)
    for medium in range(len(surrogate.media)):
        potentials = surrogate.table.potential_grid[medium][::-1]
        temperatures = med._GRID_C[::-1]
        table = InverseTable(potentials, temperatures)
        xp, fp = jnp.asarray(potentials, jnp.float32), jnp.asarray(temperatures, jnp.float32)
        v = np.concatenate(
            [rng.uniform(-5.0, float(xp[-1]) + 5.0, 50_000), np.asarray(xp), np.asarray(xp) + 1e-3]
        )
        v = jnp.asarray(v, jnp.float32)
        np.testing.assert_array_equal(jax.jit(table)(v), jnp.interp(v, xp, fp))
        np.testing.assert_array_equal(
            jax.jit(jax.vmap(jax.grad(table)))(v),
            jax.vmap(jax.grad(lambda x, xp=xp, fp=fp: jnp.interp(x, xp, fp)))(v),
        )
