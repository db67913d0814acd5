"""``plan_case``: candidates → CP-SAT selection on the surrogate → solver verification → repair.

The stages, in order (each in its own module):

1. Candidate trajectories (:mod:`optiprobe.planner.candidates`).
2. The sampled problem (:mod:`optiprobe.planner.problem`): sample points in the tumour, the
   margin shell, healthy tissue and the protected structures near the tumour; every option's
   cold potential there (the surrogate), at three freeze-duration levels; structure limits
   raised by a safety buffer, in potential units.
3. A lower bound on the probe count from the LP relaxation (cvxpy,
   :mod:`optiprobe.planner.select`).
4. Verification and correction rounds (:mod:`optiprobe.planner.rounds`): CP-SAT selection,
   gradient refinement on the surrogate (optax, :mod:`optiprobe.planner.refinement`), the full
   solver, and a correction of the surrogate near each structure and of the targets; after a
   pass, steps to one probe fewer; when no round passes, a final check at the case's own
   targets. The best verified round is kept. Only solver numbers are reported.
5. When limits still fail (or no selection keeps the structure limits), the conflict analysis
   and the coverage-first trade-off (:mod:`optiprobe.planner.conflicts`); the trade-off is the
   plan returned when no plan keeps every structure limit.
6. Protection advice (:mod:`optiprobe.planner.safety`) for structures near or past their limit,
   robustness of the plan to ±2 mm placement errors, and, when a limit fails, the
   infeasibility report.

``spacing_problem`` lives with the refinement it checks (:mod:`optiprobe.planner.refinement`)
and is re-exported here, where callers have always found it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from optiprobe.case import Plan
from optiprobe.planner.candidates import access_of, generate_candidates
from optiprobe.planner.conflicts import analyse_conflicts
from optiprobe.planner.infeasibility import infeasibility_report
from optiprobe.planner.problem import build_problem
from optiprobe.planner.refinement import spacing_problem
from optiprobe.planner.rounds import final_check, run_rounds
from optiprobe.planner.safety import (
    held_regions_limiting_margin,
    margin_shortfall,
    protection_advice,
    robustness,
    structures_limiting_margin,
)
from optiprobe.planner.select import WORK_LIMIT

__all__ = ["PlanOutcome", "plan_case", "spacing_problem"]


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
    from optiprobe.surrogate.model import load_surrogate

    say = progress or (lambda message: None)
    start = time.perf_counter()
    surrogate = load_surrogate()
    for name in case.probes.model_names:
        surrogate.model_index(name)  # user-defined models: a clear error
    say("generating candidate trajectories")
    access = access_of(case, volume)
    candidates = generate_candidates(case, volume, access=access)
    timings = {"candidates_s": round(time.perf_counter() - start, 2)}
    outcome = PlanOutcome(
        None, None, None, len(candidates), candidates.rejected, timings_s=timings
    )
    if len(candidates) == 0:
        outcome.messages.append(
            "no safe trajectory: every candidate needle path breaks a clearance, depth, bone or "
            f"grid limit ({candidates.rejected})"
        )
        return outcome
    problem = build_problem(case, volume, candidates, surrogate, say=say)
    timings["surrogate_s"] = problem.surrogate_s
    say("LP relaxation: a lower bound on the probe count (cvxpy)")
    outcome.probe_bound = problem.probe_count_bound()
    rounds = run_rounds(
        case,
        volume,
        problem,
        access,
        say=say,
        max_rounds=max_rounds,
        work_limit=cp_sat_work_limit,
        refine_plans=refine_plans,
    )
    reference = None  # the selection with every limit the conflict analysis starts from
    if not any(v[2].passed for v in rounds.verified):
        reference = final_check(
            case,
            volume,
            problem,
            access,
            rounds,
            say=say,
            work_limit=cp_sat_work_limit,
            refine_plans=refine_plans,
        )
    outcome.rounds = rounds.records
    outcome.messages.extend(rounds.messages)
    if rounds.verified:
        best = rounds.best(case)
        outcome.plan, outcome.result, outcome.evaluation, _ = rounds.verified[best]
        timings["chosen_round"] = best + 1
    trade_evaluations = []  # (conflict, solver evaluation) of the trade-off plans
    labels = [_label(r) for r in rounds.records if "solver" in r]
    runs = [(label, *v[:3]) for label, v in zip(labels, rounds.verified, strict=True)]
    checked = [(label, run[3]) for label, run in zip(labels, runs, strict=True)]
    if outcome.evaluation is None or not outcome.evaluation.passed:
        say("analysing which structure limits conflict with coverage")
        trade_evaluations = _analyse(
            outcome,
            case,
            volume,
            problem,
            rounds.scale,
            reference,
            runs,
            work_limit=cp_sat_work_limit,
            verify_trade_off=verify_trade_off,
            say=say,
        )
    if outcome.evaluation is not None:
        _assess(outcome, case, volume, problem, surrogate, say=say)
    if outcome.evaluation is None or not outcome.evaluation.passed:
        outcome.infeasibility = _explain(
            outcome, case, volume, problem, checked, trade_evaluations
        )
    timings["total_s"] = round(time.perf_counter() - start, 2)
    return outcome


def _analyse(
    outcome: PlanOutcome,
    case,
    volume,
    problem,
    scale,
    reference,
    checked,
    *,
    work_limit,
    verify_trade_off,
    say,
) -> list[tuple]:
    """Record the conflict analysis (selecting with the rounds' correction ``scale``) in
    ``outcome``; its coverage-first plan becomes the plan written when no safe plan exists.
    ``checked`` are the (label, plan, result, evaluation) of the plans verified so far.
    Returns the (set aside, solver evaluation) of each verified trade-off plan."""
    found = analyse_conflicts(
        case,
        volume,
        problem,
        functools.partial(problem.select, scale),
        scale,
        safe_evaluation=outcome.evaluation,
        reference=reference,
        work_limit=work_limit,
        verify_trade_off=verify_trade_off,
        checked=checked,
        say=say,
    )
    outcome.conflicts = found.conflicts
    outcome.trade_offs = found.trade_offs
    if found.written is not None:
        outcome.plan, outcome.result, outcome.evaluation = found.written
        outcome.trade_off_written = True
    if found.message:
        outcome.messages.append(found.message)
    return found.trade_evaluations


def _explain(outcome: PlanOutcome, case, volume, problem, verified, trade_evaluations) -> dict:
    """The infeasibility report, with the exact margin bounds of warm held regions and of
    structures near the tumour."""
    margin = problem.margin
    return infeasibility_report(
        case,
        outcome,
        verified,
        trade_evaluations,
        margin_bounds=held_regions_limiting_margin(
            case, volume, limit_mm=margin.limit_mm, isotherm_c=margin.isotherm_c
        ),
        structure_bounds=structures_limiting_margin(
            case, volume, limit_mm=margin.limit_mm, isotherm_c=margin.isotherm_c
        ),
        margin_limit_mm=margin.limit_mm,
    )


def _assess(outcome: PlanOutcome, case, volume, problem, surrogate, *, say) -> None:
    """Protection advice, where the ice margin falls short, and robustness of the plan."""
    outcome.protection = protection_advice(case, volume, outcome.result)
    if any(not r.passed for r in outcome.evaluation.rows if r.criterion.startswith("ice margin")):
        outcome.margin_shortfall = margin_shortfall(
            case,
            volume,
            outcome.result,
            limit_mm=problem.margin.limit_mm,
            isotherm_c=problem.margin.isotherm_c,
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


def _label(record: dict) -> str:
    """How the infeasibility report names a verified round."""
    if record.get("final_check"):
        return "final check"
    notes = [
        text
        for key, text in (
            ("fewer_probes_than", "fewer probes"),
            ("calibrated_models_only", "gel-calibrated models only"),
        )
        if record.get(key)
    ]
    return f"round {record['round']}" + (f" ({', '.join(notes)})" if notes else "")
