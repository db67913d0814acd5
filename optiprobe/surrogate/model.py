"""The surrogate: minimum temperature at query points for a set of probes, in JAX.

For each probe and each query point the single-probe *cold potential* V is read from the fitted
isotherm shells of the probe's model, the point's medium class and the probe's equivalent freeze
time; potentials of all probes add, are capped at the probe surface's, and the point's medium
turns the total back into a temperature (see docs/surrogate.md for the physics and the
measured accuracy). Everything is a pure function of arrays: ``jax.jit``, ``jax.vmap`` over a
batch of plans and ``jax.grad`` with respect to tips, entries and freeze durations all work.

Loading checks the artefact's fingerprint against the current solver code, tissue table and
probe catalogue and refuses a stale surrogate (:class:`StaleSurrogateError`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from optiprobe.errors import OptiprobeError
from optiprobe.surrogate import medium as med
from optiprobe.surrogate.fingerprint import fingerprint
from optiprobe.surrogate.kernel import probe_potential
from optiprobe.surrogate.lookup import InverseTable

__all__ = [
    "MediumField",
    "ProbeSet",
    "Query",
    "StaleSurrogateError",
    "Surrogate",
    "load_surrogate",
    "make_query",
    "medium_field",
    "probe_media",
    "probe_set",
    "volume_query",
]

ARTEFACT = Path(__file__).resolve().parent / "data" / "surrogate.npz"
# The potential is capped (smoothly) at that of this temperature: tissue cannot get colder than
# the probe surface (−145 °C for the argon probes).
DEFAULT_GAMMA = 0.65
COLDEST_C = -145.0


class StaleSurrogateError(OptiprobeError):
    """The surrogate was calibrated on another solver, tissue table, catalogue or class mapping."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class ProbeSet:
    """Probes of one plan (or, with leading batch axes, of many).

    Attributes
    ----------
    tips_mm, entries_mm : (n, 3)
        Tip and entry points (LPS, mm).
    freeze_min : (n, c)
        Freeze duration of each probe in each of the protocol's c freeze cycles (min).
    model : (n,) int32
        Index into :attr:`Surrogate.models`.
    present : (n,) float
        1 for a probe, 0 for padding (so plans with different probe counts batch together).
    media : (n, C) float or None
        Weights of the medium classes around each probe (:func:`probe_media`); the ice grows
        through them. ``None`` uses, for every query point, the point's own medium.
    """

    tips_mm: jax.Array
    entries_mm: jax.Array
    freeze_min: jax.Array
    model: jax.Array
    present: jax.Array
    media: jax.Array | None = None


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Query:
    """Query points grouped by medium class (static groups, so no gathers in the inner loop).

    ``points_mm`` (3, q) holds the points sorted by medium; ``groups`` is a static tuple of
    (medium index, start, stop); ``order`` maps back: ``sorted[order]`` is the original order.
    """

    points_mm: jax.Array
    order: jax.Array
    groups: tuple = field(default=(), metadata={"static": True})


def make_query(points_mm: np.ndarray, tissues: list[str] | np.ndarray, surrogate: Surrogate):
    """A :class:`Query` for ``points_mm`` (q, 3) whose tissues are named in ``tissues``."""
    points_mm = np.asarray(points_mm, dtype=np.float32).reshape(-1, 3)
    medium = np.array([surrogate.medium_index(med.medium_of(str(t))) for t in tissues])
    if len(medium) != len(points_mm):
        raise ValueError("one tissue per query point is needed")
    permutation = np.argsort(medium, kind="stable")
    groups = []
    sorted_medium = medium[permutation]
    for c in np.unique(sorted_medium):
        where = np.nonzero(sorted_medium == c)[0]
        groups.append((int(c), int(where[0]), int(where[-1]) + 1))
    order = np.empty_like(permutation)
    order[permutation] = np.arange(len(permutation))
    return Query(
        points_mm=jnp.asarray(points_mm[permutation].T),
        order=jnp.asarray(order),
        groups=tuple(groups),
    )


def _stale_parts(data, stored: dict) -> list[str]:
    """What differs between the artefact's calibration and the running code: fingerprint parts
    (solver modules, tissue table, probe catalogue) and tissues mapped to another class."""
    current = fingerprint()
    changed = sorted(k for k in current if k != "total" and current[k] != stored.get(k))
    mapped = json.loads(str(data["tissue_media"])) if "tissue_media" in data else {}
    now = med.TISSUE_MEDIUM
    moved = sorted(t for t in set(mapped) | set(now) if mapped.get(t) != now.get(t))
    return changed + [f"medium class of {t}" for t in moved]


class Surrogate:
    """Fitted isotherm shells and the rule that combines probes (see the module docstring)."""

    def __init__(self, data: dict, *, check: bool = True):
        stored = json.loads(str(data["fingerprint"]))
        changed = _stale_parts(data, stored) if check else []
        if changed:
            raise StaleSurrogateError(
                "the surrogate was calibrated on a different solver, tissue table, probe "
                f"catalogue or tissue-to-class mapping (changed: {', '.join(changed)})",
                allowed="re-run `uv run python -m optiprobe.surrogate.calibrate`",
            )
        self.fingerprint = stored
        self.models = tuple(str(m) for m in data["models"])
        self.media = tuple(str(m) for m in data["media"])
        tissues = tuple(str(t) for t in data["media_tissues"])
        self.table_tissues = tissues
        self.gamma = np.broadcast_to(
            np.asarray(data.get("gamma", DEFAULT_GAMMA), dtype=float),
            (len(self.media),),
        ).copy()
        self.table = med.MediumTable(dict(zip(self.media, tissues, strict=True)), self.gamma)
        self.knots = jnp.asarray(data["knots_min"])
        self.levels_c = np.asarray(data["levels_c"], dtype=np.float64)
        self.shapes = jnp.asarray(data["shapes"])  # (M, C, K, L, 4)
        self.radii = jnp.asarray(data["radii_mm"])  # (M, C, K, L)
        # [z_lo, z_hi, s_lo, s_hi, R] per level, as the kernel takes them: (M, C, K, L, 5)
        self._parameters = jnp.concatenate([self.shapes, self.radii[..., None]], axis=-1)
        self.beta = jnp.asarray(data["beta"])  # (M, C)
        from optiprobe.probes import CATALOGUE

        self.active_middle_mm = np.array(
            [CATALOGUE[m].active_middle_mm for m in self.models],
            np.float32,
        )
        self._set_potentials()

    def _set_potentials(self) -> None:
        media = range(len(self.media))
        self.v_levels = np.array(
            [self.table.potential(self.levels_c, c) for c in media], np.float32
        )  # (C, L)
        self.v_cap = np.array([self.table.potential(COLDEST_C, c) for c in media], np.float32)
        # T(V) per medium: the table's inverse, evaluated like jnp.interp but without a search.
        self._inverse = [
            InverseTable(self.table.potential_grid[c][::-1], med._GRID_C[::-1]) for c in media
        ]

    def with_gamma(self, gamma) -> Surrogate:
        """A copy combining probes with another γ, one or per medium (used by calibration)."""
        other = object.__new__(Surrogate)
        other.__dict__.update(self.__dict__)
        other.gamma = np.broadcast_to(np.asarray(gamma, float), (len(self.media),)).copy()
        names = dict(zip(self.media, self.table_tissues, strict=True))
        other.table = med.MediumTable(names, other.gamma)
        other._set_potentials()
        return other

    # -- lookups ------------------------------------------------------------------------------

    def model_index(self, name: str) -> int:
        if name not in self.models:
            raise OptiprobeError(
                f"the surrogate has no calibration for probe model {name!r}",
                allowed=", ".join(self.models) + " (user-defined models need the full solver)",
            )
        return self.models.index(name)

    def medium_index(self, name: str) -> int:
        return self.media.index(name)

    # -- the model ----------------------------------------------------------------------------

    def _weights(self, probes: ProbeSet, medium: int) -> jax.Array:
        """Medium weights (n, C) whose shells each probe uses: its own neighbourhood's when the
        probe set carries them, else the query point's medium."""
        if probes.media is None:
            return jax.nn.one_hot(
                jnp.zeros(probes.model.shape, jnp.int32) + medium, len(self.media)
            )
        return probes.media

    def equivalent_minutes(self, probes: ProbeSet, medium: int) -> jax.Array:
        """Single-freeze time (min) with the same minimum-temperature field, per probe.

        Cycle k reaches ``d_k + β · (d_1 + … + d_{k−1})``: the earlier cycles pre-cool the
        tissue it starts from, worth β of their time. The minimum over the protocol is the
        coldest of the cycles, so t_eq is the largest of these. The first cycle starts from
        body temperature, so a protocol is never warmer than a single freeze of its longest
        cycle: a 15-3 min protocol reaches the 15 min single freeze's isotherms (solver,
        docs/surrogate.md), where ``last + β · earlier`` alone said 10.2 min.
        """
        beta = jnp.sum(self.beta[probes.model] * self._weights(probes, medium), axis=-1)
        durations = probes.freeze_min
        earlier = jnp.cumsum(durations, axis=1) - durations
        return jnp.max(durations + beta[:, None] * earlier, axis=1)

    def _knots(self, probes: ProbeSet, medium: int):
        """Per probe: the weight (n,) between the knots bracketing its equivalent freeze time,
        and the shell parameters (n, C, L, 5) of every medium class at those two knots."""
        t = jnp.clip(self.equivalent_minutes(probes, medium), self.knots[0], self.knots[-1])
        j = jnp.clip(jnp.searchsorted(self.knots, t) - 1, 0, len(self.knots) - 2)
        weight = (t - self.knots[j]) / (self.knots[j + 1] - self.knots[j])
        table = self._parameters[probes.model]  # (n, C, K, L, 5)
        index = j.reshape((-1, 1, 1, 1, 1))
        lower = jnp.take_along_axis(table, index, axis=2)[:, :, 0]
        upper = jnp.take_along_axis(table, index + 1, axis=2)[:, :, 0]
        return weight, lower, upper

    def potential(self, probes: ProbeSet, points_mm: jax.Array, medium: int) -> jax.Array:
        """Summed cold potential V (°C-equivalent) of all probes at points (3, q) of one medium.

        For one probe, ``f_k = r_k(x) − R_k`` is the point's effective distance outside the
        level-k shell (each level has its own shape). The point lies between the shells where
        ``f`` changes sign, and V is interpolated linearly between those levels' potentials by
        the point's relative position ``f_k / (f_k − f_{k+1})``. On shell k it is exactly
        V_k, whatever the neighbouring shells' shapes. Beyond the warmest shell V falls to 0
        over ``kernel.TAIL_MM``; inside the coldest it stays at that level's potential. The
        per-probe computation and its hand-written gradient are in
        :func:`optiprobe.surrogate.kernel.probe_potential`.
        """
        weight, lower, upper = self._knots(probes, medium)
        media = self._weights(probes, medium)
        v_levels = jnp.asarray(self.v_levels[medium])
        axis = probes.entries_mm - probes.tips_mm
        unit = axis / jnp.linalg.norm(axis, axis=-1, keepdims=True)
        total = jnp.zeros(points_mm.shape[1], points_mm.dtype)
        for i in range(probes.tips_mm.shape[0]):
            total = total + probe_potential(
                points_mm,
                probes.tips_mm[i],
                unit[i],
                weight[i],
                media[i],
                lower[i],
                upper[i],
                v_levels,
                probes.present[i],
            )
        return total

    def summed_potential(self, probes: ProbeSet, query: Query) -> jax.Array:
        """Summed potential V of all probes at each query point (original order), uncapped.

        Potentials add across probes, so the planner can treat them as linear contributions;
        :meth:`temperature` caps the sum and converts it back.
        """
        parts = [
            self.potential(probes, query.points_mm[:, start:stop], medium)
            for medium, start, stop in query.groups
        ]
        return jnp.concatenate(parts)[query.order]

    def query_potential_of(self, t_c: float, query: Query) -> np.ndarray:
        """V(t_c) in each query point's medium (original order), e.g. a limit as a potential."""
        parts = [
            np.full(stop - start, self.table.potential(t_c, medium), np.float32)
            for medium, start, stop in query.groups
        ]
        return np.concatenate(parts)[np.asarray(query.order)]

    def temperature(self, probes: ProbeSet, query: Query) -> jax.Array:
        """Minimum temperature reached (°C) at each query point, in the query's original order."""
        parts = []
        for medium, start, stop in query.groups:
            v = self.potential(probes, query.points_mm[:, start:stop], medium)
            cap = float(self.v_cap[medium])
            # Smooth minimum with the probe surface's potential (softplus over 2 °C).
            v = cap - 2.0 * jax.nn.softplus((cap - v) / 2.0)
            parts.append(self.medium_temperature(v, medium))
        return jnp.concatenate(parts)[query.order]

    def medium_temperature(self, v: jax.Array, medium: int) -> jax.Array:
        """T(V) (°C) in medium ``medium``: ``self.table.temperature(v, medium)`` to the bit,
        with its gradient, but without a binary search (several times faster on the CPU)."""
        return self._inverse[medium](v)


def load_surrogate(path: Path | None = None, *, check: bool = True) -> Surrogate:
    """Load the shipped surrogate (or ``path``); refuse it if it is stale (``check``)."""
    path = ARTEFACT if path is None else Path(path)
    if not path.exists():
        raise OptiprobeError(
            f"no surrogate artefact at {path}",
            allowed="run `uv run python -m optiprobe.surrogate.calibrate` first",
        )
    with np.load(path) as data:
        return Surrogate({key: data[key] for key in data.files}, check=check)


def probe_set(plan, case, surrogate: Surrogate, *, pad_to: int | None = None) -> ProbeSet:
    """The :class:`ProbeSet` of a plan (durations per freeze cycle of the case's protocol).

    ``pad_to`` appends absent probes so that plans of different sizes share one compiled
    program.
    """
    protocol = plan.protocol or case.protocol
    defaults = protocol.freeze_durations_min
    custom = {m.name for m in case.probes.models if not isinstance(m, str)}
    for p in plan.probes:
        if p.model in custom:
            raise OptiprobeError(
                f"probe model {p.model!r} is user-defined; the surrogate only knows the "
                "catalogue models it was calibrated on",
                allowed=", ".join(surrogate.models),
            )
    n = len(plan.probes)
    size = n if pad_to is None else max(pad_to, n)
    tips = np.zeros((size, 3), np.float32)
    entries = np.zeros((size, 3), np.float32)
    entries[:, 2] = 1.0  # a harmless axis for padding
    freeze = np.full((size, len(defaults)), defaults, np.float32)
    model = np.zeros(size, np.int32)
    present = np.zeros(size, np.float32)
    for i, p in enumerate(plan.probes):
        tips[i], entries[i] = p.tip_mm, p.entry_mm
        freeze[i] = p.freeze_min or defaults
        model[i] = surrogate.model_index(p.model)
        present[i] = 1.0
    return ProbeSet(
        tips_mm=jnp.asarray(tips),
        entries_mm=jnp.asarray(entries),
        freeze_min=jnp.asarray(freeze),
        model=jnp.asarray(model),
        present=jnp.asarray(present),
    )


def volume_query(volume, surrogate: Surrogate, mask: np.ndarray | None = None) -> Query:
    """A :class:`Query` of the voxel centres of ``volume`` (all, or those in ``mask``)."""
    index = np.argwhere(np.ones(volume.grid.shape, bool) if mask is None else mask)
    points = volume.grid.lower_mm + index * np.asarray(volume.grid.spacing_mm)
    names = np.array(volume.tissue_names)[volume.tissue_index[tuple(index.T)]]
    return make_query(points, names, surrogate)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class MediumField:
    """Where each medium class is, smoothed: ``fractions`` (C, nx, ny, nz) on a case grid."""

    fractions: jax.Array
    origin_mm: jax.Array
    spacing_mm: jax.Array


# A probe's ice grows through the tissue around its active zone: the medium weights are the
# class fractions smoothed with a Gaussian of this width (mm), read at the active zone's centre.
NEIGHBOURHOOD_SIGMA_MM = 5.0


def medium_field(volume, surrogate: Surrogate, sigma_mm: float = NEIGHBOURHOOD_SIGMA_MM):
    """The smoothed medium-class fractions of a voxelised case."""
    from scipy import ndimage

    classes = np.array(
        [surrogate.medium_index(med.medium_of(name)) for name in volume.tissue_names]
    )[volume.tissue_index]
    sigma = [sigma_mm / s for s in volume.grid.spacing_mm]
    fractions = np.stack(
        [
            ndimage.gaussian_filter((classes == c).astype(np.float32), sigma, mode="nearest")
            for c in range(len(surrogate.media))
        ]
    )
    return MediumField(
        fractions=jnp.asarray(fractions),
        origin_mm=jnp.asarray(volume.grid.lower_mm, jnp.float32),
        spacing_mm=jnp.asarray(volume.grid.spacing_mm, jnp.float32),
    )


def probe_media(probes: ProbeSet, field: MediumField, surrogate: Surrogate) -> ProbeSet:
    """``probes`` with medium weights read at each active zone's centre (differentiable)."""
    from jax.scipy.ndimage import map_coordinates

    axis = probes.entries_mm - probes.tips_mm
    unit = axis / jnp.linalg.norm(axis, axis=-1, keepdims=True)
    middle = jnp.asarray(surrogate.active_middle_mm)[probes.model]
    centre = probes.tips_mm + middle[:, None] * unit
    index = ((centre - field.origin_mm) / field.spacing_mm).T  # (3, n)
    weights = jnp.stack(
        [map_coordinates(f, list(index), order=1, mode="nearest") for f in field.fractions],
        axis=-1,
    )
    weights = weights / jnp.maximum(jnp.sum(weights, axis=-1, keepdims=True), 1e-6)
    return dataclasses.replace(probes, media=weights)
