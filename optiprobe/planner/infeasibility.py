"""The infeasibility report: what a plan that fails its limits fails, and why, in solver numbers.

Written to ``planner.json`` (and printed by the CLI, shown in the report) whenever no plan meets
every limit in the solver: the criteria the written plan fails and by how much; per conflicting
structure (:mod:`optiprobe.planner.conflicts`) both sides of the trade-off; every plan the
solver simulated; exact margin bounds from warm held layers and from structures whose limit
is warmer than the margin isotherm; and, when no structure explains
the failure, that it is not a proven conflict.
"""

from __future__ import annotations

__all__ = [
    "COVERAGE_PREFIX",
    "criterion_row",
    "english_list",
    "infeasibility_report",
    "plural",
    "shown_by_solver",
]

COVERAGE_PREFIX = "tumour fraction colder than"  # the coverage row of an Evaluation
_STRUCTURE_SUFFIX = " minimum temperature"  # a protected structure's row


def infeasibility_report(
    case,
    outcome,
    rounds,
    trade_evaluations,
    *,
    margin_bounds=(),
    structure_bounds=(),
    margin_limit_mm=None,
) -> dict:
    """The explicit report written when no plan meets every limit in the solver.

    Every number in it is the solver's: the criteria the written plan fails and by how much;
    for each structure whose limit blocks coverage in the surrogate, what the solver says on
    both sides of that trade-off (the safe plan's coverage and margin, the coverage-first
    plan's structure temperature); every solver-checked plan; and, when no structure explains
    the failure, where the ice margin falls short. Protection advice and thermocouple
    placement are in ``protection`` (and in each trade-off plan). ``margin_bounds``
    (:func:`~optiprobe.planner.safety.held_regions_limiting_margin`) are exact conflicts of
    the margin limit ``margin_limit_mm`` with warm held layers, ``structure_bounds``
    (:func:`~optiprobe.planner.safety.structures_limiting_margin`) those with structures whose
    limit is warmer than the margin isotherm. ``rounds`` are the solver
    evaluations of the verified rounds; ``case`` is not read.
    """
    checked = _checked_plans(rounds, trade_evaluations)
    written = outcome.evaluation
    failing = [] if written is None else _failing(written)
    summary = [_headline(failing, len(checked), written_plan=written is not None)]
    summary += [_margin_bound_sentence(b, margin_limit_mm) for b in margin_bounds]
    summary += [_structure_bound_sentence(b, margin_limit_mm) for b in structure_bounds]
    conflicts = []
    for conflict in outcome.conflicts:
        entry = _conflict_entry(conflict, trade_evaluations, written, outcome.trade_off_written)
        conflicts.append(entry)
        summary.append(_conflict_sentence(conflict, entry))
    shown = [] if written is None else shown_by_solver(rounds, written)
    summary += [_shown_sentence(item) for item in shown]
    if not outcome.conflicts and written is not None:
        summary += _unexplained(
            outcome.margin_shortfall or {},
            proven=bool(margin_bounds or structure_bounds),
            shown=bool(shown),
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
        "conflicts_shown_by_solver": shown,
        "solver_checked_plans": checked,
        "margin_bounded_by_held_regions": list(margin_bounds),
        "margin_bounded_by_structure_limits": list(structure_bounds),
    }


def _labelled(rounds) -> list[tuple]:
    """(label, evaluation) of each verified round; bare evaluations are "round 1", ..."""
    return [r if isinstance(r, tuple) else (f"round {i + 1}", r) for i, r in enumerate(rounds)]


def _checked_plans(rounds, trade_evaluations) -> list[dict]:
    """Every solver-checked plan, whether its limits pass and what fails."""
    return [
        {"plan": label, "limits_pass": e.passed, "failing": _failing(e)}
        for label, e in _labelled(rounds)
    ] + [
        {
            "plan": f"coverage-first without the {english_list(c['structures'])} limit"
            + plural(c["structures"]),
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


def _structure_bound_sentence(bound: dict, margin_limit_mm) -> str:
    name, limit = bound["structure"], bound["limit_c"]
    return (
        f"Conflict (exact, from the geometry): the ice margin limit ({margin_limit_mm:g} mm) "
        f"with the {name} limit ({limit:g} °C). {name} lies {bound['closest_mm']:g} mm from "
        f"the tumour surface; while it stays at or above {limit:g} °C it is warmer than the "
        f"margin isotherm, so no plan that keeps its limit has a margin beyond "
        f"{bound['closest_mm']:g} mm ({bound['surface_fraction_within_limit']:.1%} of the "
        f"surface is closer than {margin_limit_mm:g} mm to it)."
    )


def _conflict_entry(conflict: dict, trade_evaluations, written, trade_off_written) -> dict:
    """One conflict in solver numbers: the coverage-first plan that set it aside, and the plan
    written (when that is not the trade-off itself)."""
    entry = {
        "structure": conflict["structure"],
        "limit_c": conflict["limit_c"],
        "conflicts_with": "tumour coverage and ice margin",
        "surrogate_sample_points_gained": conflict["sample_points_gained"],
    }
    found = _trade_for(conflict, trade_evaluations)
    if found is not None:
        aside, trade = found
        coldest = _coldest(trade, conflict["structures"])
        cover = criterion_row(trade, COVERAGE_PREFIX)
        entry["coverage_first_plan"] = {
            "limits_set_aside": list(aside["structures"]),
            "structure_min_c": None if coldest is None else round(coldest.value, 2),
            "below_limit_by_c": None
            if coldest is None
            else round(max(coldest.limit - coldest.value, 0.0), 2),
            "tumour_coverage": None if cover is None else round(cover.value, 4),
        }
    if written is not None and not trade_off_written:
        cover = criterion_row(written, COVERAGE_PREFIX)
        margin = criterion_row(written, "ice margin")
        coldest = _coldest(written, conflict["structures"])
        entry["plan_written"] = {
            "tumour_coverage": None if cover is None else round(cover.value, 4),
            "coverage_limit": None if cover is None else cover.limit,
            "ice_margin_mm": None if margin is None else round(margin.value, 2),
            "ice_margin_limit_mm": None if margin is None else margin.limit,
            "structure_min_c": None if coldest is None else round(coldest.value, 2),
            "keeps_structure_limit": None if coldest is None else bool(coldest.passed),
        }
    return entry


def _coldest(evaluation, structures):
    """The coldest of the structures' minimum-temperature rows of ``evaluation``, or None."""
    rows = [criterion_row(evaluation, name + " minimum") for name in structures]
    return min((r for r in rows if r is not None), key=lambda r: r.value, default=None)


def _conflict_sentence(conflict: dict, entry: dict) -> str:
    """The conflict as the surrogate found it, and what the solver says of its other side.

    The solver confirms it only when the plan written keeps the structure's limit, and the
    coverage-first plan covers more of the tumour than the plan written and takes the
    structure below its limit."""
    text = f"Conflict (surrogate): the {conflict['structure']} limit " + (
        f"({conflict['limit_c']:g} °C) blocks tumour coverage and ice margin."
    )
    first = entry.get("coverage_first_plan")
    if not first or first["structure_min_c"] is None:
        return text
    aside = first["limits_set_aside"]
    text += (
        " Solver: the coverage-first plan"
        + (f" (without the {english_list(aside)} limits)" if len(aside) > 1 else "")
        + f" covers {first['tumour_coverage']:.1%} and takes {conflict['structure']} to "
        f"{first['structure_min_c']:g} °C"
    )
    written = entry.get("plan_written") or {}
    if written.get("keeps_structure_limit") is False:
        return text + (
            f"; the plan written breaks that limit too ({written['structure_min_c']:g} °C), "
            "so no simulated plan keeps it: the conflict is neither confirmed nor ruled out."
        )
    covered = written.get("tumour_coverage")
    if covered is not None and first["tumour_coverage"] <= covered:
        return text + (
            f"; it covers no more than the plan written ({covered:.1%}), so the solver does "
            "not confirm the conflict."
        )
    if first["below_limit_by_c"] > 0:
        return text + f", {first['below_limit_by_c']:g} °C below its limit."
    return text + " (the limit holds there: the solver does not confirm the conflict)."


def shown_by_solver(rounds, written) -> list[dict]:
    """Structure limits the solver shows in the way of coverage, whatever the surrogate
    found: the plan written keeps every structure limit, and a verified round (or the final
    check) that covers more of the tumour breaks one. Per structure, the plan that covers
    most while breaking it."""
    if any(not r.passed for r in written.rows if r.criterion.endswith(_STRUCTURE_SUFFIX)):
        return []
    covered = criterion_row(written, COVERAGE_PREFIX)
    if covered is None:
        return []
    found = {}
    for label, evaluation in _labelled(rounds):
        cover = criterion_row(evaluation, COVERAGE_PREFIX)
        if cover is None or cover.value <= covered.value:
            continue
        for row in evaluation.rows:
            if not row.criterion.endswith(_STRUCTURE_SUFFIX) or row.passed:
                continue
            name = row.criterion[: -len(_STRUCTURE_SUFFIX)]
            if name not in found or cover.value > found[name]["tumour_coverage"]:
                found[name] = {
                    "structure": name,
                    "limit_c": row.limit,
                    "plan": label,
                    "tumour_coverage": round(cover.value, 4),
                    "structure_min_c": round(row.value, 2),
                    "below_limit_by_c": round(row.limit - row.value, 2),
                    "plan_written_coverage": round(covered.value, 4),
                }
    return sorted(found.values(), key=lambda item: -item["below_limit_by_c"])


def _shown_sentence(item: dict) -> str:
    return (
        f"Conflict (shown by the solver): the {item['structure']} limit "
        f"({item['limit_c']:g} °C) against tumour coverage. The plan written keeps every "
        f"structure limit and covers {item['plan_written_coverage']:.1%}; the {item['plan']} "
        f"plan covers {item['tumour_coverage']:.1%} and takes {item['structure']} to "
        f"{item['structure_min_c']:g} °C, {item['below_limit_by_c']:g} °C below its limit. "
        "This shows the trade-off on the plans simulated; it does not prove that no plan has "
        "both."
    )


def _unexplained(short: dict, *, proven: bool, shown: bool = False) -> list[str]:
    """Sentences when no structure explains the failure in the surrogate: not a proven
    conflict (unless a held region bounds the margin), and what the short margin lies next
    to."""
    sentences = []
    if not proven and not shown:
        sentences.append(
            "No structure limit was found to block coverage in the surrogate: the failure "
            "is the planner's (or the surrogate's) and not a proven conflict."
        )
    elif not proven:
        sentences.append(
            "The surrogate found no structure limit that blocks coverage; the conflict above "
            "is the solver's, from the plans it simulated."
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


def criterion_row(evaluation, prefix: str):
    """The first row of ``evaluation`` whose criterion starts with ``prefix``, or None."""
    return next((r for r in evaluation.rows if r.criterion.startswith(prefix)), None)


def plural(names) -> str:
    return "s" if len(names) > 1 else ""


def english_list(names) -> str:
    """'a', 'a and b', 'a, b and c'."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
