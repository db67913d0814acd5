"""CP-SAT selection on additive potentials (issue #6 groundwork)."""

from __future__ import annotations

import numpy as np
import pytest

from optiprobe.planner.select import select


def _problem():
    # Four options, three tumour points, one structure point. Options 0 and 1 together cover
    # everything; option 2 alone covers everything but puts too much cold into the structure;
    # option 3 does little.
    tumour = np.array([[10.0, 10.0, 0.0], [0.0, 10.0, 10.0], [10.0, 10.0, 10.0], [2.0, 2.0, 2.0]])
    structure = np.array([[1.0], [1.0], [30.0], [0.0]])
    centres = np.array([[0.0, 0, 0], [10.0, 0, 0], [5.0, 0, 0], [20.0, 0, 0]])
    return tumour, structure, centres


def _run(structure_limit, min_spacing_mm=5.0, max_count=4):
    tumour, structure, centres = _problem()
    return select(
        tumour,
        np.full(3, 9.0),
        np.zeros((4, 0)),
        np.zeros(0),
        structure,
        np.array([structure_limit]),
        overfreeze=np.ones(4),
        minutes=np.full(4, 20.0),
        centres_mm=centres,
        min_fraction=1.0,
        max_count=max_count,
        min_spacing_mm=min_spacing_mm,
        time_limit_s=5.0,
    )


def test_fewest_probes_that_cover_the_tumour():
    selection = _run(structure_limit=100.0)
    assert selection.status == "OPTIMAL"
    assert selection.chosen == (2,)  # one probe suffices when the structure allows it
    assert selection.uncovered_tumour == 0 and selection.gap == 0.0


def test_calibrated_models_after_probes_before_overfreeze():
    # Options 0 and 1 each cover the tumour alone; 0 freezes less but its model is not
    # fitted to gel data (a plan with it cannot be verified), so 1 is chosen. Two fitted
    # options (2 and 3) together also cover it, but probes come first: one probe it is.
    tumour = np.array([[10.0, 10.0, 10.0], [10.0, 10.0, 10.0], [10.0, 10, 0], [0.0, 10, 10]])
    centres = np.array([[0.0, 0, 0], [20.0, 0, 0], [40.0, 0, 0], [48.0, 0, 0]])

    def run(uncalibrated):
        return select(
            tumour,
            np.full(3, 9.0),
            np.zeros((4, 0)),
            np.zeros(0),
            np.zeros((4, 0)),
            np.zeros(0),
            overfreeze=np.array([1.0, 2.0, 1.0, 1.0]),
            minutes=np.array([10.0, 30.0, 10.0, 10.0]),
            centres_mm=centres,
            min_fraction=1.0,
            max_count=4,
            min_spacing_mm=5.0,
            time_limit_s=5.0,
            uncalibrated=uncalibrated,
        ).chosen

    assert run(None) == (0,)
    assert run(np.array([True, False, False, False])) == (1,)
    assert run(np.array([True, True, False, False])) == (0,)  # both uncalibrated: the cheaper


def test_objective_weights_stay_lexicographic_for_many_probes_and_long_freezes():
    # The case format allows 16 probes and long freezes: the weights grow so that a probe
    # more always costs more than every uncalibrated probe and every freezing term together.
    from optiprobe.planner.select import W_COVERAGE, W_PROBE, W_UNCALIBRATED, _weights

    assert _weights(6, np.array([145, 30])) == (W_COVERAGE, W_PROBE, W_UNCALIBRATED)
    for count, c in ((16, 150), (16, 2_000), (3, 50_000)):
        w = _weights(count, np.array([c, 0]))
        assert w.uncalibrated > count * c
        assert w.probe > count * (w.uncalibrated + c)
        assert w.coverage > count * (w.probe + w.uncalibrated + c)


def test_structure_limit_is_hard_and_forces_two_probes():
    selection = _run(structure_limit=20.0)
    assert selection.chosen == (0, 1)  # option 2 would put 30 > 20 into the structure
    assert selection.uncovered_tumour == 0


def test_spacing_and_count_limits_leave_a_reported_shortfall():
    # 0 and 1 are 10 mm apart: with a 12 mm minimum spacing they cannot go together.
    selection = _run(structure_limit=20.0, min_spacing_mm=12.0)
    assert len(selection.chosen) >= 1
    assert selection.uncovered_tumour > 0  # the best safe plan, with its shortfall counted


def test_lp_bound_is_a_valid_lower_bound_and_proves_infeasibility():
    from optiprobe.planner.select import probe_count_bound

    tumour, structure, _ = _problem()
    free = probe_count_bound(
        tumour, np.full(3, 9.0), structure, np.array([100.0]), min_fraction=1.0
    )
    assert free["probes_at_least"] == 1  # option 2 alone covers everything
    tight = probe_count_bound(
        tumour, np.full(3, 9.0), structure, np.array([20.0]), min_fraction=1.0
    )
    # CP-SAT needs 2 probes here (options 0 and 1); the relaxation may not exceed that.
    assert 1 <= tight["probes_at_least"] <= len(_run(structure_limit=20.0).chosen)
    none = probe_count_bound(tumour, np.full(3, 9.0), structure, np.array([0.5]), min_fraction=1.0)
    assert none["probes_at_least"] is None and none["status"] == "infeasible"


def test_max_spacing_gives_every_probe_a_near_neighbour():
    # Options 0 and 1 cover everything together but are 10 mm apart; with an 8 mm maximum
    # spacing neither has a neighbour close enough, so the pair is not allowed.
    selection = _run(structure_limit=20.0)
    assert selection.chosen == (0, 1)
    tumour, structure, centres = _problem()
    limited = select(
        tumour,
        np.full(3, 9.0),
        np.zeros((4, 0)),
        np.zeros(0),
        structure,
        np.array([20.0]),
        overfreeze=np.ones(4),
        minutes=np.full(4, 20.0),
        centres_mm=centres,
        min_fraction=1.0,
        max_count=4,
        min_spacing_mm=5.0,
        max_spacing_mm=8.0,
        time_limit_s=5.0,
    )
    assert limited.status == "OPTIMAL"
    chosen = centres[list(limited.chosen)]
    if len(chosen) > 1:
        distance = np.linalg.norm(chosen[:, None] - chosen[None], axis=-1)
        np.fill_diagonal(distance, np.inf)
        assert np.all(distance.min(axis=1) <= 8.0)
    assert limited.chosen != (0, 1)
    assert limited.uncovered_tumour > 0  # the shortfall is reported, not hidden


def _random_problem(n, points, *, structures, extent_mm):
    """Random potentials (options × tumour points, options × structure points) and centres."""
    rng = np.random.default_rng(0)
    tumour = rng.uniform(0, 6, (n, points))
    centres = rng.uniform(0, extent_mm, (n, 3))
    return tumour, centres, rng.uniform(0, 10, (n, structures))


def test_greedy_start_when_cp_sat_finds_nothing_in_time(monkeypatch):
    # CP-SAT stopped before finding any solution (as on the femur case, where presolve used the
    # whole time limit): the greedy start, which keeps the structure rows and both spacing
    # limits by construction, is returned and labelled as such.
    from optiprobe.planner import select as select_module

    class NothingInTime(select_module.cp_model.CpSolver):
        def solve(self, model, *args, **kwargs):
            super().solve(select_module.cp_model.CpModel())  # a response to read times from
            return select_module.cp_model.UNKNOWN

    monkeypatch.setattr(select_module.cp_model, "CpSolver", NothingInTime)
    n, points = 60, 40
    tumour, centres, structure = _random_problem(n, points, structures=5, extent_mm=60)
    selection = select(
        tumour,
        np.full(points, 9.0),
        tumour,
        np.full(points, 9.0),
        structure,
        np.full(5, 25.0),
        overfreeze=np.ones(n),
        minutes=np.full(n, 20.0),
        centres_mm=centres,
        min_fraction=1.0,
        max_count=6,
        min_spacing_mm=5.0,
        max_spacing_mm=25.0,
    )
    assert selection.status == "UNKNOWN: greedy start used"
    assert len(selection.chosen) >= 2 and selection.gap is None
    chosen = list(selection.chosen)
    assert np.all(np.ceil(structure[chosen] * 10).sum(axis=0) <= 250)  # structure rows hold
    distance = np.linalg.norm(centres[chosen][:, None] - centres[chosen][None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    assert np.all(distance >= 5.0) and np.all(distance.min(axis=1) <= 25.0)
    assert 0 <= selection.uncovered_tumour <= points


def test_selection_is_reproducible_when_the_search_is_cut_short(monkeypatch):
    # House rule 9: the same case gives the same plan. A search stopped before optimality by
    # a wall-clock limit (the old setting, two workers) depends on machine load and thread
    # timing; the deterministic work limit with one worker does not.
    from optiprobe.planner import select as select_module

    seen = []

    class Recording(select_module.cp_model.CpSolver):
        def solve(self, model, *args, **kwargs):
            seen.append((self.parameters.num_workers, self.parameters.max_deterministic_time))
            return super().solve(model, *args, **kwargs)

    monkeypatch.setattr(select_module.cp_model, "CpSolver", Recording)
    n, points = 400, 150
    tumour, centres, structure = _random_problem(n, points, structures=20, extent_mm=40)

    def run():
        return select(
            tumour,
            np.full(points, 14.0),
            tumour,
            np.full(points, 12.0),
            structure,
            np.full(20, 30.0),
            overfreeze=np.linspace(1, 2, n),
            minutes=np.full(n, 20.0),
            centres_mm=centres,
            min_fraction=0.9,
            max_count=6,
            min_spacing_mm=5.0,
            max_spacing_mm=20.0,
            work_limit=1.0,
        )

    first, second = run(), run()
    assert first.status == "FEASIBLE"  # cut short: not proven optimal, the case that matters
    assert (first.chosen, first.objective) == (second.chosen, second.objective)
    assert seen == [(1, 1.0), (1, 1.0)]


def test_a_hint_is_kept_when_the_search_ends_worse(monkeypatch):
    # The conflict analysis starts each selection without some structure limits from the one
    # with every limit. CP-SAT did not always follow that hint within its work limit and
    # returned worse selections, which made "setting a limit aside covers less" possible.
    from optiprobe.planner import select as select_module

    args, kwargs, _ = _hint_problem()
    best = select(*args, np.full(5, 25.0), **kwargs)
    assert best.chosen and best.status == "OPTIMAL"

    assert len(best.chosen) >= 2

    class WorstSearch(select_module.cp_model.CpSolver):
        def solve(self, model, *a, **k):  # the search ends on a single probe
            x = [model.get_bool_var_from_proto_index(i) for i in _x_vars(model.proto)]
            model.add(sum(x) == 1)
            return super().solve(model, *a, **k)

    monkeypatch.setattr(select_module.cp_model, "CpSolver", WorstSearch)
    kept = select(*args, np.full(5, 25.0), hint=best.chosen, **kwargs)
    assert kept.status.endswith(": hint kept")
    assert kept.chosen == best.chosen
    assert kept.uncovered_tumour == best.uncovered_tumour
    assert kept.objective == pytest.approx(best.objective)
    # without a hint, the (forced) worse search result is what comes back
    assert len(select(*args, np.full(5, 25.0), **kwargs).chosen) == 1


def _x_vars(proto):
    return [i for i, v in enumerate(proto.variables) if v.name[:1] == "x" and v.name[1:].isdigit()]


def test_a_hint_that_breaks_a_hard_constraint_is_not_used():
    # A hint made under another correction (or by a caller's mistake) may break a structure
    # row; then the greedy start is used instead (a kept hint must keep every hard
    # constraint).
    args, kwargs, structure = _hint_problem()
    limit = np.full(5, 25.0)
    heavy = list(np.argsort(-structure.sum(axis=1))[:6])  # together they break a row
    assert np.any(np.ceil(structure[heavy] * 10).sum(axis=0) > 250)
    selection = select(*args, limit, hint=tuple(heavy), work_limit=1e-6, **kwargs)
    assert "hint kept" not in selection.status
    chosen = list(selection.chosen)
    assert np.all(np.ceil(structure[chosen] * 10).sum(axis=0) <= 250)


def _hint_problem():
    """(positional args, keyword args, structure potentials) of a 60-option selection."""
    n, points = 60, 40
    tumour, centres, structure = _random_problem(n, points, structures=5, extent_mm=60)
    kwargs = {
        "overfreeze": np.ones(n),
        "minutes": np.full(n, 20.0),
        "centres_mm": centres,
        "min_fraction": 1.0,
        "max_count": 6,
        "min_spacing_mm": 5.0,
        "max_spacing_mm": 25.0,
    }
    return (
        (tumour, np.full(points, 9.0), tumour, np.full(points, 9.0), structure),
        kwargs,
        structure,
    )
