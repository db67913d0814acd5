"""The sampled planning problem (optiprobe.planner.problem)."""

from __future__ import annotations

import numpy as np
from conftest import with_nerve


def test_a_plans_score_is_the_sum_of_its_options_potentials(write_case):
    # The verification's correction compares the solver with the surrogate's prediction for
    # the plan it simulated (score of the plan); CP-SAT's rows add the options' potentials.
    # Both must describe the same thing: up to the 0.1 mm rounding of tips and entries in
    # plan_from, the plan's score is the sum of its options' potentials.
    from optiprobe.planner.candidates import access_of, generate_candidates
    from optiprobe.planner.problem import build_problem
    from optiprobe.surrogate.model import load_surrogate, probe_set
    from optiprobe.validation import load_and_voxelize

    text = with_nerve()
    case, volume = load_and_voxelize(write_case(text))
    surrogate = load_surrogate()
    candidates = generate_candidates(case, volume, access=access_of(case, volume))
    problem = build_problem(case, volume, candidates, surrogate, say=lambda message: None)
    assert problem.structure_slices[0].stop > problem.structure_slices[0].start
    rng = np.random.default_rng(0)
    for count in (1, 2, 3):
        chosen = sorted(rng.choice(len(problem.potentials), count, replace=False))
        plan = problem.plan_from(chosen)
        scored = np.asarray(problem.score(probe_set(plan, case, surrogate)))
        summed = problem.potentials[chosen].sum(axis=0)
        assert np.all(np.abs(scored - summed) <= 0.02 * np.maximum(summed, 1.0))
        # the compiled, padded scoring the rounds' correction uses reads the same
        np.testing.assert_allclose(problem.plan_sums(plan), scored, rtol=1e-5, atol=1e-4)
    # A selection from some options only answers in the problem's own option indices (a
    # sparse random subset, so indices not mapped back would fall outside it); a hint with
    # an option outside the subset is dropped, one inside it is mapped.
    allowed = rng.random(len(problem.potentials)) < 0.15
    scale = {spec.structure: 1.0 for spec in problem.structures}
    chosen = problem.select(scale, allowed=allowed, work_limit=2.0).chosen
    assert chosen and all(allowed[c] for c in chosen)
    outside = int(np.flatnonzero(~allowed)[0])
    for hint in ((outside,), chosen):
        again = problem.select(scale, allowed=allowed, work_limit=2.0, hint=hint).chosen
        assert again and all(allowed[c] for c in again)


def test_gentle_options_survive_pruning_where_the_strongest_break_a_limit():
    # One active-zone centre with eight options. The three strongest break a structure limit
    # alone (load > 1); the gentler ones keep it. Keeping only the strongest would leave CP-SAT
    # nothing it may choose there (what happened to the sacrum case).
    from optiprobe.planner.pruning import kept_per_centre

    reach = np.array([[8.0], [7.0], [6.0], [5.0], [4.0], [3.0], [2.0], [1.0]])
    target = np.array([10.0])
    load = np.array([3.0, 2.0, 1.5, 0.9, 0.95, 0.5, 0.2, 0.3])
    centres = np.zeros((8, 3))
    kept = kept_per_centre(reach, target, load, centres, per_centre=3)
    assert {0, 1, 2} <= set(kept)  # the strongest
    # The front of (reach up, load down) is 6, 5, 3, 2, 1, 0; thinned to three evenly along
    # it, it keeps both ends and the middle. Option 4 (more load, less reach than 3) and
    # option 7 (dominated by 6) are never kept.
    assert set(kept) == {0, 1, 2, 6, 3}
    assert 4 not in kept and 7 not in kept


def test_far_from_structures_only_the_strongest_are_kept():
    from optiprobe.planner.pruning import kept_per_centre

    reach = np.arange(8.0, 0.0, -1.0)[:, None]
    load = np.linspace(0.9, 0.1, 8)  # even the strongest keeps every limit alone
    centres = np.zeros((8, 3))
    centres[4:] = 5.0  # two centres
    kept = kept_per_centre(reach, np.array([10.0]), load, centres, per_centre=2)
    assert list(kept) == [0, 1, 4, 5]


def _rank_from_flags(monkeypatch):
    """Rank the tests' stand-in evaluations by their ``passed`` and ``structures_hold``."""
    from optiprobe.planner import rounds as rounds_module

    def rank(case, e):
        return rounds_module.Rank(e.passed, e.passed, e.structures_hold, 0.0)

    monkeypatch.setattr(rounds_module, "rank", rank)


def _stand_in_solver(monkeypatch, *, enough: int):
    """Verification by a stand-in solver: plans of ``enough`` probes or more pass, and every
    structure limit holds; evaluations are ranked by :func:`_rank_from_flags`."""
    from types import SimpleNamespace

    from optiprobe.planner import rounds as rounds_module

    def verified(self, selection, record, targets, *, say):
        n = len(selection.chosen)
        plan = SimpleNamespace(probes=[None] * n)
        evaluation = SimpleNamespace(passed=n >= enough, structures_hold=True, rows=())
        self.rounds.verified.append((plan, None, evaluation, selection))
        return plan, None, evaluation

    monkeypatch.setattr(rounds_module._Run, "verify", verified)
    _rank_from_flags(monkeypatch)


def test_fewer_probes_after_a_pass_while_the_solver_keeps_passing(monkeypatch):
    # The acetabulum's first passing plan had 6 probes where 3 had passed before: the
    # surrogate under-predicts coverage, and CP-SAT ranks its sample points above probes.
    # After a pass, one probe fewer is tried (solver-checked) while it passes, at most
    # FEWER_STEPS times, and the best round is the passing plan with the fewest probes.
    from types import SimpleNamespace

    from optiprobe.planner import rounds as rounds_module
    from optiprobe.planner.select import Selection

    asked = []

    def select(scale, **kwargs):
        asked.append(kwargs["max_count"])
        return Selection(tuple(range(kwargs["max_count"])), "OPTIMAL", 1.0, 1.0, 0, 0, 0.1)

    _stand_in_solver(monkeypatch, enough=4)
    monkeypatch.setattr(rounds_module, "FEWER_STEPS", 2)
    problem = SimpleNamespace(select=select, roles={"margin": slice(0, 10)}, buffers_c={})
    found = rounds_module.Rounds(scale={})
    passed = SimpleNamespace(passed=True, structures_hold=True)
    first = (SimpleNamespace(probes=[None] * 6), None, passed, None)
    found.verified.append(first)
    run = rounds_module._Run(None, None, problem, None, found, refine_plans=False)
    targets = rounds_module._Targets(-20.0, 0.0)
    kwargs = {"say": lambda text: None, "work_limit": 1.0}
    rounds_module._fewer_probes(run, targets, 6, **kwargs)
    assert asked == [5, 4]  # two steps, both passed
    assert len(found.verified[found.best(None)][0].probes) == 4
    asked.clear()
    rounds_module._fewer_probes(run, targets, 4, **kwargs)
    assert asked == [3]  # 3 probes fall short of coverage: no further step
    assert len(found.verified[found.best(None)][0].probes) == 4
    # A step that breaks a structure limit corrects the surrogate and tries the same count
    # again (the acetabulum: 5 probes took the nerve to 9.2 °C after 6 had passed).
    tries = iter([False, True])

    def nerve_then_pass(self, selection, record, targets, *, say):
        passed = next(tries)
        plan = SimpleNamespace(probes=[None] * len(selection.chosen))
        evaluation = SimpleNamespace(passed=passed, structures_hold=passed, rows=())
        self.rounds.verified.append((plan, None, evaluation, selection))
        return plan, None, evaluation

    monkeypatch.setattr(rounds_module._Run, "verify", nerve_then_pass)
    monkeypatch.setattr(rounds_module, "_correct_scale", lambda *a: True)
    asked.clear()
    rounds_module._fewer_probes(run, targets, 6, **kwargs)
    assert asked == [5, 5]


def test_a_verified_plan_ranks_above_an_unverified_one_with_fewer_probes():
    # The acetabulum: a plan with 17 G probes holds every limit but is not verified (17 G is
    # not fitted to gel data); the 3-probe plan of 2.4 mm probes is, and ranks above it even
    # with a probe more. A passing unverified plan still ranks above one that fails a limit.
    from types import SimpleNamespace

    from optiprobe.metrics.evaluate import Evaluation, Row
    from optiprobe.planner.rounds import Rounds, rank

    case = SimpleNamespace(protected=[SimpleNamespace(structure="nerve")])

    def evaluation(nerve, calibrated):
        rows = (
            Row("tumour fraction colder than -20 °C", 1.0, 0.99, None, ""),
            Row("nerve minimum temperature", nerve, 10.0, None, "°C"),
        )
        return Evaluation("case", "plan", rows, {}, True, calibrated)

    def plan(n):
        return SimpleNamespace(probes=[None] * n)

    found = Rounds(scale={})
    found.verified += [
        (plan(2), None, evaluation(8.0, True), None),  # breaks the nerve limit
        (plan(2), None, evaluation(22.0, False), None),
        (plan(5), None, evaluation(21.0, True), None),
        (plan(3), None, evaluation(20.0, True), None),
    ]
    assert found.best(case) == 3
    assert rank(case, found.verified[1][2]) > rank(case, found.verified[0][2])
    assert rank(case, found.verified[0][2]).structures_hold is False


def test_gel_calibrated_models_only_after_an_unverified_pass(monkeypatch):
    # After a pass that is not verified, one selection from the fitted models' options, then
    # fewer-probe steps from it (from those options too) while the solver keeps passing.
    from types import SimpleNamespace

    from optiprobe.planner import rounds as rounds_module
    from optiprobe.planner.select import Selection

    asked = []

    def select(scale, *, allowed=None, max_count=None, **kwargs):
        asked.append((max_count, None if allowed is None else tuple(np.flatnonzero(allowed))))
        n = 4 if max_count is None else max_count
        return Selection(tuple(range(n)), "OPTIMAL", 1.0, 1.0, 0, 0, 0.1)

    _stand_in_solver(monkeypatch, enough=3)
    problem = SimpleNamespace(
        select=select,
        roles={"margin": slice(0, 10)},
        buffers_c={},
        uncalibrated=np.array([True, False, True, False]),
    )
    run = rounds_module._Run(None, None, problem, None, rounds_module.Rounds({}), False)
    targets = rounds_module._Targets(-20.0, 0.0)
    kwargs = {"say": lambda text: None, "work_limit": 1.0}
    assert rounds_module._calibrated_models(run, targets, **kwargs)
    assert asked == [(None, (1, 3)), (3, (1, 3)), (2, (1, 3))]
    records = run.rounds.records
    assert all(r["calibrated_models_only"] for r in records)
    assert [r.get("fewer_probes_than") for r in records] == [None, 4, 3]
    for every in (True, False):  # no fitted model in the case, or every model fitted
        problem.uncalibrated = np.full(4, every)
        asked.clear()
        assert not rounds_module._calibrated_models(run, targets, **kwargs)
        assert asked == []
