"""Conflict analysis: which structure limits block tumour coverage, and the trade-off plan.

When the verified plan fails a limit (or no selection keeps the structure limits), each
structure's limit is dropped in turn: a structure whose removal lets the surrogate cover more
tumour or margin points conflicts with coverage (all structures together are tried only when
no single one does). The coverage-first plan (:func:`trade_off`: the fewest limits set aside
that let the surrogate cover what it covers with none) is verified by the solver (how far it
breaks each limit, and when), unless a plan the solver simulated already covers more than the
safe plan and breaks those limits; it is the plan written when no plan keeps every structure
limit. :mod:`optiprobe.planner.infeasibility` states the outcome in solver numbers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from optiprobe.planner.infeasibility import (
    COVERAGE_PREFIX,
    criterion_row,
    english_list,
    plural,
    shown_by_solver,
)
from optiprobe.planner.rounds import verify_plan
from optiprobe.planner.safety import protection_advice
from optiprobe.planner.select import WORK_LIMIT

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
    scale: dict[str, float],
    *,
    safe_evaluation,
    reference=None,
    work_limit: float = WORK_LIMIT,
    verify_trade_off: bool = True,
    checked=(),
    say: Callable[[str], None],
) -> ConflictAnalysis:
    """Which structure limits conflict with coverage, and the coverage-first trade-off.

    ``solve(drop, coverage_c=..., hint=..., work_limit=...)`` selects without the limits of
    the structures in ``drop`` (:meth:`~optiprobe.planner.problem.SampledProblem.select` with
    the rounds' correction ``scale``; it is called from several threads at once);
    ``safe_evaluation`` is the solver's evaluation of the best safe plan, None when there is
    none. The trade-off is verified when ``verify_trade_off`` or when no safe plan exists.
    ``reference`` is the selection with every limit at the case's targets (the rounds' final
    check), solved here with ``work_limit`` when not given; each selection without some
    limits gets an eighth of ``work_limit``. ``checked`` are the (label, plan, result,
    evaluation) of the plans the solver simulated so far: when they already cover more than
    the safe plan and break every limit the trade-off sets aside, the conflict is shown by
    the solver and the coverage-first plan is not simulated; the trade-off entry (protection,
    time to each limit) is then the covering plan's, and a message says so.
    """
    no_safe_plan = safe_evaluation is None
    coverage_c = problem.coverage.limit_isotherm_c
    if reference is None:
        reference = solve(coverage_c=coverage_c, work_limit=work_limit)
    # Each selection without some limits starts from the reference, which keeps every row
    # left, so it needs only the search for what the freed rows allow: an eighth of the work.
    drops = _Drops(solve, coverage_c, reference, work_limit / 8)
    analysis = ConflictAnalysis(
        _conflicts(problem, drops, reference, scale, safe_plan_exists=not no_safe_plan)
    )
    names = [spec.structure for spec in problem.structures]
    conflict = trade_off(analysis.conflicts, lambda drop, **_: drops(drop), coverage_c, names)
    shown = _already_shown(conflict, [(r[0], r[3]) for r in checked], safe_evaluation)
    if shown:
        label, plan, result, evaluation = max(
            (r for r in checked if r[0] in shown), key=lambda r: _coverage(r[3])
        )
        record = _trade_off_record(
            case, volume, plan, result, evaluation, conflict, safe_evaluation
        )
        analysis.trade_offs.append(record | {"simulated_as": label})
        analysis.message = (
            "the coverage-first plan was not simulated: the "
            + english_list(sorted(shown))
            + f" plan{plural(shown)} already show{'' if len(shown) > 1 else 's'} the "
            f"{english_list(conflict['structures'])} limit{plural(conflict['structures'])} "
            f"against coverage in the solver (its trade_off_plans entry is the {label} plan)"
        )
    elif conflict is not None and (verify_trade_off or no_safe_plan):
        # The other side of the trade-off, checked by the solver: the plan that covers the
        # tumour when every conflicting structure's limit is set aside (with one set aside,
        # another conflicting limit would still hold coverage back).
        say(
            "verifying the coverage-first plan without the "
            f"{english_list(conflict['structures'])} limit" + plural(conflict["structures"])
        )
        plan, result, evaluation = _coverage_first(case, volume, problem, conflict)
        analysis.trade_evaluations.append((conflict, evaluation))
        record = _trade_off_record(
            case, volume, plan, result, evaluation, conflict, safe_evaluation
        )
        analysis.trade_offs.append(record | {"simulated_as": "coverage-first"})
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


def _already_shown(conflict, checked, safe_evaluation) -> set[str]:
    """The labels of the solver-checked plans that show ``conflict`` (see
    :func:`~optiprobe.planner.infeasibility.shown_by_solver`): together they cover more than
    the safe plan and break each limit the trade-off sets aside. Empty when they do not, or
    when there is no safe plan (its coverage-first plan is then the plan written)."""
    if conflict is None or safe_evaluation is None:
        return set()
    found = {item["structure"]: item["plan"] for item in shown_by_solver(checked, safe_evaluation)}
    if not set(conflict["structures"]) <= set(found):
        return set()
    return {found[name] for name in conflict["structures"]}


class _Drops:
    """The selections without some structures' limits, each solved once, started from the
    selection with every limit (which keeps every row that is left). CP-SAT runs one worker
    per solve with a deterministic work limit, so solving several at once, one per core,
    changes no selection, only the wall time (L4, its 4 single-structure solves at 40 work
    units each: 23 s on 2 cores against 39 s one after another, same selections)."""

    def __init__(self, solve, coverage_c: float, reference, work_limit: float):
        self._solve, self._coverage_c, self._work_limit = solve, coverage_c, work_limit
        self._hint = reference.chosen or None
        self._done: dict[frozenset, object] = {}

    def __call__(self, group) -> object:
        key = frozenset(group)
        if key not in self._done:
            self.prefetch([group])
        return self._done[key]

    def prefetch(self, groups) -> None:
        """Solve the ``groups`` not solved yet, as many at once as there are cores."""
        todo: dict[frozenset, tuple] = {}
        for group in groups:
            if frozenset(group) not in self._done:
                todo.setdefault(frozenset(group), tuple(group))
        if not todo:
            return
        with ThreadPoolExecutor(max(1, min(len(todo), os.cpu_count() or 1))) as pool:
            solved = list(
                pool.map(
                    lambda group: self._solve(
                        group,
                        coverage_c=self._coverage_c,
                        hint=self._hint,
                        work_limit=self._work_limit,
                    ),
                    todo.values(),
                )
            )
        self._done.update(zip(todo, solved, strict=True))


def _conflicts(
    problem, drops: _Drops, reference, scale: dict, *, safe_plan_exists: bool
) -> list[dict]:
    """Each structure (or, when none alone, all together) whose limit, set aside, lets the
    surrogate cover more tumour and margin points than with every limit; most points gained
    first. Each keeps its selection under ``_selection`` for :func:`trade_off`.

    CP-SAT stops at its work limit, so a search without some limits can find a better
    selection that keeps them all the same. Such a selection is no conflict: it raises what
    "with every limit" covers instead (the best selection keeping every limit, ``reference``
    or one of those, is what the gains are counted from)."""
    names = [spec.structure for spec in problem.structures]
    groups = [(name,) for name in names] + ([tuple(names)] if len(names) > 1 else [])
    # The one without any limit is always needed (the trade-off), so it runs with the rest.
    drops.prefetch(groups)
    # Which selections keep the limits they were freed of anyway (decided once per group).
    kept = {g: problem.keeps_limits(drops(g).chosen, g, scale) for g in groups}
    safe = [reference] + [drops(g) for g in groups if kept[g]]
    best = min((s for s in safe if s.chosen), key=_uncovered, default=reference)
    tumour, margin = problem.roles["tumour"], problem.roles["margin"]
    base = (
        _uncovered(best)
        if best.chosen
        else int(tumour.stop - tumour.start + margin.stop - margin.start)
    )
    conflicts = []
    for group in groups:
        if len(group) > 1 and conflicts:
            break  # the joint test only when no single structure explains the conflict
        freed = drops(group)
        if not freed.chosen or kept[group]:
            continue
        gained = base - _uncovered(freed)
        if gained > 0:
            limit_c = min(s.min_temperature_c for s in problem.structures if s.structure in group)
            conflicts.append(_conflict(group, limit_c, gained, best, freed, safe_plan_exists))
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
