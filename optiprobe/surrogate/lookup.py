"""T(V): the inverse of a medium's potential table, evaluated without a search.

:class:`InverseTable` evaluates ``jnp.interp(v, V_grid, T_grid)`` exactly (same segment, same
formula, same float32 result) with a uniform bucket index in place of the binary search, which
on the CPU ran as a loop of gathers over the whole array. It works under ``jax.jit``,
``jax.vmap`` and ``jax.grad``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["InverseTable"]


class InverseTable:
    """``T(V)``: ``jnp.interp(v, potentials, temperatures)`` with a bucket index.

    ``potentials`` (G,) ascending, ``temperatures`` (G,). The buckets are as wide as the
    smallest step of ``potentials``, so a point's segment is found from its bucket's first
    candidate and a few comparisons (no binary search); the interpolation formula and its
    float32 inputs are those of ``jnp.interp``, so the result is the same to the bit. Its
    derivative is the segment's slope, read from a table in the same pass (``jax.custom_jvp``)
    rather than differentiated through the lookup.
    """

    def __init__(self, potentials, temperatures):
        xp = np.asarray(potentials, np.float32)
        fp = np.asarray(temperatures, np.float32)
        gaps = np.diff(xp.astype(np.float64))
        if np.any(gaps < 0):
            raise ValueError("potentials must be ascending")
        self.width = float(np.min(gaps[gaps > 0]))
        self.origin = float(xp[0])
        buckets = int(np.ceil((float(xp[-1]) - self.origin) / self.width)) + 2
        # Bucket b covers [origin + b·width, origin + (b+1)·width); a rounding of v/width may
        # put v one bucket off, so candidates start one bucket lower and end one higher.
        lower = self.origin + (np.arange(buckets) - 1) * self.width
        upper = self.origin + (np.arange(buckets) + 2) * self.width
        self.first = np.searchsorted(xp, lower, side="right").astype(np.int32)
        self.candidates = int(np.max(np.searchsorted(xp, upper, side="right") - self.first))
        self.xp_padded = np.concatenate([xp, np.full(self.candidates, np.inf, np.float32)])
        index = np.clip(np.arange(len(xp)), 1, len(xp) - 1)
        step = xp[index] - xp[index - 1]
        flat = np.abs(step) <= np.spacing(np.finfo(np.float32).eps)
        self.x_left = xp[index - 1]
        self.step = np.where(flat, np.float32(1), step).astype(np.float32)
        self.f_left = fp[index - 1]
        self.f_step = np.where(flat, np.float32(0), fp[index] - fp[index - 1]).astype(np.float32)
        self.ends = (float(xp[0]), float(fp[0]), float(xp[-1]), float(fp[-1]))
        self.slope = (self.f_step / self.step).astype(np.float32)
        self._call = jax.custom_jvp(lambda v: self._lookup(v)[0])
        self._call.defjvp(self._tangent)

    def __call__(self, v: jax.Array) -> jax.Array:
        """T at potentials ``v`` (any shape)."""
        return self._call(v)

    def _tangent(self, primals, tangents):
        (v,), (dv,) = primals, tangents
        t, slope = self._lookup(v)
        return t, slope * dv

    def _lookup(self, v):
        """T at ``v`` and dT/dV there (0 outside the table, where T is held constant)."""
        bucket = jnp.floor((v - self.origin) / self.width)
        bucket = jnp.clip(bucket, 0, len(self.first) - 1).astype(jnp.int32)
        first = jnp.asarray(self.first)[bucket]
        xp = jnp.asarray(self.xp_padded)
        index = first
        for m in range(self.candidates):
            index = index + (v >= xp[first + m]).astype(jnp.int32)
        index = jnp.clip(index, 1, len(self.x_left) - 1)
        x_left = jnp.asarray(self.x_left)[index]
        step = jnp.asarray(self.step)[index]
        f_left = jnp.asarray(self.f_left)[index]
        f_step = jnp.asarray(self.f_step)[index]
        t = f_left + ((v - x_left) / step) * f_step
        x_first, f_first, x_last, f_last = self.ends
        outside = (v < x_first) | (v > x_last)
        slope = jnp.where(outside, 0.0, jnp.asarray(self.slope)[index])
        t = jnp.where(v < x_first, f_first, t)
        return jnp.where(v > x_last, f_last, t), slope
