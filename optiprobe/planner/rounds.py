"""Verification and correction rounds: select, refine, simulate, correct, select again.

Each round selects probes with CP-SAT on the sampled problem
(:meth:`~optiprobe.planner.problem.SampledProblem.select`), refines them on the surrogate
(:func:`~optiprobe.planner.refinement.refine_plan`) and verifies the plan with the full
solver. Per structure, the surrogate's cold potential is then scaled by the solver's coldest
value over the surrogate's prediction for the same plan (too warm near a structure: its
options are held back there); if tumour coverage (or the ice margin) fails, the coverage
(margin) target is made 5 °C colder, and when every structure limit held, the next selection
must use one probe more. At most ``max_rounds`` rounds, stopping when a round is no better
than an earlier one; :meth:`Rounds.best` is the best verified round (every limit, then
verified with gel-fitted probe models, then structure limits, then coverage, then the fewest
probes). Only solver numbers are reported.

After a round passes, up to ``FEWER_STEPS`` more selections with one probe fewer each are
verified while they pass (:func:`_fewer_probes`). When the plan that passed is not verified
because a probe model of it is not fitted to gel data, a selection from the fitted models only
comes first (:func:`_calibrated_models`), and the steps to fewer probes start from it when it
passes. When no round passes, :func:`final_check` verifies the corrected surrogate's best
selection at the case's own targets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from optiprobe.planner.problem import STRUCTURE_BUFFER_C
from optiprobe.planner.refinement import refine_plan
from optiprobe.planner.select import WORK_LIMIT

FEWER_STEPS = 2  # solver-checked steps to fewer probes after a plan passes

__all__ = ["Rank", "Rounds", "final_check", "rank", "run_rounds", "verify_plan"]


@dataclass
class Rounds:
    """What the rounds did: every verified plan, a record per round, messages, and the
    per-structure correction they ended with (the conflict analysis selects with it)."""

    scale: dict[str, float]
    verified: list[tuple] = field(default_factory=list)  # (plan, result, evaluation, selection)
    records: list[dict] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def best(self, case) -> int:
        """Index of the best verified round (see :func:`rank`; then the fewest probes)."""
        return max(
            range(len(self.verified)),
            key=lambda i: (rank(case, self.verified[i][2]), -len(self.verified[i][0].probes)),
        )


@dataclass(frozen=True)
class _Targets:
    """What the next selection asks for: coverage and margin isotherms (°C), probe count."""

    coverage_c: float
    margin_c: float
    min_count: int = 1


@dataclass(frozen=True)
class _Run:
    """What every verification in one planning run shares."""

    case: object
    volume: object
    problem: object
    access: object
    rounds: Rounds
    refine_plans: bool

    def verify(self, selection, record: dict, targets: _Targets, *, say) -> tuple:
        """The selection's plan, refined (``refine_plans``) and verified by the solver;
        recorded in ``record`` and appended to ``rounds.verified``. Returns (plan, result,
        evaluation)."""
        problem, rounds = self.problem, self.rounds
        plan = problem.plan_from(selection.chosen)
        if self.refine_plans:
            say(f"refining {len(plan.probes)} probes by gradient (optax)")
            t0 = time.perf_counter()
            plan, record["refinement"] = refine_plan(
                plan,
                problem,
                self.access,
                rounds.scale,
                coverage_c=targets.coverage_c,
                margin_c=targets.margin_c,
            )
            record["refinement"]["seconds"] = round(time.perf_counter() - t0, 2)
        say(f"verifying {len(plan.probes)} probes with the solver")
        t0 = time.perf_counter()
        result, evaluation = verify_plan(self.case, self.volume, plan)
        record["solver_s"] = round(time.perf_counter() - t0, 2)
        record["limits_pass"] = evaluation.passed
        record["solver"] = {row.criterion: round(row.value, 3) for row in evaluation.rows}
        record["probes"] = len(plan.probes)
        rounds.verified.append((plan, result, evaluation, selection))
        return plan, result, evaluation


def run_rounds(
    case,
    volume,
    problem,
    access,
    *,
    say: Callable[[str], None],
    max_rounds: int = 3,
    work_limit: float = WORK_LIMIT,
    refine_plans: bool = True,
) -> Rounds:
    """Up to ``max_rounds`` rounds of selection, refinement and solver verification, each
    correcting the next (see the module docstring)."""
    rounds = Rounds(scale={spec.structure: 1.0 for spec in problem.structures})
    run = _Run(case, volume, problem, access, rounds, refine_plans)
    targets = _Targets(problem.coverage.limit_isotherm_c, problem.margin.isotherm_c)
    for round_ in range(max_rounds):
        say(f"round {round_ + 1}: selecting probes with CP-SAT")
        selection = problem.select(
            rounds.scale,
            coverage_c=targets.coverage_c,
            margin_c=targets.margin_c,
            min_count=targets.min_count,
            work_limit=work_limit,
        )
        record = _record(round_, selection, problem, rounds.scale, targets)
        rounds.records.append(record)
        if not selection.chosen:
            rounds.messages.append(_no_selection(round_, selection, case, bool(rounds.verified)))
            break
        plan, result, evaluation = run.verify(
            selection, record, targets, say=lambda text, r=round_: say(f"round {r + 1}: {text}")
        )
        if evaluation.passed:
            if evaluation.probe_models_calibrated or not _calibrated_models(
                run, targets, say=say, work_limit=work_limit
            ):
                _fewer_probes(run, targets, len(plan.probes), say=say, work_limit=work_limit)
            break
        if _no_better(case, rounds.verified):
            record["stopped"] = "no better than an earlier round"
            break
        changed = _correct_scale(problem, volume, rounds.scale, plan, result)
        targets, retargeted = _retarget(case, volume, problem, targets, plan, result, evaluation)
        if not (changed or retargeted):
            break
    return rounds


def _fewer_probes(
    run: _Run, targets: _Targets, count: int, *, say, work_limit, allowed=None
) -> None:
    """After a plan of ``count`` probes passes in the solver: up to ``FEWER_STEPS`` selections
    with at most one probe fewer each (same targets and correction; from the options
    ``allowed``, default all), verified like rounds, while they keep passing. Probes come
    first in the objective, but CP-SAT ranks coverage of the surrogate's sample points above
    them, and the surrogate under-predicts coverage: the acetabulum's first pass used 6
    probes to cover sample points the solver had covered with 3. A step that breaks a
    structure limit corrects the surrogate near it (as a round does) and, while steps remain,
    tries the same count again. :meth:`Rounds.best` then keeps the passing plan with the
    fewest probes."""
    for _ in range(FEWER_STEPS):
        if count <= 1:
            return
        say(f"fewer probes: selecting at most {count - 1} with CP-SAT")
        done = _step(
            run,
            targets,
            {"fewer_probes_than": count, "calibrated_models_only": allowed is not None},
            say=lambda text: say(f"fewer probes: {text}"),
            work_limit=work_limit,
            max_count=count - 1,
            allowed=allowed,
        )
        if done is None:
            return
        plan, result, evaluation = done
        if evaluation.passed:
            count = len(plan.probes)
            continue
        structures_hold = rank(run.case, evaluation).structures_hold
        if structures_hold or not _correct_scale(
            run.problem, run.volume, run.rounds.scale, plan, result
        ):
            return  # coverage fell short (or nothing to correct): fewer probes do not do


def _calibrated_models(run: _Run, targets: _Targets, *, say, work_limit) -> bool:
    """After a plan passes but is not verified (a probe model of it is not fitted to gel
    data), when the case allows a model that is: one selection from the options of fitted
    models only, verified like a round, and fewer-probe steps from it when it passes (it
    then ranks above every unverified plan, see :meth:`Rounds.best`). Whether it passed.
    The acetabulum's passing plans mixed 17 G probes (gentle next to the nerve) with 2.4 mm
    ones and were not verified (5 probes after two fewer-probe steps); from the 2.4 mm
    options alone it found a verified plan of 4, then 3."""
    allowed = ~run.problem.uncalibrated
    if not allowed.any() or allowed.all():
        return False
    say("gel-calibrated probe models only: selecting with CP-SAT")
    done = _step(
        run,
        targets,
        {"calibrated_models_only": True},
        say=lambda text: say(f"gel-calibrated models only: {text}"),
        work_limit=work_limit,
        allowed=allowed,
    )
    if done is None or not done[2].passed:
        return False
    count = len(done[0].probes)
    _fewer_probes(run, targets, count, say=say, work_limit=work_limit, allowed=allowed)
    return True


def _step(run: _Run, targets: _Targets, labels: dict, *, say, work_limit, **select):
    """One selection at ``targets`` with the rounds' correction (``select``: further
    arguments of :meth:`~optiprobe.planner.problem.SampledProblem.select`), recorded with
    ``labels`` and verified; (plan, result, evaluation), or None without a selection."""
    problem, rounds = run.problem, run.rounds
    selection = problem.select(
        rounds.scale,
        coverage_c=targets.coverage_c,
        margin_c=targets.margin_c,
        work_limit=work_limit,
        **select,
    )
    record = _record(len(rounds.records), selection, problem, rounds.scale, targets)
    record.update({key: value for key, value in labels.items() if value})
    rounds.records.append(record)
    if not selection.chosen:
        record["stopped"] = "no selection"
        return None
    return run.verify(selection, record, targets, say=say)


def final_check(
    case,
    volume,
    problem,
    access,
    rounds: Rounds,
    *,
    say: Callable[[str], None],
    work_limit: float = WORK_LIMIT,
    refine_plans: bool = True,
):
    """One more round when none passed: the selection with every limit at the case's own
    targets (no colder isotherm, no minimum probe count) and the correction the rounds ended
    with, refined and verified by the solver like a round. It is the best plan the corrected
    surrogate knows, and the rounds, which change their targets as they go, may not have
    tried it. Returns the selection (the conflict analysis compares the selections without
    some limits with it).

    The search starts from scratch with the whole ``work_limit``. Started from the best
    round's selection with half of it (to save time), it kept that selection on L4 and the
    solver never saw the 96.5 % plan the search from scratch finds."""
    say("final check: the corrected surrogate's best selection with every limit (CP-SAT)")
    targets = _Targets(problem.coverage.limit_isotherm_c, problem.margin.isotherm_c)
    selection = problem.select(rounds.scale, work_limit=work_limit)
    record = _record(len(rounds.records), selection, problem, rounds.scale, targets)
    record["final_check"] = True
    rounds.records.append(record)
    if not selection.chosen or any(
        set(v[3].chosen) == set(selection.chosen) for v in rounds.verified
    ):
        record["stopped"] = "already verified" if selection.chosen else "no selection"
        return selection
    run = _Run(case, volume, problem, access, rounds, refine_plans)
    run.verify(selection, record, targets, say=lambda text: say(f"final check: {text}"))
    return selection


def verify_plan(case, volume, plan):
    """The solver's result and evaluation of ``plan``."""
    from optiprobe.metrics import evaluate, plan_models_calibrated
    from optiprobe.thermal.simulate import simulate

    result = simulate(case, volume, plan)
    evaluation = evaluate(
        case,
        volume,
        result,
        plan_name=plan.name,
        models_calibrated=plan_models_calibrated(case, plan),
    )
    return result, evaluation


class Rank(NamedTuple):
    """How :func:`rank` orders verified plans (a larger tuple is better)."""

    passed: bool  # every limit holds in the solver
    verified: bool  # ... and every probe model is fitted to gel data
    structures_hold: bool
    shortfall: float  # minus the relative shortfall of the coverage and margin limits


def rank(case, evaluation) -> Rank:
    """Order verified plans: every limit holding first, then verified (every probe model
    fitted to gel data: the acetabulum's 5-probe plan with 17 G probes held every limit but
    is not verified, where a 3-probe plan of 2.4 mm probes was), then every structure limit
    holding, then the smallest total shortfall of the coverage and margin limits
    (relative)."""
    protected = {p.structure for p in case.protected}
    structures_hold = all(
        row.passed for row in evaluation.rows if row.criterion.split(" ")[0] in protected
    )
    shortfall = sum(
        max(row.limit - row.value, 0.0) / max(abs(row.limit), 1.0)
        for row in evaluation.rows
        if row.criterion.split(" ")[0] not in protected
    )
    return Rank(evaluation.passed, evaluation.verified, structures_hold, -shortfall)


def _record(round_: int, selection, problem, scale: dict, targets: _Targets) -> dict:
    """The round's entry in ``planner.json``, before refinement and verification."""
    margin = problem.roles["margin"]
    return {
        "round": round_ + 1,
        "cp_sat_status": selection.status,
        # None without a CP-SAT solution (NaN is not JSON).
        "objective": selection.objective if np.isfinite(selection.objective) else None,
        "bound": selection.bound if np.isfinite(selection.bound) else None,
        "gap": None if selection.gap is None else round(selection.gap, 4),
        "cp_sat_s": round(selection.wall_s, 2),
        "buffers_c": dict(problem.buffers_c),
        "structure_scale": {k: round(v, 3) for k, v in scale.items()},
        "coverage_isotherm_c": targets.coverage_c,
        "margin_isotherm_c": targets.margin_c,
        "min_probes": targets.min_count,
        "uncovered_margin_points": selection.uncovered_margin,
        "margin_points": int(margin.stop - margin.start),
    }


def _no_selection(round_: int, selection, case, kept_earlier: bool) -> str:
    return (
        f"round {round_ + 1}: CP-SAT found no plan ({selection.status}): no set of at "
        f"most {case.probes.max_count} probes keeps every structure "
        f"{STRUCTURE_BUFFER_C:g} °C above its limit (per the corrected surrogate)"
        + ("; the best earlier round is kept" if kept_earlier else "")
    )


def _no_better(case, verified: list[tuple]) -> bool:
    """Whether the last round is no better than an earlier one while every structure limit
    held; while a structure limit still fails in the solver, the correction is what changes
    between rounds, and it gets every round allowed."""
    last = rank(case, verified[-1][2])
    earlier = max((rank(case, v[2]) for v in verified[:-1]), default=None)
    return earlier is not None and last.structures_hold and last <= earlier


def _correct_scale(problem, volume, scale: dict, plan, result) -> bool:
    """Update ``scale`` in place from the solver's result for ``plan``; whether any factor
    changed.

    Per structure, the factor is the solver's coldest value (as a potential) over the
    surrogate's prediction for the same plan: the plan the solver simulated, after refinement
    (the selection's own potentials would describe the probes before refinement moved them).
    Above 1 the surrogate was too warm near this structure; the factor scales every option's
    contribution, so options far from the structure (small contributions) stay usable while
    the ones that chilled it are held back.
    """
    from optiprobe.surrogate.medium import medium_of

    surrogate, changed = problem.surrogate, False
    chosen_sum = problem.plan_sums(plan)
    for spec, sl in zip(problem.structures, problem.structure_slices, strict=True):
        if sl.stop == sl.start:
            continue
        mask = volume.masks[spec.structure]
        coldest = float(np.min(result.t_min_c[mask]))
        where = np.unravel_index(
            np.argmin(np.where(mask, result.t_min_c, np.inf)), volume.grid.shape
        )
        medium = surrogate.medium_index(medium_of(volume.tissue_names[volume.tissue_index[where]]))
        solver_v = float(surrogate.table.potential(coldest, medium))
        predicted_v = max(float(np.max(chosen_sum[sl])) * scale[spec.structure], 1.0)
        factor = float(np.clip(solver_v / predicted_v, 0.5, 8.0))
        if coldest < spec.min_temperature_c or abs(factor - 1.0) > 0.1:
            new = float(np.clip(scale[spec.structure] * factor, 0.25, 25.0))
            changed |= abs(new - scale[spec.structure]) > 1e-3
            scale[spec.structure] = new
    return changed


def _retarget(case, volume, problem, targets: _Targets, plan, result, evaluation):
    """The next round's targets, and whether they changed: a 5 °C colder coverage (margin)
    isotherm when the solver's coverage (ice margin) fails; one probe more when every
    structure limit held."""
    coverage_c, margin_c, min_count = targets.coverage_c, targets.margin_c, targets.min_count
    changed = False
    tumour = volume.masks[case.tumor.name]
    coverage = float(np.mean(result.t_min_c[tumour] <= problem.coverage.limit_isotherm_c))
    if coverage < problem.coverage.min_fraction:
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
    return _Targets(coverage_c, margin_c, min_count), changed
