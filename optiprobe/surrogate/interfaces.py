"""Interface-aware surrogate: each point mixes the predictions of the media around it (issue #5).

The plain surrogate (:meth:`Surrogate.temperature`) reads every query point with its own medium
class's shells, as if all tissue between the point and the probes were of that class. In anatomy
the main error is at interfaces: a point in bowel next to frozen bone is cooled through the bone
but read with the perfused class's small shells (held-out misses of 20-25 °C, docs/surrogate.md).

Here the temperature at a point is a mixture over medium classes,

    T(x) = Σ_c w_c(x) · T_c(x),

where ``T_c`` is the plain surrogate's temperature if all tissue were of class c (summed
potential of class c's shells, capped, read back through class c's table) and ``w_c(x)`` is how
much of class c lies *around* the point (``mode="point"``: class fractions smoothed with a
Gaussian of ``sigma_mm``, fixed per query) or *between* the point and the probes
(``mode="path"``: class fractions averaged along the last ``path_mm`` of the segment from the
point towards the nearest active zone, so they move with the probes). In a uniform medium
both weights are one class and the prediction is exactly the plain surrogate's.

Classes whose weight is below :data:`MIN_WEIGHT` at a point are dropped there (weights are
renormalised), and each class is evaluated only on the points that can carry it: these index
sets are static, so the cost grows with the interface band, not with the number of classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from optiprobe.surrogate import medium as med
from optiprobe.surrogate.model import ProbeSet, Surrogate

__all__ = ["InterfaceQuery", "interface_query", "interface_temperature"]

# A class with less weight than this at a point is not evaluated there.
MIN_WEIGHT = 0.02
MODES = ("point", "path", "coldest")
# "coldest": a class counts at a point when at least this share of it lies around the point.
DEFAULT_COLDEST_SHARE = 0.1
# Chosen on the dev plan set only (results/surrogate/dev_variants.json): lowest structure MAE,
# ties within 0.1 °C broken by the isotherm distances (σ = 3 mm: 4.03 °C; 5 mm: 4.10 °C with
# 0.1 mm closer isotherms; 8 mm: 4.36 °C; the path mode: 4.97-5.39 °C).
DEFAULT_MODE = "point"
DEFAULT_SIGMA_MM = 5.0


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class InterfaceQuery:
    """Query points with what :func:`interface_temperature` needs to mix medium classes.

    Attributes
    ----------
    points_mm : (3, q) float32
        Query points (LPS, mm), in the caller's order.
    own : (q,) int32
        Each point's own medium class.
    members : tuple of (C_i,) int32 arrays
        For each evaluated class (``classes``), the points that may carry its weight.
    slots : (q, S) int32
        For each point, where its S candidate classes' values sit in the concatenation of the
        per-class results (the last slot of the concatenation is a zero for padding).
    slot_class : (q, S) int32
        The class of each slot (index into the surrogate's media; padding: 0).
    slot_weight : (q, S) float32
        Fixed mixing weights (``mode="point"``; zero for padding). Unused for ``"path"``;
        1 for each candidate class in ``"coldest"``.
    fractions : (x, y, z, C) float32 or None
        Class fractions on the case grid, lightly smoothed (``mode="path"`` only).
    origin_mm, spacing_mm : (3,) float32
        The grid of ``fractions``.
    classes : tuple of int (static)
        Medium classes evaluated, one per entry of ``members``.
    mode : str (static)
        ``"point"``, ``"path"`` or ``"coldest"``.
    path_mm : float (static)
        Length of the path segment averaged (``"path"``).
    """

    points_mm: jax.Array
    own: jax.Array
    members: tuple
    slots: jax.Array
    slot_class: jax.Array
    slot_weight: jax.Array
    fractions: jax.Array | None
    origin_mm: jax.Array
    spacing_mm: jax.Array
    classes: tuple = field(default=(), metadata={"static": True})
    mode: str = field(default="point", metadata={"static": True})
    path_mm: float = field(default=8.0, metadata={"static": True})


def _class_grid(volume, surrogate: Surrogate) -> np.ndarray:
    """Each voxel's medium class index (x, y, z) int."""
    classes = np.array(
        [surrogate.medium_index(med.medium_of(name)) for name in volume.tissue_names]
    )
    return classes[volume.tissue_index]


def _smoothed(classes: np.ndarray, count: int, sigma_vox) -> np.ndarray:
    from scipy import ndimage

    out = np.stack(
        [
            ndimage.gaussian_filter((classes == c).astype(np.float32), sigma_vox, mode="nearest")
            for c in range(count)
        ],
        axis=-1,
    )
    return out / np.maximum(out.sum(axis=-1, keepdims=True), 1e-6)


def _reach(classes: np.ndarray, count: int, radius_mm: float, spacing) -> np.ndarray:
    """(x, y, z, C) bool: class c lies within ``radius_mm`` of the voxel."""
    from scipy import ndimage

    return np.stack(
        [
            ndimage.distance_transform_edt(classes != c, sampling=spacing) <= radius_mm
            for c in range(count)
        ],
        axis=-1,
    )


def interface_query(
    volume,
    surrogate: Surrogate,
    mask: np.ndarray | None = None,
    *,
    voxels: np.ndarray | None = None,
    mode: str = DEFAULT_MODE,
    sigma_mm: float = DEFAULT_SIGMA_MM,
    path_mm: float = 8.0,
    min_share: float = DEFAULT_COLDEST_SHARE,
) -> InterfaceQuery:
    """An :class:`InterfaceQuery` of the voxel centres of ``volume`` (all, or those in ``mask``).

    Parameters
    ----------
    volume : Volume
        The voxelised case; its tissues give each voxel's medium class.
    surrogate : Surrogate
        Gives the class of each tissue.
    mask : (x, y, z) bool, optional
        Voxels to query, in C order of their indices (the plain :func:`volume_query` order).
    voxels : (q, 3) int, optional
        Instead of ``mask``: the voxel indices to query, in this order.
    mode : {"point", "path", "coldest"}
        Weights around the point (fixed) or along its path to the nearest probe (moving); or
        no mixing: the coldest of the classes around the point (a conservative bound for
        structure limits, not an estimate).
    sigma_mm : float
        Gaussian width of the class fractions (mm): the mixing width (``"point"``) or the
        smoothing of the fractions sampled along the path (``"path"``).
    path_mm : float
        How much of the path towards the probe is averaged (mm, ``"path"`` only).
    min_share : float
        ``"coldest"`` only: a class is a candidate where its smoothed share around the point
        reaches this (the point's own class always is).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if sigma_mm <= 0 or path_mm <= 0:
        raise ValueError("sigma_mm and path_mm must be > 0 (mm)")
    if not 0 < min_share <= 1:
        raise ValueError("min_share must be in (0, 1]")
    spacing = np.asarray(volume.grid.spacing_mm, dtype=float)
    classes = _class_grid(volume, surrogate)
    count = len(surrogate.media)
    fractions = _smoothed(classes, count, sigma_mm / spacing)
    if voxels is not None:
        index = np.asarray(voxels, dtype=np.int64).reshape(-1, 3)
    else:
        index = np.argwhere(np.ones(volume.grid.shape, bool) if mask is None else mask)
    points = volume.grid.lower_mm + index * spacing
    own = classes[tuple(index.T)]
    if mode == "point":
        weight = fractions[tuple(index.T)]
        weight = np.where(weight >= MIN_WEIGHT, weight, 0.0)
        weight[np.arange(len(own)), own] += weight.sum(axis=1) == 0  # keep the own class
        weight = weight / weight.sum(axis=1, keepdims=True)
        candidate = weight > 0
    elif mode == "coldest":
        candidate = fractions[tuple(index.T)] >= min_share
        candidate[np.arange(len(own)), own] = True
        weight = candidate.astype(np.float32)  # marks the candidates; nothing is mixed
    else:
        # A path of path_mm from the point stays within that distance of it (plus the
        # smoothing), so only classes present there can get weight.
        reach = _reach(classes, count, path_mm + 2 * sigma_mm, spacing)
        candidate = reach[tuple(index.T)]
        candidate[np.arange(len(own)), own] = True
        weight = candidate.astype(np.float32)
    return _assemble(points, own, candidate, weight, fractions, volume.grid, mode, path_mm)


def _assemble(points, own, candidate, weight, fractions, grid, mode, path_mm) -> InterfaceQuery:
    classes = tuple(int(c) for c in np.nonzero(candidate.any(axis=0))[0])
    members, offsets, total = [], {}, 0
    for c in classes:
        where = np.nonzero(candidate[:, c])[0]
        members.append(jnp.asarray(where, jnp.int32))
        offsets[c] = total
        total += len(where)
    width = int(candidate.sum(axis=1).max())
    q = len(points)
    slots = np.full((q, width), total, np.int32)  # `total` is the zero padding slot
    slot_class = np.zeros((q, width), np.int32)
    slot_weight = np.zeros((q, width), np.float32)
    filled = np.zeros(q, np.int64)
    for c in classes:
        where = np.nonzero(candidate[:, c])[0]
        column = filled[where]
        slots[where, column] = offsets[c] + np.arange(len(where))
        slot_class[where, column] = c
        slot_weight[where, column] = weight[where, c]
        filled[where] += 1
    return InterfaceQuery(
        points_mm=jnp.asarray(points.T, jnp.float32),
        own=jnp.asarray(own, jnp.int32),
        members=tuple(members),
        slots=jnp.asarray(slots),
        slot_class=jnp.asarray(slot_class),
        slot_weight=jnp.asarray(slot_weight),
        fractions=jnp.asarray(fractions) if mode == "path" else None,
        origin_mm=jnp.asarray(grid.lower_mm, jnp.float32),
        spacing_mm=jnp.asarray(grid.spacing_mm, jnp.float32),
        classes=classes,
        mode=mode,
        path_mm=float(path_mm),
    )


def _class_temperature(surrogate: Surrogate, probes: ProbeSet, points_mm, medium: int):
    """The plain surrogate's temperature at points (3, m) if all tissue were class ``medium``."""
    v = surrogate.potential(probes, points_mm, medium)
    cap = float(surrogate.v_cap[medium])
    v = cap - 2.0 * jax.nn.softplus((cap - v) / 2.0)  # as in Surrogate.temperature
    return surrogate.medium_temperature(v, medium)


def interface_temperature(
    surrogate: Surrogate, probes: ProbeSet, query: InterfaceQuery
) -> jax.Array:
    """Minimum temperature reached (°C) at each query point, mixing medium classes.

    Parameters
    ----------
    surrogate : Surrogate
        The loaded surrogate (its methods are used as they are).
    probes : ProbeSet
        One plan's probes (vmap over a leading batch axis for many plans).
    query : InterfaceQuery
        From :func:`interface_query`.

    Returns
    -------
    (q,) float32
        °C, in the query's order. jit, vmap and grad (tips, entries, durations) work.
    """
    parts = [
        _class_temperature(surrogate, probes, query.points_mm[:, members], c)
        for c, members in zip(query.classes, query.members, strict=True)
    ]
    values = jnp.concatenate([*parts, jnp.zeros(1, parts[0].dtype)])[query.slots]  # (q, S)
    if query.mode == "coldest":
        return jnp.min(jnp.where(query.slot_weight > 0, values, jnp.inf), axis=1)
    if query.mode == "point":
        weight = query.slot_weight
    else:
        path = _path_fractions(surrogate, probes, query)  # (q, C)
        weight = jnp.take_along_axis(path, query.slot_class, axis=1)
        # Padding slots (slot_weight 0) get nothing; the own class keeps a trace of weight so
        # that a point whose path holds none of its candidates still has a temperature.
        weight = jnp.where(query.slot_weight > 0, weight, 0.0)
        weight = weight + 1e-6 * (query.slot_class == query.own[:, None])
        weight = weight / jnp.sum(weight, axis=1, keepdims=True)
    return jnp.sum(weight * values, axis=1)


# Along the path, the fractions are sampled at this many points, and the nearest probes'
# paths are blended over this distance (mm) so the weights move smoothly with the probes.
PATH_SAMPLES = 6
PROBE_BLEND_MM = 2.0


def _active_segments(surrogate: Surrogate, probes: ProbeSet):
    from optiprobe.probes import CATALOGUE

    start = np.array([CATALOGUE[m].tip_offset_mm for m in surrogate.models], np.float32)
    length = np.array([CATALOGUE[m].active_length_mm for m in surrogate.models], np.float32)
    axis = probes.entries_mm - probes.tips_mm
    unit = axis / jnp.linalg.norm(axis, axis=-1, keepdims=True)
    a = probes.tips_mm + jnp.asarray(start)[probes.model][:, None] * unit
    return a, unit, jnp.asarray(length)[probes.model]


def _trilinear(fractions, origin_mm, spacing_mm, points_mm):
    """Fractions (…, C) at points (3, …) by trilinear interpolation, clamped to the grid."""
    shape = jnp.asarray(fractions.shape[:3])
    u = (points_mm - origin_mm.reshape((3,) + (1,) * (points_mm.ndim - 1))) / spacing_mm.reshape(
        (3,) + (1,) * (points_mm.ndim - 1)
    )
    u = jnp.clip(u, 0.0, (shape - 1).reshape((3,) + (1,) * (u.ndim - 1)).astype(u.dtype))
    base = jnp.minimum(
        jnp.floor(u).astype(jnp.int32), (shape - 2).reshape((3,) + (1,) * (u.ndim - 1))
    )
    t = u - base
    out = 0.0
    for corner in range(8):
        bits = [(corner >> a) & 1 for a in range(3)]
        w = 1.0
        for a in range(3):
            w = w * (t[a] if bits[a] else 1.0 - t[a])
        value = fractions[base[0] + bits[0], base[1] + bits[1], base[2] + bits[2]]
        out = out + w[..., None] * value
    return out


def _path_fractions(surrogate: Surrogate, probes: ProbeSet, query: InterfaceQuery):
    """(q, C): class fractions along the last ``path_mm`` from each point towards its nearest
    active zone, blended over the probes by distance."""
    a, unit, length = _active_segments(surrogate, probes)  # (n, 3), (n, 3), (n,)
    x = query.points_mm  # (3, q)
    d = x[None] - a[:, :, None]  # (n, 3, q)
    s = jnp.clip(jnp.einsum("nk,nkq->nq", unit, d), 0.0, length[:, None])
    nearest = a[:, :, None] + s[:, None] * unit[:, :, None]  # (n, 3, q)
    towards = nearest - x[None]
    distance = jnp.sqrt(jnp.sum(towards * towards, axis=1) + 1e-6)  # (n, q)
    logits = jnp.where(probes.present[:, None] > 0, -distance / PROBE_BLEND_MM, -1e9)
    blend = jax.nn.softmax(logits, axis=0)  # (n, q)
    reach = jnp.minimum(distance, query.path_mm) / distance
    out = 0.0
    for j in range(PATH_SAMPLES):
        t = (j + 0.5) / PATH_SAMPLES
        sample = x[None] + (t * reach)[:, None] * towards  # (n, 3, q)
        values = _trilinear(
            query.fractions, query.origin_mm, query.spacing_mm, jnp.moveaxis(sample, 1, 0)
        )  # (n, q, C)
        out = out + jnp.sum(blend[..., None] * values, axis=0)
    return out / PATH_SAMPLES
