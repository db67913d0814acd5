"""The sampled planning problem: what every planner stage after the candidates reads.

Sample points: the tumour, the margin shell ``ice_margin.limit_mm`` outside it, the protected
structures within 30 mm of the tumour, and healthy tissue around the margin (over-freezing).
Every candidate trajectory is an option at up to three freeze-duration levels (0.5×, 1× and
1.5× the protocol's durations, inside ``freeze_bounds_min``); the surrogate gives each option's
cold potential at every point, and each structure's limit (raised by a safety buffer) is
turned into a potential once, shared by CP-SAT, the LP bound and refinement. A few options
per active-zone centre are kept: those that do most on their own, and those that trade what
they do against how much of a structure limit they use best (the shorter and smaller freezes
a plan next to a structure needs).

:func:`build_problem` builds it once per :func:`~optiprobe.planner.pipeline.plan_case`;
:meth:`SampledProblem.select` is the CP-SAT selection on it (with the verification's
per-structure correction, or with some structure limits set aside) and
:meth:`SampledProblem.plan_from` turns a selection into a :class:`~optiprobe.case.Plan`.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from scipy import ndimage

from optiprobe.case import Plan
from optiprobe.case.treatment import IceMarginSpec, TumorCoverageSpec
from optiprobe.planner import objective, subsample
from optiprobe.planner.candidates import Candidates
from optiprobe.planner.pruning import kept_per_centre, structure_load
from optiprobe.planner.select import WORK_LIMIT, Selection, probe_count_bound, select

__all__ = ["STRUCTURE_BUFFER_C", "SampledProblem", "build_problem"]

STRUCTURE_BUFFER_C = 2.0
MAX_POINTS = 250
STRUCTURE_NEAR, STRUCTURE_FAR = 200, 150
CHUNK = 128
_ROLES = ("tumour", "margin", "healthy")  # sample order: then each protected structure


# eq=False: identity hashing, and ``score`` is a jit static argument (see refine).
@dataclass(frozen=True, eq=False)
class SampledProblem:
    """Sample points, option potentials and limits in potential units.

    ``potentials`` is (options, points) float32: the surrogate's cold potential of each kept
    option at each sample point, the points ordered tumour, margin, healthy, then each
    protected structure in ``structures`` order (``roles`` and ``structure_slices`` index
    them). ``limits_v`` maps each structure to its points' limit (+ buffer) as a potential.
    """

    case: object
    surrogate: object
    candidates: Candidates
    levels: list[list[float]]  # freeze durations (min) per level, one per protocol cycle
    coverage: TumorCoverageSpec
    margin: IceMarginSpec
    query: object  # surrogate Query at every sample point
    score: Callable  # ProbeSet -> (points,) summed potential; one object for refine's jit
    need: Callable  # (isotherm °C, slice) -> potential reaching it at those points
    structures: tuple  # the case's protected specs, in sample order
    roles: dict[str, slice]  # "tumour", "margin", "healthy"
    structure_slices: tuple[slice, ...]
    buffers_c: dict[str, float]
    limits_v: dict[str, np.ndarray]
    potentials: np.ndarray
    option_candidate: np.ndarray  # (options,) candidate index
    option_level: np.ndarray  # (options,) level index
    minutes: np.ndarray  # (options,) total freeze time
    overfreeze: np.ndarray  # (options,) summed potential at the healthy points
    surrogate_s: float  # time spent scoring the options

    @property
    def all_limits_v(self) -> np.ndarray:
        """Every structure point's limit potential, in sample order."""
        return np.concatenate(
            [self.limits_v[spec.structure] for spec in self.structures] + [np.zeros(0)]
        )

    @property
    def structure_index(self) -> np.ndarray:
        """Indices of every structure point among the sample points."""
        return np.concatenate(
            [np.arange(sl.start, sl.stop) for sl in self.structure_slices] + [np.zeros(0, int)]
        )

    def keeps_limits(self, chosen, names, scale: dict[str, float]) -> bool:
        """Whether the options ``chosen`` together keep the limits (safety buffer included)
        of the structures ``names`` at every sample point, with the verification's
        per-structure ``scale`` on the surrogate's potential."""
        summed = self.potentials[list(chosen)].sum(axis=0)
        return all(
            np.all(summed[sl] * scale[spec.structure] <= self.limits_v[spec.structure])
            for spec, sl in zip(self.structures, self.structure_slices, strict=True)
            if spec.structure in names
        )

    @functools.cached_property
    def uncalibrated(self) -> np.ndarray:
        """(options,) whether each option's probe model is not fitted to gel data: a plan
        using one is not verified, whatever the solver says (computed once per problem)."""
        from optiprobe.metrics.evaluate import model_calibrated

        models = self.candidates.models
        calibrated = {name: model_calibrated(self.case, name) for name in set(models)}
        return np.array([not calibrated[models[c]] for c in self.option_candidate], bool)

    def plan_sums(self, plan) -> np.ndarray:
        """The surrogate's summed potential of ``plan`` at every sample point. The plan is
        padded to the case's most probes, so every plan in a run shares one compiled program
        (called op by op, each new probe count cost L4 about 4 s of dispatch and compiling)."""
        from optiprobe.surrogate.model import probe_set

        probes = probe_set(plan, self.case, self.surrogate, pad_to=self.case.probes.max_count)
        return np.asarray(_scored(probes, score=self.score))

    def role(self, name: str) -> np.ndarray:
        """Potentials (options, points) of one role's points."""
        return self.potentials[:, self.roles[name]]

    def probe_count_bound(self) -> dict | None:
        """The LP relaxation's lower bound on the probe count (cvxpy)."""
        n_options = len(self.potentials)
        return probe_count_bound(
            self.role("tumour"),
            self.need(self.coverage.limit_isotherm_c, self.roles["tumour"]),
            np.concatenate(
                [self.potentials[:, sl] for sl in self.structure_slices]
                + [np.zeros((n_options, 0))],
                1,
            ),
            self.all_limits_v,
            min_fraction=self.coverage.min_fraction,
        )

    def select(
        self,
        scale: dict[str, float],
        drop: tuple = (),
        *,
        coverage_c: float | None = None,
        margin_c: float | None = None,
        min_count: int = 1,
        max_count: int | None = None,
        work_limit: float = WORK_LIMIT,
        hint: tuple | None = None,
        allowed: np.ndarray | None = None,
    ) -> Selection:
        """CP-SAT selection with every structure limit, or without those of the structures in
        ``drop`` (conflict analysis). ``scale`` is the verification's per-structure factor on
        the surrogate's potential; the isotherms default to the case's objectives and
        ``max_count`` to the case's most probes; ``hint`` is a selection to start from (see
        :func:`~optiprobe.planner.select.select`); ``allowed`` (options,) bool, when given,
        is the options it may choose from (indices stay the problem's)."""
        if coverage_c is None:
            coverage_c = self.coverage.limit_isotherm_c
        if margin_c is None:
            margin_c = self.margin.isotherm_c
        index = np.arange(len(self.potentials)) if allowed is None else np.flatnonzero(allowed)
        potentials = self.potentials[index]
        rows = [
            (potentials[:, sl] * scale[spec.structure], self.limits_v[spec.structure])
            for spec, sl in zip(self.structures, self.structure_slices, strict=True)
            if spec.structure not in drop
        ]
        values = np.concatenate([r[0] for r in rows], axis=1) if rows else None
        bounds = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0)
        if hint is not None:
            where = {int(option): k for k, option in enumerate(index)}
            hint = tuple(where[c] for c in hint) if all(c in where for c in hint) else None
        probes = self.case.probes
        found = select(
            potentials[:, self.roles["tumour"]],
            self.need(coverage_c, self.roles["tumour"]),
            potentials[:, self.roles["margin"]],
            self.need(margin_c, self.roles["margin"]),
            values if values is not None else np.zeros((len(index), 0)),
            bounds,
            self.overfreeze[index],
            self.minutes[index],
            self.candidates.centres_mm[self.option_candidate[index]],
            min_fraction=self.coverage.min_fraction,
            max_count=probes.max_count if max_count is None else max_count,
            min_spacing_mm=probes.min_spacing_mm,
            max_spacing_mm=probes.max_spacing_mm,
            work_limit=work_limit,
            min_count=min_count,
            hint=hint,
            uncalibrated=self.uncalibrated[index],
        )
        return dataclasses.replace(found, chosen=tuple(int(index[c]) for c in found.chosen))

    def plan_from(self, chosen) -> Plan:
        """The plan of the chosen option indices (tips and entries rounded to 0.1 mm)."""
        candidates, probes = self.candidates, []
        for k, option in enumerate(chosen):
            c = self.option_candidate[option]
            probes.append(
                {
                    "name": f"P{k + 1}_{candidates.windows[c]}",
                    "model": candidates.models[c],
                    "tip_mm": np.round(candidates.tips_mm[c].astype(float), 1).tolist(),
                    "entry_mm": np.round(candidates.entries_mm[c].astype(float), 1).tolist(),
                    "freeze_min": self.levels[self.option_level[option]],
                }
            )
        return Plan(
            name="optiprobe_plan",
            description="suggested by optiprobe plan (CP-SAT on the surrogate, checked by the "
            "solver: see metrics.json for whether it holds)",
            probes=probes,
        )


@functools.partial(jax.jit, static_argnames=("score",))
def _scored(probes, score):
    return score(probes)


def build_problem(
    case, volume, candidates: Candidates, surrogate, *, say: Callable[[str], None]
) -> SampledProblem:
    """Sample ``volume``, score every option of ``candidates`` with ``surrogate`` and keep the
    strongest few per active-zone centre (see the module docstring). The sampling is seeded
    (``default_rng(0)``), so the problem is the same on every run."""
    query, sizes, structures = _sample(case, volume, surrogate)
    levels = _levels(case)

    def score(probes):
        # Each point read with its own medium's shells: the surrogate's default, better than
        # growing each probe's ice in the media around it (probe_media) on the dev set (1
        # missed limit violation against 7) and on held-out (3 against 9; docs/surrogate.md).
        # The planner had used probe_media: at the femur case's coldest nerve voxel it
        # predicted 26.0 °C where the solver reached -4.9 °C (own medium: 1.3 °C).
        # Potentials add, so each probe is scored alone (vmap) and the results summed: the
        # surrogate unrolls its loop over probes, and compiling refinement's gradient steps
        # for n probes took n times as long (L4: 5 s for 2 probes, 13 s for 5, per round).
        each = jax.tree.map(lambda a: a[:, None], probes)  # one probe per row
        return jnp.sum(jax.vmap(lambda one: surrogate.summed_potential(one, query))(each), 0)

    def need(t_c, sl):
        return surrogate.query_potential_of(t_c, query)[sl]

    n_options = len(candidates) * len(levels)
    say(f"scoring {n_options} options on {int(sizes[-1])} points with the surrogate")
    t0 = time.perf_counter()
    option_candidate = np.repeat(np.arange(len(candidates)), len(levels))
    option_level = np.tile(np.arange(len(levels)), len(candidates))
    freeze = np.asarray(levels, np.float32)[option_level]
    models = np.array([surrogate.model_index(m) for m in candidates.models])
    potentials = _option_potentials(score, candidates, models, option_candidate, freeze)
    surrogate_s = round(time.perf_counter() - t0, 2)

    coverage, margin = objective(case, TumorCoverageSpec), objective(case, IceMarginSpec)
    roles = {role: slice(*sizes[i : i + 2]) for i, role in enumerate(_ROLES)}
    structure_slices = tuple(slice(*sizes[3 + i : 5 + i]) for i in range(len(structures)))
    buffers = {spec.structure: STRUCTURE_BUFFER_C for spec in structures}
    limits_v = {
        spec.structure: need(spec.min_temperature_c + buffers[spec.structure], sl)
        for spec, sl in zip(structures, structure_slices, strict=True)
    }
    target = np.concatenate(
        [
            need(coverage.limit_isotherm_c, roles["tumour"]),
            need(margin.isotherm_c, roles["margin"]),
        ]
    )
    reached = np.concatenate([potentials[:, roles["tumour"]], potentials[:, roles["margin"]]], 1)
    keep = kept_per_centre(
        reached,
        target,
        structure_load(potentials, limits_v, structure_slices, structures),
        candidates.centres_mm[option_candidate],
    )
    return SampledProblem(
        case=case,
        surrogate=surrogate,
        candidates=candidates,
        levels=levels,
        coverage=coverage,
        margin=margin,
        query=query,
        score=score,
        need=need,
        structures=structures,
        roles=roles,
        structure_slices=structure_slices,
        buffers_c=buffers,
        limits_v=limits_v,
        potentials=potentials[keep],
        option_candidate=option_candidate[keep],
        option_level=option_level[keep],
        minutes=np.sum(freeze[keep], axis=1),
        overfreeze=potentials[keep][:, roles["healthy"]].sum(axis=1),
        surrogate_s=surrogate_s,
    )


def _option_potentials(score, candidates, models, option_candidate, freeze) -> np.ndarray:
    """(options, points) potential of each option alone, in padded batches of CHUNK (one
    compiled program for every batch)."""
    from optiprobe.surrogate.model import ProbeSet

    def one(tip, entry, minutes, model):
        probes = ProbeSet(
            tips_mm=tip[None],
            entries_mm=entry[None],
            freeze_min=minutes[None],
            model=model[None],
            present=jnp.ones(1),
        )
        return score(probes)

    batched = jax.jit(jax.vmap(one))
    n_options, potentials = len(option_candidate), []
    for s in range(0, n_options, CHUNK):
        idx = np.arange(s, min(s + CHUNK, n_options))
        pad = CHUNK - len(idx)
        idx_padded = np.concatenate([idx, np.full(pad, idx[-1])]) if pad else idx
        c = option_candidate[idx_padded]
        out = batched(
            jnp.asarray(candidates.tips_mm[c], jnp.float32),
            jnp.asarray(candidates.entries_mm[c], jnp.float32),
            jnp.asarray(freeze[idx_padded]),
            jnp.asarray(models[c], jnp.int32),
        )
        potentials.append(np.asarray(out)[: len(idx)])
    return np.concatenate(potentials)


def _sample(case, volume, surrogate):
    """The surrogate Query at every sample point (tumour, margin, healthy, then each protected
    structure), the cumulative point counts of those blocks, and the structures' specs."""
    from optiprobe.surrogate.model import make_query

    points, structure_points = _points(case, volume, np.random.default_rng(0))
    all_points = [points[role] for role in _ROLES] + [(p, t) for _, p, t in structure_points]
    coordinates = np.concatenate([p for p, _ in all_points])
    query = make_query(coordinates, np.concatenate([t for _, t in all_points]), surrogate)
    sizes = np.cumsum([0] + [len(p) for p, _ in all_points])
    return query, sizes, tuple(spec for spec, _, _ in structure_points)


def _points(case, volume, rng):
    """Sample points (mm) with tissue names, by role, and per protected structure."""
    grid = volume.grid
    spacing = np.asarray(grid.spacing_mm)
    tumour = volume.masks[case.tumor.name]
    outside = ndimage.distance_transform_edt(~tumour, sampling=spacing)
    margin_spec = objective(case, IceMarginSpec)
    names = np.asarray(volume.tissue_names)
    protected = {p.structure for p in case.protected}
    structures_mask = np.zeros(grid.shape, bool)
    for name in protected:
        structures_mask |= volume.masks[name]
    roles = {
        "tumour": tumour,
        "margin": (np.abs(outside - margin_spec.limit_mm) <= 0.5) & ~structures_mask,
        "healthy": (outside > margin_spec.limit_mm + 1)
        & (outside <= margin_spec.limit_mm + 10)
        & ~structures_mask,
    }
    points = {}
    for role, mask in roles.items():
        index = subsample(np.argwhere(mask), rng, MAX_POINTS)
        points[role] = (
            grid.lower_mm + index * spacing,
            names[volume.tissue_index[tuple(index.T)]],
        )
    structure_points = []
    for spec in case.protected:
        # The part nearest the tumour is where the cold arrives first: take its nearest
        # STRUCTURE_NEAR voxels, and a random STRUCTURE_FAR of the rest within 30 mm (a random
        # sample alone can miss the few voxels that freeze).
        mask = volume.masks[spec.structure] & (outside <= 30.0)
        index = np.argwhere(mask)
        order = np.argsort(outside[mask], kind="stable")
        near, rest = index[order[:STRUCTURE_NEAR]], index[order[STRUCTURE_NEAR:]]
        index = np.concatenate([near, subsample(rest, rng, STRUCTURE_FAR)])
        tissues = names[volume.tissue_index[tuple(index.T)]]
        structure_points.append((spec, grid.lower_mm + index * spacing, tissues))
    return points, structure_points


def _levels(case) -> list[list[float]]:
    """Freeze-duration levels: 0.5×, 1× and 1.5× the protocol's, clipped to its bounds."""
    durations = case.protocol.freeze_durations_min
    lower, upper = case.protocol.freeze_bounds_min or (3.0, 15.0)
    levels = []
    for factor in (0.5, 1.0, 1.5):
        level = [float(np.clip(d * factor, lower, upper)) for d in durations]
        if level not in levels:
            levels.append(level)
    return levels
