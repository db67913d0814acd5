"""Cryoprobes as smooth, conservative surface heat sinks on the voxel grid (sub-voxel).

Each probe's active zone (from ``tip_offset`` to ``tip_offset + active_length`` behind the tip) is
sampled on its *surface*: rings of points at the probe radius along the zone. A surface point
exchanges heat with the voxels around it through quadratic B-spline weights (27 voxels, weights
sum to 1, continuously differentiable in the point's position): it reads the interpolated tissue
temperature and returns the heat it extracts to the same voxels with the same weights, so energy
is conserved and the source changes smoothly when a tip moves by a fraction of a voxel (the
immersed-boundary idea of Peskin, Acta Numerica 2002).

The heat a point extracts is ``h A (T_tissue − T_probe)`` with a stiff surface heat-transfer
coefficient ``h`` (:data:`SURFACE_HTC_W_M2K`), so the surface behaves as the prescribed
temperature; sampling the surface rather than the axis puts the cold boundary at the physical
radius (an axis-only sink acted like a thinner probe: 13–20 % short of the exact steady frozen
radius, see ``docs/solver.md``). The probe's own parameters are its surface temperature, cool-down
ramp and optional power cap.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["ProbeArrays", "bspline_stencil", "make_probe_source", "sample_points"]

# Heat-transfer coefficient between the probe surface and the tissue it touches (W/m²/K). Large,
# so the surface behaves as the prescribed temperature; the exponential limiter keeps it stable.
SURFACE_HTC_W_M2K = 2.0e4


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class ProbeArrays:
    """Probes as arrays (positions in grid-index coordinates, everything else SI).

    Attributes
    ----------
    tips, entries : (n, 3) float
        Tip and skin-entry points in continuous voxel-index coordinates.
    radius_m, tip_offset_m, active_length_m : (n,) float
        Probe geometry.
    surface_c, ramp_s : (n,) float
        Effective active-surface temperature (°C) and its cool-down time (s).
    freeze_windows_s : (n, f, 2) float
        Start and end (s) of each probe's f freeze periods.
    thaw_windows_s : (a, 2) float
        Start and end (s) of active-thaw periods (all probes heated), possibly a = 0.
    thaw_surface_c : float
        Surface temperature during active thaw (°C).
    max_power_w : (n,) float or None
        Cap on the heat each probe extracts (W); ``inf`` for none. Joule–Thomson probes are
        limited by the cryogen's cooling power, so a probe in warm tissue cannot hold its
        surface temperature while one inside merged ice (less load) runs colder.
    """

    tips: jax.Array
    entries: jax.Array
    radius_m: jax.Array
    tip_offset_m: jax.Array
    active_length_m: jax.Array
    surface_c: jax.Array
    ramp_s: jax.Array
    freeze_windows_s: jax.Array
    thaw_windows_s: jax.Array
    thaw_surface_c: jax.Array
    max_power_w: jax.Array | None = None


def sample_points(probes: ProbeArrays, spacing_m: jax.Array, n_samples: int, n_ring: int):
    """Points on each probe's active surface (index coordinates) and their areas (m²).

    ``n_samples`` rings along the active zone, ``n_ring`` points around each ring at the probe
    radius: shapes (n, M·R, 3) and (n, 1).
    """
    spacing_m = jnp.asarray(spacing_m)
    axis_m = (probes.entries - probes.tips) * spacing_m
    unit = axis_m / jnp.linalg.norm(axis_m, axis=-1, keepdims=True)  # (n, 3)
    helper = jnp.where(jnp.abs(unit[:, :1]) < 0.9, jnp.array([1.0, 0, 0]), jnp.array([0, 1.0, 0]))
    e1 = jnp.cross(unit, helper)
    e1 = e1 / jnp.linalg.norm(e1, axis=-1, keepdims=True)
    e2 = jnp.cross(unit, e1)
    fractions = (jnp.arange(n_samples) + 0.5) / n_samples
    along = probes.tip_offset_m[:, None] + fractions[None, :] * probes.active_length_m[:, None]
    angles = 2.0 * jnp.pi * (jnp.arange(n_ring) + 0.5) / n_ring
    ring = jnp.cos(angles)[:, None, None] * e1 + jnp.sin(angles)[:, None, None] * e2  # (R, n, 3)
    ring = jnp.moveaxis(ring, 0, 1) * probes.radius_m[:, None, None]  # (n, R, 3) metres
    offsets_m = along[:, :, None, None] * unit[:, None, None, :] + ring[:, None, :, :]
    points = probes.tips[:, None, None, :] + offsets_m / spacing_m
    area = 2.0 * jnp.pi * probes.radius_m * probes.active_length_m / (n_samples * n_ring)
    return points.reshape(points.shape[0], -1, 3), area[:, None]


def bspline_stencil(points: jax.Array, shape: tuple[int, int, int]):
    """Indices (..., 27, 3) and weights (..., 27) of the quadratic B-spline around ``points``.

    Weights of voxels outside the grid are zero; ``inside`` (...) says whether the whole stencil
    lies inside.
    """
    nearest = jnp.round(points)
    d = points - nearest
    w1 = jnp.stack([0.5 * (0.5 - d) ** 2, 0.75 - d**2, 0.5 * (0.5 + d) ** 2], axis=-1)
    offsets = jnp.asarray(np.stack(np.meshgrid(*[np.arange(-1, 2)] * 3, indexing="ij"), -1))
    offsets = offsets.reshape(27, 3)
    index = nearest.astype(jnp.int32)[..., None, :] + offsets
    weight = (
        w1[..., 0, offsets[:, 0] + 1]
        * w1[..., 1, offsets[:, 1] + 1]
        * w1[..., 2, offsets[:, 2] + 1]
    )
    upper = jnp.asarray(shape) - 1
    valid = jnp.all((index >= 0) & (index <= upper), axis=-1)
    inside = jnp.all(valid, axis=-1)
    return jnp.clip(index, 0, upper), jnp.where(valid, weight, 0.0), inside


def _window(time_s, start, end, width_s):
    """Smooth indicator of start <= t <= end (logistic edges of ``width_s``)."""
    return jax.nn.sigmoid((time_s - start) / width_s) * jax.nn.sigmoid((end - time_s) / width_s)


def probe_state(probes: ProbeArrays, time_s, *, body_c: float, width_s: float):
    """Per probe: how much it is on (0..1) and its surface temperature (°C) at ``time_s``."""
    starts = probes.freeze_windows_s[..., 0]
    freezing = _window(time_s, starts, probes.freeze_windows_s[..., 1], width_s)  # (n, f)
    elapsed = jnp.clip(time_s - starts, 0.0, None) / jnp.maximum(probes.ramp_s[:, None], 1e-6)
    cooling = body_c + (probes.surface_c[:, None] - body_c) * jnp.clip(elapsed, 0.0, 1.0)
    on_freeze = jnp.sum(freezing, axis=-1)
    t_freeze = jnp.sum(freezing * cooling, axis=-1) / jnp.maximum(on_freeze, 1e-12)
    thaw = _window(time_s, probes.thaw_windows_s[:, 0], probes.thaw_windows_s[:, 1], width_s)
    on_thaw = jnp.sum(thaw) * jnp.ones_like(on_freeze)
    on = on_freeze + on_thaw
    surface = (on_freeze * t_freeze + on_thaw * probes.thaw_surface_c) / jnp.maximum(on, 1e-12)
    return jnp.clip(on, 0.0, 1.0), surface


def _power_cap(extracted: jax.Array, max_power_w: jax.Array) -> jax.Array:
    """Smooth factor min(1, P_max / P) per probe (a p-norm soft minimum, p = 8, differentiable)."""
    demand = jnp.maximum(jnp.sum(extracted, axis=-1), 0.0)
    ratio = demand / max_power_w
    return (1.0 + ratio**8) ** (-1.0 / 8.0)


def make_probe_source(
    probes: ProbeArrays,
    capacity_fn,
    *,
    shape: tuple[int, int, int],
    spacing_m: tuple[float, float, float],
    n_samples: int,
    body_c: float,
    switch_width_s: float,
    dt_s: float,
    n_ring: int = 8,
    surface_htc: float = SURFACE_HTC_W_M2K,
):
    """Return ``source(temperature, time) -> W/m³`` for the probes, and whether all are inside.

    ``capacity_fn(T) -> J/m³/K`` gives the heat capacity the exchange limiter uses. The exchange is
    integrated exactly over a step of ``dt_s`` for a neighbourhood relaxing at rate
    λ = Σ h A w / (C V): the heat returned is ``h A ΔT (1 − e^{−λ dt}) / (λ dt)``, which equals
    the explicit flux when λ dt is small and never overshoots the probe temperature when it is
    large, so the conductance does not limit the time step. Geometry is evaluated once.
    """
    spacing = jnp.asarray(spacing_m)
    voxel_volume = float(np.prod(spacing_m))
    size = int(np.prod(shape))
    points, area = sample_points(probes, spacing, n_samples, n_ring)
    index, weight, inside = bspline_stencil(points, shape)
    flat = jnp.ravel_multi_index(tuple(jnp.moveaxis(index, -1, 0)), shape, mode="clip")

    def scatter(values: jax.Array) -> jax.Array:
        return jnp.zeros(size, values.dtype).at[flat.reshape(-1)].add(values)

    def source(temperature_c: jax.Array, time_s: jax.Array) -> jax.Array:
        on, surface = probe_state(probes, time_s, body_c=body_c, width_s=switch_width_s)
        t_flat = temperature_c.reshape(-1)
        t_sample = jnp.sum(weight * t_flat[flat], axis=-1)  # (n, M)
        conductance = on[:, None] * surface_htc * area  # W/K per surface point
        # Rate at which all samples together pull each voxel, seen from each sample's stencil.
        pull = scatter((weight * conductance[..., None]).reshape(-1))
        capacity = capacity_fn(temperature_c).reshape(-1) * voxel_volume  # J/K
        x = jnp.sum(weight * (pull / capacity)[flat], axis=-1) * dt_s
        limiter = jnp.where(x > 1e-4, -jnp.expm1(-x) / jnp.maximum(x, 1e-4), 1.0 - 0.5 * x)
        extracted = conductance * (t_sample - surface[:, None]) * limiter  # W
        if probes.max_power_w is not None:
            extracted = extracted * _power_cap(extracted, probes.max_power_w)[:, None]
        heat = scatter(-(weight * extracted[..., None]).reshape(-1)) / voxel_volume
        return heat.reshape(temperature_c.shape)

    return source, jnp.all(inside)
