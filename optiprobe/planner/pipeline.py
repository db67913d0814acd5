"""``plan_case``: candidates → CP-SAT selection on the surrogate → solver verification → repair.

1. Candidate trajectories (:mod:`optiprobe.planner.candidates`), each at three freeze-duration
   levels (0.5×, 1× and 1.5× the protocol's durations, inside ``freeze_bounds_min``).
2. Sample points: the tumour, the margin shell ``ice_margin.limit_mm`` outside it, the protected
   structures within 30 mm of the tumour, and healthy tissue around the margin (over-freezing).
   The surrogate gives each option's cold potential at every point.
3. A lower bound on the probe count from the LP relaxation (cvxpy), then CP-SAT selection
   (:mod:`optiprobe.planner.select`), with structure limits raised by a safety buffer, then
   gradient refinement of tips, entries and durations on the surrogate (optax,
   :mod:`optiprobe.planner.refine`).
4. Verification with the full solver. Per structure, the surrogate's cold potential is scaled
   by the solver's coldest value over the surrogate's prediction for the same plan (too warm
   near a structure: its options are held back there); if tumour coverage (or the ice margin)
   fails, the coverage (margin) target is made 5 °C colder, and when every structure limit
   held, the next selection must use one probe more. The selection is solved again, at most
   ``max_rounds`` rounds (stopping when a round is no better than an earlier one), and the best
   verified round is kept (every limit, then structure limits, then coverage).
   Only solver numbers are reported.
5. When limits still fail (or no selection keeps the structure limits), each structure's limit
   is dropped in turn: a structure whose removal lets the surrogate cover more tumour or margin
   points conflicts with coverage. The coverage-first plan without the most conflicting limit
   is verified by the solver (how far it breaks the limit, and when), and is the plan returned
   when no plan keeps every structure limit.
6. Protection advice (:mod:`optiprobe.planner.safety`) for structures near or past their limit,
   and robustness of the plan to ±2 mm placement errors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from scipy import ndimage

from optiprobe.case import Plan
from optiprobe.case.models import IceMarginSpec, TumorCoverageSpec
from optiprobe.planner import objective, subsample
from optiprobe.planner.candidates import Candidates, access_of, generate_candidates
from optiprobe.planner.refine import refine
from optiprobe.planner.safety import (
    held_regions_limiting_margin,
    margin_shortfall,
    protection_advice,
    robustness,
)
from optiprobe.planner.select import WORK_LIMIT, Selection, probe_count_bound, select

__all__ = ["PlanOutcome", "plan_case"]

STRUCTURE_BUFFER_C = 2.0
MAX_POINTS = 250
STRUCTURE_NEAR, STRUCTURE_FAR = 200, 150
PER_CENTRE = 6
CHUNK = 128


@dataclass
class PlanOutcome:
    """What the planner did: the plan, the solver's verdict and the numbers behind it."""

    plan: Plan | None
    result: object | None  # ThermalResult of the last verified plan
    evaluation: object | None
    candidates: int
    rejected: dict
    rounds: list[dict] = field(default_factory=list)
    timings_s: dict = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    trade_offs: list[dict] = field(default_factory=list)
    protection: list[dict] = field(default_factory=list)
    robustness: dict | None = None
    trade_off_written: bool = False  # no safe plan: ``plan`` is the coverage-first trade-off
    probe_bound: dict | None = None  # LP lower bound on the probe count (surrogate problem)
    margin_shortfall: dict | None = None  # where the ice margin falls short, and next to what
    # When no plan meets every limit in the solver: what fails, by how much, which structure
    # conflicts with which criterion, and every solver-checked plan (see _infeasibility_report).
    infeasibility: dict | None = None

    def to_dict(self) -> dict:
        """Plain data for ``planner.json``."""
        return {
            "candidates": self.candidates,
            "rejected_candidates": self.rejected,
            "probe_count_lower_bound": self.probe_bound,
            "rounds": self.rounds,
            "conflicts": self.conflicts,
            "trade_off_plans": self.trade_offs,
            "trade_off_written": self.trade_off_written,
            "margin_shortfall": self.margin_shortfall,
            "infeasibility_report": self.infeasibility,
            "protection": self.protection,
            "robustness": self.robustness,
            "messages": self.messages,
            "timings_s": self.timings_s,
            "verified": bool(self.evaluation is not None and self.evaluation.verified),
        }


def _points(case, volume, rng):
    """Sample points (mm) with tissue names, by role."""
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
    durations = case.protocol.freeze_durations_min
    lower, upper = case.protocol.freeze_bounds_min or (3.0, 15.0)
    levels = []
    for factor in (0.5, 1.0, 1.5):
        level = [float(np.clip(d * factor, lower, upper)) for d in durations]
        if level not in levels:
            levels.append(level)
    return levels


def plan_case(
    case,
    volume,
    *,
    progress: Callable[[str], None] | None = None,
    max_rounds: int = 3,
    cp_sat_work_limit: float = WORK_LIMIT,
    verify_trade_off: bool = True,
    refine_plans: bool = True,
) -> PlanOutcome:
    """Suggest a plan for ``case`` and verify it with the solver (see the module docstring)."""
    from optiprobe.metrics import evaluate, plan_models_calibrated
    from optiprobe.surrogate.medium import medium_of
    from optiprobe.surrogate.model import (
        ProbeSet,
        load_surrogate,
        make_query,
        medium_field,
        probe_media,
        probe_set,
    )
    from optiprobe.thermal.simulate import simulate

    say = progress or (lambda message: None)
    timings = {}
    start = time.perf_counter()
    surrogate = load_surrogate()
    for name in case.probes.model_names:
        surrogate.model_index(name)  # user-defined models: a clear error
    say("generating candidate trajectories")
    access = access_of(case, volume)
    candidates: Candidates = generate_candidates(case, volume, access=access)
    timings["candidates_s"] = round(time.perf_counter() - start, 2)
    outcome = PlanOutcome(
        None, None, None, len(candidates), candidates.rejected, timings_s=timings
    )
    if len(candidates) == 0:
        outcome.messages.append(
            "no safe trajectory: every candidate needle path breaks a clearance, depth, bone or "
            f"grid limit ({candidates.rejected})"
        )
        return outcome

    rng = np.random.default_rng(0)
    points, structure_points = _points(case, volume, rng)
    levels = _levels(case)
    n_options = len(candidates) * len(levels)
    option_candidate = np.repeat(np.arange(len(candidates)), len(levels))
    option_level = np.tile(np.arange(len(levels)), len(candidates))
    field_ = medium_field(volume, surrogate)

    all_points = [points["tumour"], points["margin"], points["healthy"]]
    all_points += [(p, t) for _, p, t in structure_points]
    coordinates = np.concatenate([p for p, _ in all_points])
    tissues = np.concatenate([t for _, t in all_points])
    query = make_query(coordinates, tissues, surrogate)
    sizes = np.cumsum([0] + [len(p) for p, _ in all_points])

    say(f"scoring {n_options} options on {len(coordinates)} points with the surrogate")
    t0 = time.perf_counter()
    models = np.array([surrogate.model_index(m) for m in candidates.models])
    freeze = np.asarray(levels, np.float32)[option_level]

    def one(tip, entry, minutes, model):
        probes = ProbeSet(
            tips_mm=tip[None],
            entries_mm=entry[None],
            freeze_min=minutes[None],
            model=model[None],
            present=jnp.ones(1),
        )
        return surrogate.summed_potential(probe_media(probes, field_, surrogate), query)

    batched = jax.jit(jax.vmap(one))
    potentials = []
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
    potentials = np.concatenate(potentials)  # (options, points)
    timings["surrogate_s"] = round(time.perf_counter() - t0, 2)

    coverage_spec = objective(case, TumorCoverageSpec)
    margin_spec = objective(case, IceMarginSpec)
    v_at = lambda t, sl: surrogate.query_potential_of(t, query)[sl]  # noqa: E731
    tumour_sl, margin_sl, healthy_sl = (slice(sizes[i], sizes[i + 1]) for i in range(3))
    structure_sl = [slice(sizes[3 + i], sizes[4 + i]) for i in range(len(structure_points))]
    buffers = {spec.structure: STRUCTURE_BUFFER_C for spec, _, _ in structure_points}
    # Each structure point's limit (+ buffer) as a potential, shared by CP-SAT, the LP bound and
    # refinement.
    limit_v = {
        spec.structure: v_at(spec.min_temperature_c + buffers[spec.structure], sl)
        for (spec, _, _), sl in zip(structure_points, structure_sl, strict=True)
    }
    all_limits_v = np.concatenate(
        [limit_v[spec.structure] for spec, _, _ in structure_points] + [np.zeros(0)]
    )
    coverage_c = coverage_spec.limit_isotherm_c
    # Keep the options that do most on their own (fraction of each tumour and margin point's
    # target reached, summed): CP-SAT proves little on thousands of options in its time limit.
    need = np.concatenate([v_at(coverage_c, tumour_sl), v_at(margin_spec.isotherm_c, margin_sl)])
    alone = np.minimum(
        np.concatenate([potentials[:, tumour_sl], potentials[:, margin_sl]], axis=1) / need, 1.0
    ).sum(axis=1)
    # Per active-zone centre, only its best few options: near-duplicates are excluded by the
    # spacing constraint anyway, and keeping every centre keeps the layouts diverse.
    centre_key = np.round(candidates.centres_mm[option_candidate] / 0.5).astype(np.int64)
    _, group = np.unique(centre_key, axis=0, return_inverse=True)
    keep = []
    for g in range(group.max() + 1):
        members = np.nonzero(group == g)[0]
        keep.extend(members[np.argsort(-alone[members])[:PER_CENTRE]])
    keep = np.sort(np.asarray(keep))
    potentials, option_candidate, option_level = (
        potentials[keep],
        option_candidate[keep],
        option_level[keep],
    )
    freeze, n_options = freeze[keep], len(keep)
    minutes = np.sum(freeze, axis=1)
    overfreeze = potentials[:, healthy_sl].sum(axis=1)

    # Correction from verification: per structure, a factor on the surrogate's cold potential
    # there, the solver's coldest value over the surrogate's prediction for the same plan.
    # Above 1 the surrogate was too warm near this structure; the factor scales every option's
    # contribution, so options far from the structure (small contributions) stay usable while
    # the ones that chilled it are held back. Every plan is verified by the solver again.
    scale = {spec.structure: 1.0 for spec, _, _ in structure_points}
    verified = []  # (plan, result, evaluation, selection) per round

    def solve(
        drop: tuple = (),
        coverage_c=coverage_c,
        margin_c=margin_spec.isotherm_c,
        min_count: int = 1,
    ) -> Selection:
        """Select with every structure limit, or without those of the structures in ``drop``
        (conflict analysis)."""
        rows = [
            (potentials[:, sl] * scale[spec.structure], limit_v[spec.structure])
            for (spec, _, _), sl in zip(structure_points, structure_sl, strict=True)
            if spec.structure not in drop
        ]
        values = np.concatenate([r[0] for r in rows], axis=1) if rows else None
        bounds = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0)
        return select(
            potentials[:, tumour_sl],
            v_at(coverage_c, tumour_sl),
            potentials[:, margin_sl],
            v_at(margin_c, margin_sl),
            values if values is not None else np.zeros((n_options, 0)),
            bounds,
            overfreeze,
            minutes,
            candidates.centres_mm[option_candidate],
            min_fraction=coverage_spec.min_fraction,
            max_count=case.probes.max_count,
            min_spacing_mm=case.probes.min_spacing_mm,
            max_spacing_mm=case.probes.max_spacing_mm,
            work_limit=cp_sat_work_limit,
            min_count=min_count,
        )

    window_index = {name: w for w, (name, *_) in enumerate(access.windows)}
    structure_index = np.concatenate(
        [np.arange(sl.start, sl.stop) for sl in structure_sl] + [np.zeros(0, int)]
    )
    bounds = tuple(case.protocol.freeze_bounds_min or (3.0, 15.0))

    def score(probes):
        return surrogate.summed_potential(probe_media(probes, field_, surrogate), query)

    def refine_plan(plan, coverage_c, margin_c):
        """Gradient refinement on the surrogate (:mod:`optiprobe.planner.refine`)."""
        structure_scale = np.concatenate(
            [
                np.full(sl.stop - sl.start, scale[spec.structure])
                for (spec, _, _), sl in zip(structure_points, structure_sl, strict=True)
            ]
            + [np.zeros(0)]
        )
        targets = {
            "tumour": np.arange(tumour_sl.start, tumour_sl.stop),
            "margin": np.arange(margin_sl.start, margin_sl.stop),
            "healthy": np.arange(healthy_sl.start, healthy_sl.stop),
            "structure": structure_index,
            "tumour_need": v_at(coverage_c, tumour_sl),
            "margin_need": v_at(margin_c, margin_sl),
            "structure_limit": all_limits_v.astype(np.float32),
            "structure_scale": structure_scale.astype(np.float32),
        }
        windows = [window_index[p.name.split("_", 1)[1]] for p in plan.probes]
        entries = {}

        def feasible(i, tip, entry):
            direction = (tip - entry) / np.linalg.norm(tip - entry)
            found = access.check(windows[i], tip, direction, plan.probes[i].model)
            if isinstance(found, str):
                return False
            entries[i] = found  # on the same line, at the skin
            return True

        result = refine(
            probe_set(plan, case, surrogate),
            score,
            targets,
            bounds_min=bounds,
            feasible=feasible,
        )
        info = {
            "objective_before": round(result.objective_before, 4),
            "objective_after": round(result.objective_after, 4),
            "reverted_probes": list(result.reverted),
            "accepted": result.accepted,
        }
        if not result.accepted:
            return plan, info
        probes = []
        for i, p in enumerate(plan.probes):
            moved = i not in result.reverted
            probes.append(
                p.model_copy(
                    update={
                        "tip_mm": tuple(np.round(result.tips_mm[i].astype(float), 1).tolist()),
                        "entry_mm": tuple(
                            np.round(
                                np.asarray(entries[i] if moved else result.entries_mm[i], float),
                                1,
                            ).tolist()
                        ),
                        "freeze_min": [
                            float(np.clip(np.round(m * 2) / 2, *bounds))
                            for m in result.freeze_min[i]
                        ],
                    }
                )
            )
        description = plan.description + "; refined by gradient on the surrogate"
        refined = plan.model_copy(update={"probes": probes, "description": description})
        problem = spacing_problem(
            refined, access.models, case.probes.min_spacing_mm, case.probes.max_spacing_mm
        )
        if problem:  # the moves broke a spacing limit CP-SAT enforced: keep the selection
            info["accepted"] = False
            info["reverted_for_spacing"] = problem
            return plan, info
        return refined, info

    def verify(plan):
        result = simulate(case, volume, plan)
        evaluation = evaluate(
            case,
            volume,
            result,
            plan_name=plan.name,
            models_calibrated=plan_models_calibrated(case, plan),
        )
        return result, evaluation

    say("LP relaxation: a lower bound on the probe count (cvxpy)")
    outcome.probe_bound = probe_count_bound(
        potentials[:, tumour_sl],
        v_at(coverage_c, tumour_sl),
        np.concatenate([potentials[:, sl] for sl in structure_sl] + [np.zeros((n_options, 0))], 1),
        all_limits_v,
        min_fraction=coverage_spec.min_fraction,
    )
    margin_c, min_count = margin_spec.isotherm_c, 1
    for round_ in range(max_rounds):
        say(f"round {round_ + 1}: selecting probes with CP-SAT")
        selection = solve(coverage_c=coverage_c, margin_c=margin_c, min_count=min_count)
        record = {
            "round": round_ + 1,
            "cp_sat_status": selection.status,
            # None without a CP-SAT solution (NaN is not JSON).
            "objective": selection.objective if np.isfinite(selection.objective) else None,
            "bound": selection.bound if np.isfinite(selection.bound) else None,
            "gap": None if selection.gap is None else round(selection.gap, 4),
            "cp_sat_s": round(selection.wall_s, 2),
            "buffers_c": dict(buffers),
            "structure_scale": {k: round(v, 3) for k, v in scale.items()},
            "coverage_isotherm_c": coverage_c,
            "margin_isotherm_c": margin_c,
            "min_probes": min_count,
            "uncovered_margin_points": selection.uncovered_margin,
            "margin_points": int(margin_sl.stop - margin_sl.start),
        }
        outcome.rounds.append(record)
        if not selection.chosen:
            outcome.messages.append(
                f"round {round_ + 1}: CP-SAT found no plan ({selection.status}): no set of at "
                f"most {case.probes.max_count} probes keeps every structure "
                f"{STRUCTURE_BUFFER_C:g} °C above its limit (per the corrected surrogate)"
                + ("; the best earlier round is kept" if verified else "")
            )
            break
        plan = _plan_from(
            case, candidates, selection.chosen, option_candidate, option_level, levels
        )
        if refine_plans:
            say(f"round {round_ + 1}: refining {len(plan.probes)} probes by gradient (optax)")
            t0 = time.perf_counter()
            plan, record["refinement"] = refine_plan(plan, coverage_c, margin_c)
            record["refinement"]["seconds"] = round(time.perf_counter() - t0, 2)
        say(f"round {round_ + 1}: verifying {len(plan.probes)} probes with the solver")
        t0 = time.perf_counter()
        result, evaluation = verify(plan)
        record["solver_s"] = round(time.perf_counter() - t0, 2)
        record["limits_pass"] = evaluation.passed
        record["solver"] = {row.criterion: round(row.value, 3) for row in evaluation.rows}
        record["probes"] = len(plan.probes)
        verified.append((plan, result, evaluation, selection))
        if evaluation.passed:
            break
        # A round no better than an earlier one ends the loop, unless a structure limit still
        # fails in the solver: then the correction below is what changes between rounds, and
        # it gets every round allowed.
        if (
            len(verified) > 1
            and _rank(case, evaluation)[1]
            and _rank(case, evaluation) <= max(_rank(case, v[2]) for v in verified[:-1])
        ):
            record["stopped"] = "no better than an earlier round"
            break
        changed = False
        chosen_sum = potentials[list(selection.chosen)].sum(axis=0)
        for (spec, _, _), sl in zip(structure_points, structure_sl, strict=True):
            if sl.stop == sl.start:
                continue
            mask = volume.masks[spec.structure]
            coldest = float(np.min(result.t_min_c[mask]))
            where = np.unravel_index(
                np.argmin(np.where(mask, result.t_min_c, np.inf)), volume.grid.shape
            )
            medium = surrogate.medium_index(
                medium_of(volume.tissue_names[volume.tissue_index[where]])
            )
            solver_v = float(surrogate.table.potential(coldest, medium))
            predicted_v = max(float(np.max(chosen_sum[sl])) * scale[spec.structure], 1.0)
            factor = float(np.clip(solver_v / predicted_v, 0.5, 8.0))
            if coldest < spec.min_temperature_c or abs(factor - 1.0) > 0.1:
                new = float(np.clip(scale[spec.structure] * factor, 0.25, 25.0))
                changed |= abs(new - scale[spec.structure]) > 1e-3
                scale[spec.structure] = new
        coverage = float(
            np.mean(
                result.t_min_c[volume.masks[case.tumor.name]] <= coverage_spec.limit_isotherm_c
            )
        )
        if coverage < coverage_spec.min_fraction:
            coverage_c -= 5.0
            changed = True
        protected = {spec.structure for spec in case.protected}
        rows = {r.criterion.split(" ")[0]: r for r in evaluation.rows}
        if any(not r.passed for r in evaluation.rows if r.criterion.startswith("ice margin")):
            margin_c -= 5.0  # the 0 °C shell fell short: ask the surrogate for colder
            changed = True
        structures_hold = all(rows[name].passed for name in protected if name in rows)
        if structures_hold and len(plan.probes) < case.probes.max_count:
            min_count = len(plan.probes) + 1  # only tumour-side limits fail: add a probe
            changed = True
        if not changed:
            break
    if verified:
        best = max(range(len(verified)), key=lambda i: _rank(case, verified[i][2]))
        outcome.plan, outcome.result, outcome.evaluation, selection = verified[best]
        outcome.timings_s["chosen_round"] = best + 1
    no_safe_plan = not verified
    trade_evaluations = []  # (conflict, solver evaluation) of the trade-off plans
    if no_safe_plan or not outcome.evaluation.passed:
        say("analysing which structure limits conflict with coverage")
        total = int(tumour_sl.stop - tumour_sl.start + margin_sl.stop - margin_sl.start)
        reference = solve(coverage_c=coverage_spec.limit_isotherm_c)
        base = reference.uncovered_tumour + reference.uncovered_margin
        if not reference.chosen:
            base = total
        names = [spec.structure for spec, _, _ in structure_points]
        groups = [(name,) for name in names]
        for group in groups + ([tuple(names)] if len(names) > 1 else []):
            if len(group) > 1 and outcome.conflicts:
                break  # the joint test only when no single structure explains the conflict
            freed = solve(group, coverage_c=coverage_spec.limit_isotherm_c)
            if not freed.chosen:
                continue
            gained = base - (freed.uncovered_tumour + freed.uncovered_margin)
            if gained > 0:
                outcome.conflicts.append(
                    {
                        "structure": " + ".join(group),
                        "structures": list(group),
                        "limit_c": min(
                            spec.min_temperature_c
                            for spec, _, _ in structure_points
                            if spec.structure in group
                        ),
                        "sample_points_gained": int(gained),
                        "safe_plan_exists": not no_safe_plan,
                        "tumour_points_uncovered_with_limit": reference.uncovered_tumour
                        if reference.chosen
                        else None,
                        "tumour_points_uncovered_without_limit": freed.uncovered_tumour,
                        "margin_points_uncovered_with_limit": reference.uncovered_margin
                        if reference.chosen
                        else None,
                        "margin_points_uncovered_without_limit": freed.uncovered_margin,
                        "_selection": freed,
                    }
                )
        outcome.conflicts.sort(key=lambda c: -c["sample_points_gained"])
        conflict = _trade_off(outcome.conflicts, solve, coverage_spec.limit_isotherm_c)
        if conflict is not None and (verify_trade_off or no_safe_plan):
            # The other side of the trade-off, checked by the solver: the plan that covers the
            # tumour when every conflicting structure's limit is set aside (with one set aside,
            # another conflicting limit would still hold coverage back).
            say(f"verifying the coverage-first plan without the {conflict['structure']} limit")
            plan = _plan_from(
                case,
                candidates,
                conflict["_selection"].chosen,
                option_candidate,
                option_level,
                levels,
            ).model_copy(
                update={
                    "name": "coverage_first_without_" + "_".join(conflict["structures"]),
                    "description": "trade-off: may break the "
                    f"{conflict['structure']} limit(s) to cover the tumour",
                }
            )
            result, evaluation = verify(plan)
            trade_evaluations.append((conflict, evaluation))
            covered = _coverage(case, evaluation)
            safe_covered = None if no_safe_plan else _coverage(case, outcome.evaluation)
            outcome.trade_offs.append(
                {
                    "plan": plan.model_dump(mode="json", exclude_none=True),
                    "set_aside": conflict["structure"],
                    "covers_more_than_safe_plan": None
                    if safe_covered is None
                    else covered > safe_covered,
                    "solver": {row.criterion: round(row.value, 3) for row in evaluation.rows},
                    "limits_pass": evaluation.passed,
                    "protection": [
                        item
                        for name in conflict["structures"]
                        for item in protection_advice(
                            case, volume, result, only=name, within_c=0.0
                        )
                    ],
                }
            )
            if no_safe_plan:
                outcome.plan, outcome.result, outcome.evaluation = plan, result, evaluation
                outcome.trade_off_written = True
                outcome.messages.append(
                    f"no plan keeps every structure limit; the plan written is the "
                    f"coverage-first trade-off that sets the {conflict['structure']} limit "
                    "aside (see trade_off_plans and protection in planner.json)"
                )
        for found in outcome.conflicts:
            found.pop("_selection", None)
    if outcome.evaluation is not None:
        outcome.protection = protection_advice(case, volume, outcome.result)
        if any(
            not r.passed for r in outcome.evaluation.rows if r.criterion.startswith("ice margin")
        ):
            outcome.margin_shortfall = margin_shortfall(
                case,
                volume,
                outcome.result,
                limit_mm=margin_spec.limit_mm,
                isotherm_c=margin_spec.isotherm_c,
            )
        say("robustness: 20 placement errors of up to 2 mm per probe")
        outcome.robustness = robustness(
            case,
            volume,
            outcome.plan,
            outcome.result,
            surrogate,
            check_worst=outcome.evaluation.passed,
        )
    if outcome.evaluation is None or not outcome.evaluation.passed:
        outcome.infeasibility = _infeasibility_report(
            case,
            outcome,
            [v[2] for v in verified],
            trade_evaluations,
            margin_bounds=held_regions_limiting_margin(
                case, volume, limit_mm=margin_spec.limit_mm, isotherm_c=margin_spec.isotherm_c
            ),
            margin_limit_mm=margin_spec.limit_mm,
        )
    outcome.timings_s["total_s"] = round(time.perf_counter() - start, 2)
    return outcome


def spacing_problem(
    plan, models: dict, min_spacing_mm: float, max_spacing_mm: float
) -> str | None:
    """Whether ``plan``'s active-zone centres break the case's spacing limits, as CP-SAT
    enforces them (every pair at least ``min_spacing_mm`` apart; with two probes or more, each
    with a neighbour within ``max_spacing_mm``); None when they hold. ``models`` maps model
    names to :class:`~optiprobe.probes.ProbeModel` (``Access.models``)."""
    if len(plan.probes) < 2:
        return None
    centres = []
    for p in plan.probes:
        tip, entry = np.asarray(p.tip_mm, float), np.asarray(p.entry_mm, float)
        unit = (entry - tip) / np.linalg.norm(entry - tip)
        centres.append(tip + models[p.model].active_middle_mm * unit)
    distance = np.linalg.norm(np.asarray(centres)[:, None] - np.asarray(centres)[None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    if distance.min() < min_spacing_mm:
        return f"two active zones {distance.min():.1f} mm apart (minimum {min_spacing_mm:g})"
    nearest = distance.min(axis=1)
    if nearest.max() > max_spacing_mm:
        return (
            f"a probe {nearest.max():.1f} mm from its nearest neighbour "
            f"(maximum {max_spacing_mm:g})"
        )
    return None


def _failing(evaluation) -> list[dict]:
    """The solver rows of ``evaluation`` whose limit fails, with how far they fall short."""
    return [
        {
            "criterion": row.criterion,
            "value": round(row.value, 3),
            "limit": row.limit,
            "unit": row.unit,
            "short_by": round(row.limit - row.value, 3),
        }
        for row in evaluation.rows
        if not row.passed
    ]


def _trade_off(conflicts: list[dict], solve, coverage_c: float) -> dict | None:
    """What the coverage-first plan sets aside: the one conflicting structure, or every
    conflicting structure together (their joint selection, when CP-SAT finds one that leaves
    fewer points uncovered than the best single one; otherwise the most conflicting one)."""
    if len(conflicts) < 2:
        return conflicts[0] if conflicts else None
    names = tuple(dict.fromkeys(n for c in conflicts for n in c["structures"]))
    freed = solve(names, coverage_c=coverage_c)
    best = conflicts[0]["_selection"]
    if not freed.chosen or (
        freed.uncovered_tumour + freed.uncovered_margin
        >= best.uncovered_tumour + best.uncovered_margin
    ):
        return conflicts[0]
    return {
        "structure": " + ".join(names),
        "structures": list(names),
        "limit_c": min(c["limit_c"] for c in conflicts),
        "_selection": freed,
    }


def _trade_for(conflict: dict, trade_evaluations) -> tuple | None:
    """The trade-off (record, solver evaluation) that set ``conflict``'s structures aside."""
    wanted = set(conflict["structures"])
    return next((t for t in trade_evaluations if wanted <= set(t[0]["structures"])), None)


def _row(evaluation, prefix: str):
    return next((r for r in evaluation.rows if r.criterion.startswith(prefix)), None)


def _infeasibility_report(
    case, outcome, rounds, trade_evaluations, *, margin_bounds=(), margin_limit_mm=None
) -> dict:
    """The explicit report written when no plan meets every limit in the solver.

    Every number in it is the solver's: the criteria the written plan fails and by how much;
    for each structure whose limit blocks coverage in the surrogate, what the solver says on
    both sides of that trade-off (the safe plan's coverage and margin, the coverage-first
    plan's structure temperature); every solver-checked plan; and, when no structure explains
    the failure, where the ice margin falls short. Protection advice and thermocouple
    placement are in ``protection`` (and in each trade-off plan). ``margin_bounds``
    (:func:`~optiprobe.planner.safety.held_regions_limiting_margin`) are exact conflicts of
    the margin limit ``margin_limit_mm`` with warm held layers.
    """
    summary = []
    checked = [
        {"plan": f"round {i + 1}", "limits_pass": e.passed, "failing": _failing(e)}
        for i, e in enumerate(rounds)
    ] + [
        {
            "plan": f"coverage-first without the {c['structure']} limit"
            + ("s" if len(c["structures"]) > 1 else ""),
            "limits_pass": e.passed,
            "failing": _failing(e),
        }
        for c, e in trade_evaluations
    ]
    written = outcome.evaluation
    failing = [] if written is None else _failing(written)
    if written is None:
        summary.append(
            "No plan: no probe selection keeps every structure limit in the surrogate, and no "
            "single structure (or all of them together) was found to block coverage."
        )
    else:
        what = "; ".join(
            f"{f['criterion']} {f['value']:g} {f['unit']} (limit {f['limit']:g}, short by "
            f"{f['short_by']:g})"
            for f in failing
        )
        summary.append(
            f"No plan meets every limit in the solver ({len(checked)} plan(s) simulated). "
            f"The plan written fails: {what}."
        )
    for b in margin_bounds:
        summary.append(
            f"Conflict (exact, from the geometry): the ice margin limit "
            f"({margin_limit_mm:g} mm) with {b['region']}, held at "
            f"{b['fluid_temperature_c']:g} °C {b['closest_mm']:g} mm from the tumour "
            f"surface: no plan's margin can exceed {b['closest_mm']:g} mm "
            f"({b['surface_fraction_within_limit']:.1%} of the surface is closer than "
            f"{margin_limit_mm:g} mm to it)."
        )
    conflicts = []
    coverage_prefix = "tumour fraction colder than"
    for conflict in outcome.conflicts:
        entry = {
            "structure": conflict["structure"],
            "limit_c": conflict["limit_c"],
            "conflicts_with": "tumour coverage and ice margin",
            "surrogate_sample_points_gained": conflict["sample_points_gained"],
        }
        found = _trade_for(conflict, trade_evaluations)
        if found is not None:
            aside, trade = found
            rows = [_row(trade, name + " minimum") for name in conflict["structures"]]
            coldest = min((r for r in rows if r is not None), key=lambda r: r.value, default=None)
            cover = _row(trade, coverage_prefix)
            entry["coverage_first_plan"] = {
                "limits_set_aside": list(aside["structures"]),
                "structure_min_c": None if coldest is None else round(coldest.value, 2),
                "below_limit_by_c": None
                if coldest is None
                else round(max(coldest.limit - coldest.value, 0.0), 2),
                "tumour_coverage": None if cover is None else round(cover.value, 4),
            }
        safe_cover = None if written is None else _row(written, coverage_prefix)
        safe_margin = None if written is None else _row(written, "ice margin")
        if written is not None and not outcome.trade_off_written:
            entry["safe_plan"] = {
                "tumour_coverage": None if safe_cover is None else round(safe_cover.value, 4),
                "coverage_limit": None if safe_cover is None else safe_cover.limit,
                "ice_margin_mm": None if safe_margin is None else round(safe_margin.value, 2),
                "ice_margin_limit_mm": None if safe_margin is None else safe_margin.limit,
            }
        conflicts.append(entry)
        text = f"Conflict (surrogate): the {conflict['structure']} limit " + (
            f"({conflict['limit_c']:g} °C) blocks tumour coverage and ice margin."
        )
        first = entry.get("coverage_first_plan")
        if first and first["structure_min_c"] is not None:
            text += (
                " Solver: the coverage-first plan"
                + (
                    f" (without the {' and '.join(first['limits_set_aside'])} limits)"
                    if len(first["limits_set_aside"]) > 1
                    else ""
                )
                + " covers "
                f"{first['tumour_coverage']:.1%} and takes {conflict['structure']} to "
                f"{first['structure_min_c']:g} °C"
                + (
                    f", {first['below_limit_by_c']:g} °C below its limit."
                    if first["below_limit_by_c"] > 0
                    else " (the limit holds there: the solver does not confirm the conflict)."
                )
            )
        summary.append(text)
    if not outcome.conflicts and written is not None:
        if not margin_bounds:  # with a bound, the margin's failure is proven
            summary.append(
                "No structure limit was found to block coverage in the surrogate: the failure "
                "is the planner's (or the surrogate's) and not a proven conflict."
            )
        short = outcome.margin_shortfall or {}
        if short.get("next_to"):
            beside = ", ".join(f"{n['name']} {n['share']:.0%}" for n in short["next_to"])
            summary.append(
                f"The ice margin is short on {short['short_surface_fraction']:.1%} of the "
                f"tumour surface; the shell it should reach there is {beside}."
            )
    if outcome.protection:
        names = sorted({item["structure"] for item in outcome.protection})
        summary.append(
            "Protection and thermocouple placement are suggested for "
            + ", ".join(names)
            + " (see protection)."
        )
    return {
        "summary": summary,
        "failing_in_written_plan": failing,
        "conflicts": conflicts,
        "solver_checked_plans": checked,
        "margin_bounded_by_held_regions": list(margin_bounds),
    }


def _coverage(case, evaluation) -> float:
    """Fraction of the tumour below the coverage limit isotherm, from the solver's rows."""
    return next(
        (r.value for r in evaluation.rows if r.criterion.startswith("tumour fraction")), 0.0
    )


def _rank(case, evaluation) -> tuple:
    """Order verified plans: every limit holding first, then every structure limit holding,
    then the smallest total shortfall of the coverage and margin limits (relative)."""
    protected = {p.structure for p in case.protected}
    structures_hold = all(
        row.passed for row in evaluation.rows if row.criterion.split(" ")[0] in protected
    )
    shortfall = sum(
        max(row.limit - row.value, 0.0) / max(abs(row.limit), 1.0)
        for row in evaluation.rows
        if row.criterion.split(" ")[0] not in protected
    )
    return (evaluation.passed, structures_hold, -shortfall)


def _plan_from(case, candidates, chosen, option_candidate, option_level, levels) -> Plan:
    probes = []
    for k, option in enumerate(chosen):
        c = option_candidate[option]
        probes.append(
            {
                "name": f"P{k + 1}_{candidates.windows[c]}",
                "model": candidates.models[c],
                "tip_mm": np.round(candidates.tips_mm[c].astype(float), 1).tolist(),
                "entry_mm": np.round(candidates.entries_mm[c].astype(float), 1).tolist(),
                "freeze_min": levels[option_level[option]],
            }
        )
    return Plan(
        name="optiprobe_plan",
        description="suggested by optiprobe plan (CP-SAT on the surrogate, checked by the "
        "solver: see metrics.json for whether it holds)",
        probes=probes,
    )
