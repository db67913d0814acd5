"""Discrete selection with OR-Tools CP-SAT: how many probes, which trajectories, which durations.

The surrogate combines probes by *adding* their cold potentials V (``surrogate/medium.py``), so
with V_c(p) the potential candidate c (at a given duration level) puts at sample point p, every
criterion is linear in the choice variables x_c:

* tumour point p covered at the coverage isotherm T_cov:  Σ_c V_c(p) x_c ≥ V_p(T_cov);
* margin-shell point p (``ice_margin.limit_mm`` outside the tumour) reaches 0 °C:
  Σ_c V_c(p) x_c ≥ V_p(0 °C);
* protected point p stays above its limit plus a safety buffer:  Σ_c V_c(p) x_c ≤ V_p(T_lim + b).

Multi-probe interaction is therefore counted exactly as the surrogate counts it (not only
conservatively). Structure limits are hard. Tumour coverage (beyond the ``min_fraction`` the case
allows) and margin points are soft but dominate the objective, so a case whose coverage
conflicts with a structure still gets the best *safe* plan and a report of the shortfall. The
objective is lexicographic by weights: fewest uncovered tumour and margin points, then fewest
probes, then fewest probes of a model not fitted to gel data (the solver's numbers for such a
plan are not validated, so it cannot be verified), then least over-freezing of healthy tissue
and freezing time. Potentials are scaled to
integers (0.1 °C-equivalent), rounded *down* for cooling that must be reached and *up* for
cooling that must be avoided, and contributions below 1 °C-equivalent are dropped from coverage
rows (which only makes coverage harder).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from ortools.sat.python import cp_model

__all__ = ["Selection", "probe_count_bound", "select"]

SCALE = 10.0  # integer units per °C-equivalent
WORK_LIMIT = 40.0  # CP-SAT deterministic time per selection (see select)
SMALL = 0.3  # °C-equivalent: smaller contributions leave the structure rows (see below)
# Lexicographic weights: uncovered tumour (beyond what min_fraction allows) and margin points
# first, since both are limits; then probes; then probes of uncalibrated models; then
# over-freezing and time (0-100 for over-freezing plus the minutes, per option). These are
# the smallest weights used; :func:`_weights` raises them where a case's probe count or
# freezing times would let a lower tier outweigh a higher one.
W_COVERAGE, W_PROBE, W_UNCALIBRATED, W_OVERFREEZE = 10_000_000, 100_000, 10_000, 1


@dataclass(frozen=True)
class Selection:
    """Chosen option indices, solver status, objective value, bound and gap."""

    chosen: tuple[int, ...]
    status: str
    objective: float
    bound: float
    uncovered_margin: int
    uncovered_tumour: int
    wall_s: float

    @property
    def gap(self) -> float | None:
        """Relative gap between objective and bound; None without a CP-SAT solution."""
        if not np.isfinite(self.objective):
            return None
        return (
            0.0 if self.objective == 0 else abs(self.objective - self.bound) / abs(self.objective)
        )


def select(
    tumour: np.ndarray,
    tumour_target: np.ndarray,
    margin: np.ndarray,
    margin_target: np.ndarray,
    structures: np.ndarray,
    structure_limit: np.ndarray,
    overfreeze: np.ndarray,
    minutes: np.ndarray,
    centres_mm: np.ndarray,
    *,
    min_fraction: float,
    max_count: int,
    min_spacing_mm: float,
    max_spacing_mm: float = float("inf"),
    min_count: int = 1,
    work_limit: float = WORK_LIMIT,
    time_limit_s: float = 300.0,
    workers: int = 1,
    hint: tuple | None = None,
    uncalibrated: np.ndarray | None = None,
) -> Selection:
    """Solve the selection problem.

    Parameters
    ----------
    tumour, margin, structures : (options, points) arrays of potentials (°C-equivalent)
    tumour_target, margin_target : (points,) potentials to reach
    structure_limit : (points,) potentials not to exceed
    overfreeze : (options,) cold put into healthy tissue (any consistent unit)
    minutes : (options,) total freezing time of each option
    centres_mm : (options, 3) active-zone centres, for the spacing constraint
    min_count : at least this many probes (the verification loop's "add a probe")
    work_limit : CP-SAT's deterministic time limit (its work units, close to seconds of one
        core). With one worker the search is then reproducible: the same case gives the same
        selection on any machine load.
    time_limit_s : a wall-clock cap, only against a runaway search. A search it stops is not
        reproducible, and the status says so.
    workers : CP-SAT workers. More than one makes the search depend on thread timing, so the
        selection may differ from run to run.
    hint : option indices to start the search from (e.g. a selection made with more
        structure rows); used when it keeps the structure rows, the minimum spacing and the
        count, else the greedy start is.
    uncalibrated : (options,) bool, whether an option's probe model is not fitted to gel
        data; at the same coverage and probe count, fewer of those are chosen.
    """
    model = cp_model.CpModel()
    n = tumour.shape[0]
    x = [model.new_bool_var(f"x{c}") for c in range(n)]
    model.add(sum(x) >= max(1, min(min_count, max_count)))
    model.add(sum(x) <= max_count)
    # Minimum spacing (this also stops two options on one trajectory being chosen together).
    distance = np.linalg.norm(centres_mm[:, None, :] - centres_mm[None, :, :], axis=-1)
    for a, b in zip(*np.nonzero(np.triu(distance < min_spacing_mm, k=1)), strict=True):
        model.add_bool_or([x[a].Not(), x[b].Not()])
    # Maximum spacing: with two probes or more, each chosen probe needs a neighbour within
    # max_spacing_mm (the case format's "farthest a probe may be from its nearest neighbour").
    neighbours = (distance >= min_spacing_mm) & (distance <= max_spacing_mm)
    if np.isfinite(max_spacing_mm) and max_count > 1:
        several = model.new_bool_var("several")
        model.add(sum(x) >= 2).only_enforce_if(several)
        model.add(sum(x) <= 1).only_enforce_if(several.Not())
        for c in range(n):
            model.add_bool_or(
                [x[c].Not(), several.Not()] + [x[j] for j in np.nonzero(neighbours[c])[0]]
            )
    # Protected structures: hard upper bounds (conservative rounding up). Contributions below
    # SMALL are left out of the rows and the limit is lowered by the most they could add
    # (max_count of them), which keeps the rows short and the bound conservative. A row that
    # even the max_count largest contributions cannot break is not needed.
    structures_int = np.ceil(structures * SCALE).astype(np.int64)
    small = int(SMALL * SCALE)
    row_values, row_limits = [], []  # the rows as CP-SAT sees them, for the greedy start
    for p in range(structures.shape[1]):
        column = structures_int[:, p]
        limit = int(np.floor(structure_limit[p] * SCALE)) - max_count * small
        if np.sort(column)[-max_count:].sum() <= limit + max_count * small:
            continue
        terms = np.nonzero(column > small)[0]
        model.add(sum(int(column[c]) * x[c] for c in terms) <= limit)
        row_values.append(np.where(column > small, column, 0))
        row_limits.append(limit)

    def coverage(values, targets, name):
        values_int = _coverage_units(values)
        covered = []
        for p in range(values.shape[1]):
            terms = np.nonzero(values_int[:, p] > 0)[0]
            target = int(np.ceil(targets[p] * SCALE))
            if not len(terms) or values_int[terms, p].sum() < target:
                covered.append(None)  # cannot be covered by any option set
                continue
            flag = model.new_bool_var(f"{name}{p}")
            model.add(sum(int(values_int[c, p]) * x[c] for c in terms) >= target).only_enforce_if(
                flag
            )
            covered.append(flag)
        return covered

    tumour_flags = coverage(tumour, tumour_target, "t")
    margin_flags = coverage(margin, margin_target, "m")
    # Tumour points beyond the fraction the case allows to stay warm count as shortfall.
    allowed = int(np.floor((1.0 - min_fraction) * tumour.shape[1]))
    tumour_hits = [f for f in tumour_flags if f is not None]
    shortfall = model.new_int_var(0, tumour.shape[1], "shortfall")
    model.add(shortfall >= tumour.shape[1] - sum(tumour_hits) - allowed)
    margin_hits = [f for f in margin_flags if f is not None]
    uncovered_margin = len(margin_flags) - sum(margin_hits)
    cost = np.round(overfreeze / max(float(np.max(overfreeze)), 1e-9) * 100).astype(int)
    cost = W_OVERFREEZE * (cost + np.round(minutes).astype(int))
    weights = _weights(max_count, cost)
    if uncalibrated is not None:
        cost = cost + weights.uncalibrated * np.asarray(uncalibrated, int)
    model.minimize(
        weights.coverage * (shortfall + uncovered_margin)
        + weights.probe * sum(x)
        + sum(int(cost[c]) * x[c] for c in range(n))
    )
    too_close = distance < min_spacing_mm
    rows = np.asarray(row_values, np.int64).reshape(-1, n).T  # (options, rows)
    limits = np.asarray(row_limits, np.int64)
    # An option that alone breaks a structure row can never be chosen: fix it out here, which
    # spares CP-SAT's presolve and makes "no option is safe" an immediate answer.
    unsafe = np.any(rows > limits[None, :], axis=1)
    if unsafe.all():
        return Selection((), "INFEASIBLE", float("nan"), float("nan"), margin.shape[1], 0, 0.0)
    for c in np.nonzero(unsafe)[0]:
        model.add(x[c] == 0)
    started_from = "greedy start"
    if hint is not None and _keeps_rows(
        list(hint), rows, limits, too_close, neighbours, min_count, max_count
    ):
        start, started_from = list(hint), "hint"
    else:
        start = _greedy(
            tumour, tumour_target, rows, limits, max_count, too_close, neighbours, min_count
        )
    for c in range(n):
        model.add_hint(x[c], c in start)
    solver = cp_model.CpSolver()
    # Reproducible by default (house rule 9): one worker, a fixed seed and a deterministic
    # time limit. Measured on the femur case's selection: with two workers and a 20 s wall
    # limit, two runs chose 3 and 4 probes; with one worker and 20-80 work units, repeated
    # runs chose the same 4 probes in 9-29 s (the acetabulum: a better objective in half the
    # time of the two workers).
    solver.parameters.max_deterministic_time = work_limit
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 0
    # No presolve: these models are dense (the femur case: 1,512 options, 1.1 million linear
    # terms), and CP-SAT's presolve used the whole 20 s there, returning UNKNOWN; one capped
    # presolve pass still took 15 s in ProcessAtMostOneAndLinear. Without it the search starts
    # after 2 s and found 4 probes covering every point (acetabulum: 3 probes with no
    # shortfall, against 16 uncovered points with one presolve pass). ``repair_hint`` is left
    # off: with it OR-Tools 9.15 aborted the process ("Check failed: heuristics.fixed_search").
    solver.parameters.cp_model_presolve = False
    status = solver.solve(model)
    name = solver.status_name(status)
    if solver.wall_time >= time_limit_s and status != cp_model.OPTIMAL:
        name += " (stopped by the wall-clock cap: not reproducible)"
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    if not found and (status != cp_model.UNKNOWN or not start):
        return Selection(
            (), name, float("nan"), float("nan"), len(margin_flags), 0, solver.wall_time
        )
    scored = _Scored(tumour, tumour_target, margin, margin_target, allowed, cost, weights)
    chosen = [c for c in range(n) if solver.value(x[c])] if found else []
    if started_from == "hint" and (
        not found or scored.objective(chosen) > scored.objective(start)
    ):
        # CP-SAT does not always follow a hint within its work limit; the hint keeps every
        # hard constraint, so a search that ends worse returns it instead (both counted from
        # the options' sums).
        bound = solver.best_objective_bound if found else float("nan")
        return scored.selection(start, f"{name}: hint kept", bound, solver.wall_time)
    if not found:
        # No solution within the time limit: the greedy start keeps every hard constraint
        # (structure rows, spacing, count) by construction, so it is returned, labelled.
        return scored.selection(start, f"{name}: greedy start used", None, solver.wall_time)
    # Uncovered points are counted from the chosen options' sums, not from CP-SAT's flags: a
    # flag may stay false on a covered point while the allowed shortfall is not used up.
    result = scored.selection(chosen, name, solver.best_objective_bound, solver.wall_time)
    return dataclasses.replace(result, objective=solver.objective_value)


class _Weights(NamedTuple):
    coverage: int  # per uncovered point
    probe: int
    uncalibrated: int  # per probe of a model not fitted to gel data


def _weights(max_count: int, cost: np.ndarray) -> _Weights:
    """Weights that keep the objective lexicographic at up to ``max_count`` probes with the
    per-option over-freezing and time ``cost``: each tier outweighs the most every tier below
    it can add. The constants above where they suffice (every shipped case: 6 probes, at most
    about 150 per option)."""
    c = int(np.max(cost, initial=0))
    uncalibrated = max(W_UNCALIBRATED, max_count * c + 1)
    probe = max(W_PROBE, max_count * (uncalibrated + c) + 1)
    coverage = max(W_COVERAGE, max_count * (probe + uncalibrated + c) + 1)
    return _Weights(coverage, probe, uncalibrated)


@dataclass(frozen=True)
class _Scored:
    """:func:`select`'s objective for a given set of options, counted as CP-SAT counts it."""

    tumour: np.ndarray
    tumour_target: np.ndarray
    margin: np.ndarray
    margin_target: np.ndarray
    allowed: int  # tumour points allowed to stay short
    cost: np.ndarray  # (options,) model, over-freezing and time, in the objective's units
    weights: _Weights

    def objective(self, chosen) -> float:
        picked = self._picked(chosen)
        shortfall = max(0, _missed(self.tumour, self.tumour_target, picked) - self.allowed)
        return float(
            self.weights.coverage * (shortfall + _missed(self.margin, self.margin_target, picked))
            + self.weights.probe * len(chosen)
            + int(self.cost[picked].sum())
        )

    def selection(self, chosen, status: str, bound: float | None, wall_s: float) -> Selection:
        """``chosen`` as a Selection; with a ``bound``, its objective too (else NaN)."""
        picked = self._picked(chosen)
        return Selection(
            tuple(sorted(int(c) for c in chosen)),
            status,
            float("nan") if bound is None else self.objective(chosen),
            float("nan") if bound is None else bound,
            _missed(self.margin, self.margin_target, picked),
            _missed(self.tumour, self.tumour_target, picked),
            wall_s,
        )

    def _picked(self, chosen) -> np.ndarray:
        picked = np.zeros(len(self.tumour), bool)
        picked[list(chosen)] = True
        return picked


def _keeps_rows(chosen, rows, limits, too_close, neighbours, min_count, max_count) -> bool:
    """Whether ``chosen`` keeps every integer structure row, both spacing limits and the probe
    count (a hint that does not is not used)."""
    others = ~np.eye(len(chosen), dtype=bool)
    near = neighbours[np.ix_(chosen, chosen)] & others
    return (
        max(1, min(min_count, max_count)) <= len(chosen) <= max_count
        and bool(np.all(rows[chosen].sum(axis=0) <= limits))
        and not (too_close[np.ix_(chosen, chosen)] & others).any()
        and (len(chosen) == 1 or bool(near.any(axis=1).all()))
    )


def _coverage_units(values) -> np.ndarray:
    """Coverage contributions in integer units, rounded down; those below 1 °C-equivalent
    are dropped (which only makes coverage harder)."""
    values_int = np.floor(values * SCALE).astype(np.int64)
    values_int[values_int < SCALE] = 0
    return values_int


def _missed(values, targets, picked) -> int:
    """Points the options in ``picked`` leave short of their target, counted as CP-SAT's
    coverage rows count them (rounded down, contributions below 1 °C-equivalent dropped)."""
    values_int = _coverage_units(values)
    target = np.ceil(np.asarray(targets) * SCALE).astype(np.int64)
    return int(np.sum(values_int[picked].sum(axis=0) < target))


def _greedy(
    tumour, target, structures, limit, max_count, too_close, neighbours, min_count=1
) -> list[int]:
    """A quick feasible start: add the option covering most still-uncovered tumour points that
    keeps the structure rows and the spacing limits (each new probe within the maximum spacing
    of one already chosen, so every probe has a near neighbour); stop when nothing gains,
    once at least ``min_count`` are chosen. Empty when no start keeps every hard constraint."""
    chosen: list[int] = []
    total = np.zeros(tumour.shape[1])
    cold = np.zeros(structures.shape[1])
    for _ in range(max_count):
        safe = np.all(cold[None, :] + structures <= limit[None, :], axis=1)
        if chosen:
            safe &= ~np.any(too_close[:, chosen], axis=1)
            safe &= np.any(neighbours[:, chosen], axis=1)
        gain = np.sum((total[None, :] + tumour >= target[None, :]) & (total < target)[None, :], 1)
        # Partial progress breaks ties, so a first probe is found even when no single option
        # covers a point on its own.
        progress = np.minimum((total[None, :] + tumour) / np.maximum(target, 1e-9), 1.0).sum(1)
        score = np.where(safe, gain + 1e-6 * progress, -1.0)
        best = int(np.argmax(score))
        if score[best] < 0 or (len(chosen) >= min_count and gain[best] <= 0):
            break
        chosen.append(best)
        total += tumour[best]
        cold += structures[best]
    return chosen if len(chosen) >= min(min_count, max_count) else []


def probe_count_bound(
    tumour: np.ndarray,
    tumour_target: np.ndarray,
    structures: np.ndarray,
    structure_limit: np.ndarray,
    *,
    min_fraction: float,
) -> dict:
    """A lower bound on the probe count from the LP relaxation (cvxpy, GLOP).

    Relaxes :func:`select`'s hard part: x_c ∈ [0, 1] per option, y_p ∈ [0, 1] per tumour point
    with Σ_c V_c(p) x_c ≥ target_p · y_p, Σ_p y_p ≥ ``min_fraction`` · points, and the structure
    rows. Any plan that covers ``min_fraction`` of the tumour points within the structure limits
    (in the surrogate) uses at least ⌈LP optimum⌉ probes; an infeasible LP proves there is none.
    The spacing constraint and the margin points are left out, which only lowers the bound.
    """
    import cvxpy as cp

    n, points = tumour.shape
    x = cp.Variable(n)
    y = cp.Variable(points)
    constraints = [
        x >= 0,
        x <= 1,
        y >= 0,
        y <= 1,
        tumour.T @ x >= cp.multiply(tumour_target, y),
        cp.sum(y) >= np.ceil(min_fraction * points - 1e-9),
    ]
    if structures.shape[1]:
        constraints.append(structures.T @ x <= structure_limit)
    problem = cp.Problem(cp.Minimize(cp.sum(x)), constraints)
    try:
        # GLOP (OR-Tools' simplex): the femur case's LP took 20 s with Clarabel, 1.5 s with
        # GLOP, same optimum (2.178); HiGHS (1.0 s) prints a banner on stdout.
        problem.solve(solver=cp.GLOP)
    except cp.error.SolverError as error:  # reported, not raised: the bound is optional
        return {"status": f"solver error: {error}", "lp_optimum": None, "probes_at_least": None}
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        return {"status": problem.status, "lp_optimum": None, "probes_at_least": None}
    value = float(problem.value)
    return {
        "status": problem.status,
        "lp_optimum": round(value, 3),
        "probes_at_least": int(np.ceil(value - 1e-6)),
    }
