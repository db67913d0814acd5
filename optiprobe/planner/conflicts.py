"""Conflict analysis and the infeasibility report, for cases where limits still fail.

When the verified plan fails a limit (or no selection keeps the structure limits), each
structure's limit is dropped in turn: a structure whose removal lets the surrogate cover more
tumour or margin points conflicts with coverage (all structures together are tried only when
no single one does). The coverage-first plan without the conflicting limit(s)
(:func:`trade_off`) is verified by the solver (how far it breaks the limit, and when), and is
the plan written when no plan keeps every structure limit. :func:`infeasibility_report` then
states, in solver numbers only, what fails, by how much, and which structure conflicts with
which criterion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from optiprobe.planner.rounds import verify_plan
from optiprobe.planner.safety import protection_advice

__all__ = ["ConflictAnalysis", "analyse_conflicts", "infeasibility_report", "trade_off"]

COVERAGE_PREFIX = "tumour fraction colder than"  # the coverage row of an Evaluation


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
    conflict = trade_off(analysis.conflicts, solve, coverage_c)
    if conflict is not None and (verify_trade_off or no_safe_plan):
        # The other side of the trade-off, checked by the solver: the plan that covers the
        # tumour when every conflicting structure's limit is set aside (with one set aside,
        # another conflicting limit would still hold coverage back).
        say(f"verifying the coverage-first plan without the {conflict['structure']} limit")
        plan, result, evaluation = _coverage_first(case, volume, problem, conflict)
        analysis.trade_evaluations.append((conflict, evaluation))
        analysis.trade_offs.append(
            _trade_off_record(case, volume, plan, result, evaluation, conflict, safe_evaluation)
        )
        if no_safe_plan:
            analysis.written = plan, result, evaluation
            analysis.message = (
                f"no plan keeps every structure limit; the plan written is the "
                f"coverage-first trade-off that sets the {conflict['structure']} limit "
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


def trade_off(conflicts: list[dict], solve, coverage_c: float) -> dict | None:
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


def _coverage_first(case, volume, problem, conflict: dict) -> tuple:
    """The plan of ``conflict``'s selection, named for the limits it sets aside, with the
    solver's result and evaluation."""
    plan = problem.plan_from(conflict["_selection"].chosen).model_copy(
        update={
            "name": "coverage_first_without_" + "_".join(conflict["structures"]),
            "description": "trade-off: may break the "
            f"{conflict['structure']} limit(s) to cover the tumour",
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
        "set_aside": conflict["structure"],
        "covers_more_than_safe_plan": None if safe_covered is None else covered > safe_covered,
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
    return next(
        (r.value for r in evaluation.rows if r.criterion.startswith("tumour fraction")), 0.0
    )


def infeasibility_report(
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
    the margin limit ``margin_limit_mm`` with warm held layers. ``rounds`` are the solver
    evaluations of the verified rounds; ``case`` is not read.
    """
    checked = _checked_plans(rounds, trade_evaluations)
    written = outcome.evaluation
    failing = [] if written is None else _failing(written)
    summary = [_headline(failing, len(checked), written_plan=written is not None)]
    summary += [_margin_bound_sentence(b, margin_limit_mm) for b in margin_bounds]
    conflicts = []
    for conflict in outcome.conflicts:
        entry = _conflict_entry(conflict, trade_evaluations, written, outcome.trade_off_written)
        conflicts.append(entry)
        summary.append(_conflict_sentence(conflict, entry))
    if not outcome.conflicts and written is not None:
        summary += _unexplained(outcome.margin_shortfall or {}, proven=bool(margin_bounds))
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


def _checked_plans(rounds, trade_evaluations) -> list[dict]:
    """Every solver-checked plan, whether its limits pass and what fails."""
    return [
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


def _headline(failing: list[dict], n_checked: int, *, written_plan: bool) -> str:
    if not written_plan:
        return (
            "No plan: no probe selection keeps every structure limit in the surrogate, and no "
            "single structure (or all of them together) was found to block coverage."
        )
    what = "; ".join(
        f"{f['criterion']} {f['value']:g} {f['unit']} (limit {f['limit']:g}, short by "
        f"{f['short_by']:g})"
        for f in failing
    )
    return (
        f"No plan meets every limit in the solver ({n_checked} plan(s) simulated). "
        f"The plan written fails: {what}."
    )


def _margin_bound_sentence(bound: dict, margin_limit_mm) -> str:
    return (
        f"Conflict (exact, from the geometry): the ice margin limit "
        f"({margin_limit_mm:g} mm) with {bound['region']}, held at "
        f"{bound['fluid_temperature_c']:g} °C {bound['closest_mm']:g} mm from the tumour "
        f"surface: no plan's margin can exceed {bound['closest_mm']:g} mm "
        f"({bound['surface_fraction_within_limit']:.1%} of the surface is closer than "
        f"{margin_limit_mm:g} mm to it)."
    )


def _conflict_entry(conflict: dict, trade_evaluations, written, trade_off_written) -> dict:
    """One conflict in solver numbers: the coverage-first plan that set it aside, and the
    safe plan (when that is the plan written)."""
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
        cover = _row(trade, COVERAGE_PREFIX)
        entry["coverage_first_plan"] = {
            "limits_set_aside": list(aside["structures"]),
            "structure_min_c": None if coldest is None else round(coldest.value, 2),
            "below_limit_by_c": None
            if coldest is None
            else round(max(coldest.limit - coldest.value, 0.0), 2),
            "tumour_coverage": None if cover is None else round(cover.value, 4),
        }
    if written is not None and not trade_off_written:
        safe_cover, safe_margin = _row(written, COVERAGE_PREFIX), _row(written, "ice margin")
        entry["safe_plan"] = {
            "tumour_coverage": None if safe_cover is None else round(safe_cover.value, 4),
            "coverage_limit": None if safe_cover is None else safe_cover.limit,
            "ice_margin_mm": None if safe_margin is None else round(safe_margin.value, 2),
            "ice_margin_limit_mm": None if safe_margin is None else safe_margin.limit,
        }
    return entry


def _conflict_sentence(conflict: dict, entry: dict) -> str:
    text = f"Conflict (surrogate): the {conflict['structure']} limit " + (
        f"({conflict['limit_c']:g} °C) blocks tumour coverage and ice margin."
    )
    first = entry.get("coverage_first_plan")
    if not first or first["structure_min_c"] is None:
        return text
    aside = first["limits_set_aside"]
    return text + (
        " Solver: the coverage-first plan"
        + (f" (without the {' and '.join(aside)} limits)" if len(aside) > 1 else "")
        + " covers "
        f"{first['tumour_coverage']:.1%} and takes {conflict['structure']} to "
        f"{first['structure_min_c']:g} °C"
        + (
            f", {first['below_limit_by_c']:g} °C below its limit."
            if first["below_limit_by_c"] > 0
            else " (the limit holds there: the solver does not confirm the conflict)."
        )
    )


def _unexplained(short: dict, *, proven: bool) -> list[str]:
    """Sentences when no structure explains the failure: not a proven conflict (unless a
    held region bounds the margin), and what the short margin lies next to."""
    sentences = []
    if not proven:
        sentences.append(
            "No structure limit was found to block coverage in the surrogate: the failure "
            "is the planner's (or the surrogate's) and not a proven conflict."
        )
    if short.get("next_to"):
        beside = ", ".join(f"{n['name']} {n['share']:.0%}" for n in short["next_to"])
        sentences.append(
            f"The ice margin is short on {short['short_surface_fraction']:.1%} of the "
            f"tumour surface; the shell it should reach there is {beside}."
        )
    return sentences


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


def _trade_for(conflict: dict, trade_evaluations) -> tuple | None:
    """The trade-off (record, solver evaluation) that set ``conflict``'s structures aside."""
    wanted = set(conflict["structures"])
    return next((t for t in trade_evaluations if wanted <= set(t[0]["structures"])), None)


def _row(evaluation, prefix: str):
    return next((r for r in evaluation.rows if r.criterion.startswith(prefix)), None)
