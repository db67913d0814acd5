"""Conflict analysis: which structure limits block tumour coverage, and the trade-off plan.

When the verified plan fails a limit (or no selection keeps the structure limits), each
structure's limit is dropped in turn: a structure whose removal lets the surrogate cover more
tumour or margin points conflicts with coverage (all structures together are tried only when
no single one does). The coverage-first plan (:func:`trade_off`: the fewest limits set aside
that let the surrogate cover what it covers with none) is verified by the solver (how far it
breaks each limit, and when), and is the plan written when no plan keeps every structure
limit. :mod:`optiprobe.planner.infeasibility` states the outcome in solver numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from optiprobe.planner.infeasibility import (
    COVERAGE_PREFIX,
    criterion_row,
    english_list,
    plural,
)
from optiprobe.planner.rounds import verify_plan
from optiprobe.planner.safety import protection_advice

__all__ = ["ConflictAnalysis", "analyse_conflicts", "trade_off"]


@dataclass
class ConflictAnalysis:
    """Conflicting structures (most conflicting first), the solver-checked coverage-first
    plan(s) and, when no safe plan exists, the coverage-first plan to write."""

    conflicts: list[dict]
    trade_offs: list[dict] = field(default_factory=list)  # planner.json's trade_off_plans
    trade_evaluations: list[tuple] = field(default_factory=list)  # (set aside, evaluation)
    written: tuple | None = None  # (plan, result, evaluation) of the trade-off to write
    message: str | None = None


def analyse_conflicts(
    case,
    volume,
    problem,
    solve: Callable,
    *,
    safe_evaluation,
    verify_trade_off: bool = True,
    say: Callable[[str], None],
) -> ConflictAnalysis:
    """Which structure limits conflict with coverage, and the coverage-first trade-off.

    ``solve(drop, coverage_c=...)`` selects without the limits of the structures in ``drop``
    (:meth:`~optiprobe.planner.problem.SampledProblem.select` with the rounds' correction);
    ``safe_evaluation`` is the solver's evaluation of the best safe plan, None when there is
    none. The trade-off is verified when ``verify_trade_off`` or when no safe plan exists.
    """
    no_safe_plan = safe_evaluation is None
    coverage_c = problem.coverage.limit_isotherm_c
    analysis = ConflictAnalysis(_conflicts(problem, solve, safe_plan_exists=not no_safe_plan))
    names = [spec.structure for spec in problem.structures]
    conflict = trade_off(analysis.conflicts, solve, coverage_c, names)
    if conflict is not None and (verify_trade_off or no_safe_plan):
        # The other side of the trade-off, checked by the solver: the plan that covers the
        # tumour when every conflicting structure's limit is set aside (with one set aside,
        # another conflicting limit would still hold coverage back).
        say(
            "verifying the coverage-first plan without the "
            f"{english_list(conflict['structures'])} limit" + plural(conflict["structures"])
        )
        plan, result, evaluation = _coverage_first(case, volume, problem, conflict)
        analysis.trade_evaluations.append((conflict, evaluation))
        analysis.trade_offs.append(
            _trade_off_record(case, volume, plan, result, evaluation, conflict, safe_evaluation)
        )
        if no_safe_plan:
            analysis.written = plan, result, evaluation
            analysis.message = (
                f"no plan keeps every structure limit; the plan written is the "
                "coverage-first trade-off that sets the "
                f"{english_list(conflict['structures'])} limit{plural(conflict['structures'])} "
                "aside (see trade_off_plans and protection in planner.json)"
            )
    for found in analysis.conflicts:
        found.pop("_selection", None)
    return analysis


def _conflicts(problem, solve, *, safe_plan_exists: bool) -> list[dict]:
    """Each structure (or, when none alone, all together) whose limit, set aside, lets the
    surrogate cover more tumour and margin points; most points gained first. Each keeps its
    selection under ``_selection`` for :func:`trade_off`."""
    tumour, margin = problem.roles["tumour"], problem.roles["margin"]
    total = int(tumour.stop - tumour.start + margin.stop - margin.start)
    coverage_c = problem.coverage.limit_isotherm_c
    reference = solve(coverage_c=coverage_c)
    base = reference.uncovered_tumour + reference.uncovered_margin
    if not reference.chosen:
        base = total
    names = [spec.structure for spec in problem.structures]
    groups = [(name,) for name in names]
    conflicts = []
    for group in groups + ([tuple(names)] if len(names) > 1 else []):
        if len(group) > 1 and conflicts:
            break  # the joint test only when no single structure explains the conflict
        freed = solve(group, coverage_c=coverage_c)
        if not freed.chosen:
            continue
        gained = base - (freed.uncovered_tumour + freed.uncovered_margin)
        if gained > 0:
            limit_c = min(s.min_temperature_c for s in problem.structures if s.structure in group)
            conflicts.append(_conflict(group, limit_c, gained, reference, freed, safe_plan_exists))
    conflicts.sort(key=lambda c: -c["sample_points_gained"])
    return conflicts


def _conflict(group, limit_c, gained, reference, freed, safe_plan_exists) -> dict:
    """One conflict: the points gained without ``group``'s limits, with and without them."""
    return {
        "structure": " + ".join(group),
        "structures": list(group),
        "limit_c": limit_c,
        "sample_points_gained": int(gained),
        "safe_plan_exists": safe_plan_exists,
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


def trade_off(conflicts: list[dict], solve, coverage_c: float, names=()) -> dict | None:
    """What the coverage-first plan sets aside: the fewest limits that let the surrogate cover
    what it covers with no structure limit at all.

    Tried in order: the most conflicting structure alone; every conflicting structure together;
    every structure in ``names``. The first whose selection leaves no more points uncovered
    than the selection without any limit is taken (the last otherwise). On L4 the dural sac
    and the left nerve root, set aside together, still left most sample points uncovered (the
    cauda equina and the right root held coverage back too), and the solver, given a plan
    that covered barely more than the safe one, could not confirm the conflict.
    """
    if not conflicts:
        return None
    single = conflicts[0]
    joint = tuple(dict.fromkeys(n for c in conflicts for n in c["structures"]))
    every = tuple(dict.fromkeys((*joint, *names)))
    steps, free = [single], None
    if len(every) > len(single["structures"]):
        free = solve(every, coverage_c=coverage_c)
    if len(joint) > len(single["structures"]):
        selection = free if joint == every else solve(joint, coverage_c=coverage_c)
        steps.append(_set_aside(joint, conflicts, selection))
    if free is not None and len(every) > len(joint):
        steps.append(_set_aside(every, conflicts, free))
    steps = [s for s in steps if s["_selection"].chosen]
    if not steps:
        return None
    if free is None or not free.chosen:
        return min(steps, key=lambda s: _uncovered(s["_selection"]))
    target = _uncovered(free)
    return next((s for s in steps if _uncovered(s["_selection"]) <= target), steps[-1])


def _uncovered(selection) -> int:
    return selection.uncovered_tumour + selection.uncovered_margin


def _set_aside(names: tuple, conflicts: list[dict], selection) -> dict:
    """A trade-off record that sets the limits of ``names`` aside (their joint selection)."""
    return {
        "structure": " + ".join(names),
        "structures": list(names),
        "limit_c": min(c["limit_c"] for c in conflicts),
        "_selection": selection,
    }


def trade_off_name(structures) -> str:
    """The coverage-first plan's name: the limits it sets aside, or their count when the
    names would pass the plan file's 64 characters."""
    name = "coverage_first_without_" + "_".join(structures)
    return name if len(name) <= 64 else f"coverage_first_without_{len(structures)}_limits"


def _coverage_first(case, volume, problem, conflict: dict) -> tuple:
    """The plan of ``conflict``'s selection, named for the limits it sets aside, with the
    solver's result and evaluation."""
    plan = problem.plan_from(conflict["_selection"].chosen).model_copy(
        update={
            "name": trade_off_name(conflict["structures"]),
            "description": "trade-off: may break the "
            f"{english_list(conflict['structures'])} limit{plural(conflict['structures'])} "
            "to cover the tumour",
        }
    )
    result, evaluation = verify_plan(case, volume, plan)
    return plan, result, evaluation


def _trade_off_record(case, volume, plan, result, evaluation, conflict, safe_evaluation) -> dict:
    """The coverage-first plan's entry in ``trade_off_plans``: the plan, the solver's numbers
    and protection advice for the structures it sets aside."""
    covered = _coverage(evaluation)
    safe_covered = None if safe_evaluation is None else _coverage(safe_evaluation)
    return {
        "plan": plan.model_dump(mode="json", exclude_none=True),
        "set_aside": english_list(conflict["structures"]),
        "covers_more_than_plan_written": None if safe_covered is None else covered > safe_covered,
        "solver": {row.criterion: round(row.value, 3) for row in evaluation.rows},
        "limits_pass": evaluation.passed,
        "protection": [
            item
            for name in conflict["structures"]
            for item in protection_advice(case, volume, result, only=name, within_c=0.0)
        ],
    }


def _coverage(evaluation) -> float:
    """Fraction of the tumour below the coverage limit isotherm, from the solver's rows."""
    row = criterion_row(evaluation, COVERAGE_PREFIX)
    return 0.0 if row is None else row.value
