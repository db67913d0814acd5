"""A selected plan refined on the surrogate, kept only where the candidate checks still hold.

:func:`refine_plan` runs the gradient refinement of :mod:`optiprobe.planner.refine` (optax) on
the sampled problem's points and limits (with the verification's per-structure correction),
re-checks each moved trajectory with :meth:`~optiprobe.planner.candidates.Access.check` (a
probe whose new line fails is put back), and keeps the refined plan only when it still meets
the spacing limits CP-SAT enforced (:func:`spacing_problem`).
"""

from __future__ import annotations

import numpy as np

from optiprobe.planner.refine import refine

__all__ = ["refine_plan", "spacing_problem"]


def refine_plan(plan, problem, access, scale: dict[str, float], *, coverage_c, margin_c):
    """``plan`` refined by gradient on the surrogate, and what refinement did.

    Parameters
    ----------
    plan : Plan from :meth:`~optiprobe.planner.problem.SampledProblem.plan_from`
    problem : SampledProblem
    access : Access of the case (windows, models, trajectory checks)
    scale : per structure, the verification's factor on the surrogate's potential
    coverage_c, margin_c : the isotherms (°C) this round selected for

    Returns
    -------
    (Plan, dict) : the refined plan (or ``plan`` when refinement is not kept) and a record
        with the objective before and after, reverted probes and whether it was accepted
    """
    from optiprobe.surrogate.model import probe_set

    case = problem.case
    bounds = tuple(case.protocol.freeze_bounds_min or (3.0, 15.0))
    window_index = {name: w for w, (name, *_) in enumerate(access.windows)}
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
        # Padded to the case's most probes: one compilation serves every round (3.5 s each on
        # L4; the padding costs nothing, the problem scores one probe at a time).
        probe_set(plan, case, problem.surrogate, pad_to=case.probes.max_count),
        problem.score,
        _targets(problem, scale, coverage_c=coverage_c, margin_c=margin_c),
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
    refined = _moved_plan(plan, result, entries, bounds)
    broken = spacing_problem(
        refined, access.models, case.probes.min_spacing_mm, case.probes.max_spacing_mm
    )
    if broken:  # the moves broke a spacing limit CP-SAT enforced: keep the selection
        info["accepted"] = False
        info["reverted_for_spacing"] = broken
        return plan, info
    return refined, info


def _targets(problem, scale, *, coverage_c, margin_c) -> dict:
    """Index arrays and potentials to reach or stay under, as :func:`refine` takes them."""
    structure_scale = np.concatenate(
        [
            np.full(sl.stop - sl.start, scale[spec.structure])
            for spec, sl in zip(problem.structures, problem.structure_slices, strict=True)
        ]
        + [np.zeros(0)]
    )
    tumour, margin, healthy = (problem.roles[r] for r in ("tumour", "margin", "healthy"))
    return {
        "tumour": np.arange(tumour.start, tumour.stop),
        "margin": np.arange(margin.start, margin.stop),
        "healthy": np.arange(healthy.start, healthy.stop),
        "structure": problem.structure_index,
        "tumour_need": problem.need(coverage_c, tumour),
        "margin_need": problem.need(margin_c, margin),
        "structure_limit": problem.all_limits_v.astype(np.float32),
        "structure_scale": structure_scale.astype(np.float32),
    }


def _moved_plan(plan, result, entries: dict, bounds: tuple[float, float]):
    """``plan`` with the refined tips, entries (on each moved line, at the skin) and
    durations (rounded to 0.5 min, inside ``bounds``)."""
    probes = []
    for i, p in enumerate(plan.probes):
        moved = i not in result.reverted
        entry = np.asarray(entries[i] if moved else result.entries_mm[i], float)
        probes.append(
            p.model_copy(
                update={
                    "tip_mm": tuple(np.round(result.tips_mm[i].astype(float), 1).tolist()),
                    "entry_mm": tuple(np.round(entry, 1).tolist()),
                    "freeze_min": [
                        float(np.clip(np.round(m * 2) / 2, *bounds)) for m in result.freeze_min[i]
                    ],
                }
            )
        )
    description = plan.description + "; refined by gradient on the surrogate"
    return plan.model_copy(update={"probes": probes, "description": description})


def spacing_problem(
    plan, models: dict, min_spacing_mm: float, max_spacing_mm: float, tolerance_mm: float = 0.0
) -> str | None:
    """Whether ``plan``'s active-zone centres break the case's spacing limits, as CP-SAT
    enforces them (every pair at least ``min_spacing_mm`` apart; with two probes or more, each
    with a neighbour within ``max_spacing_mm``), by more than ``tolerance_mm``; None when they
    hold. ``models`` maps model names to :class:`~optiprobe.probes.ProbeModel`
    (``Access.models``)."""
    if len(plan.probes) < 2:
        return None
    centres = []
    for p in plan.probes:
        tip, entry = np.asarray(p.tip_mm, float), np.asarray(p.entry_mm, float)
        unit = (entry - tip) / np.linalg.norm(entry - tip)
        centres.append(tip + models[p.model].active_middle_mm * unit)
    distance = np.linalg.norm(np.asarray(centres)[:, None] - np.asarray(centres)[None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    names = [p.name for p in plan.probes]
    if distance.min() < min_spacing_mm - tolerance_mm:
        a, b = np.unravel_index(np.argmin(distance), distance.shape)
        return (
            f"two active zones {distance.min():.1f} mm apart (minimum {min_spacing_mm:g}): "
            f"{names[a]} and {names[b]}"
        )
    nearest = distance.min(axis=1)
    if nearest.max() > max_spacing_mm + tolerance_mm:
        return (
            f"a probe {nearest.max():.1f} mm from its nearest neighbour "
            f"(maximum {max_spacing_mm:g}): {names[int(np.argmax(nearest))]}"
        )
    return None
