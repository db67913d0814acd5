"""The planner's explicit infeasibility report (issue #6, step 5): solver numbers only."""

from __future__ import annotations

from optiprobe.metrics.evaluate import Evaluation, Row
from optiprobe.planner.conflicts import trade_off, trade_off_name
from optiprobe.planner.infeasibility import infeasibility_report
from optiprobe.planner.pipeline import PlanOutcome
from optiprobe.planner.select import Selection


def _evaluation(coverage, margin, nerve):
    rows = (
        Row("tumour fraction colder than -20 °C", coverage, 0.95, 1.0, ""),
        Row("ice margin (0 °C) beyond tumour, minimum", margin, 3.0, 5.0, "mm"),
        Row("sciatic_nerve minimum temperature", nerve, 10.0, 15.0, "°C"),
    )
    return Evaluation("case", "plan", rows, {}, True, True)


def test_report_names_the_conflict_and_both_sides_in_solver_numbers():
    safe = _evaluation(0.62, -1.5, 21.0)
    trade = _evaluation(0.99, 3.4, -6.2)
    conflict = {
        "structure": "sciatic_nerve",
        "structures": ["sciatic_nerve"],
        "limit_c": 10.0,
        "sample_points_gained": 90,
    }
    outcome = PlanOutcome(None, None, safe, 100, {}, conflicts=[conflict])
    report = infeasibility_report(None, outcome, [safe], [(conflict, trade)])
    failing = {f["criterion"]: f["short_by"] for f in report["failing_in_written_plan"]}
    assert failing == {
        "tumour fraction colder than -20 °C": 0.33,
        "ice margin (0 °C) beyond tumour, minimum": 4.5,
    }
    (entry,) = report["conflicts"]
    assert entry["coverage_first_plan"] == {
        "limits_set_aside": ["sciatic_nerve"],
        "structure_min_c": -6.2,
        "below_limit_by_c": 16.2,
        "tumour_coverage": 0.99,
    }
    assert entry["plan_written"]["tumour_coverage"] == 0.62
    assert entry["plan_written"]["keeps_structure_limit"] is True
    assert len(report["solver_checked_plans"]) == 2
    text = " ".join(report["summary"])
    assert "sciatic_nerve" in text and "16.2 °C below its limit" in text


def _selection(uncovered: int) -> Selection:
    return Selection((0,), "OPTIMAL", 0.0, 0.0, 0, uncovered, 0.1)


def _conflict(name: str, gained: int, uncovered: int) -> dict:
    return {
        "structure": name,
        "structures": [name],
        "limit_c": 10.0,
        "sample_points_gained": gained,
        "_selection": _selection(uncovered),
    }


def test_coverage_first_plan_sets_every_conflicting_limit_aside_when_that_covers_more():
    # With one limit set aside, the other still holds coverage back (the L4 case: dural sac
    # and a nerve root); the trade-off is the joint selection when it leaves fewer uncovered.
    conflicts = [_conflict("dural_sac", 30, 40), _conflict("nerve_root_left", 17, 50)]
    asked = []

    def solve(drop, coverage_c):
        asked.append((drop, coverage_c))
        return _selection(3)

    trade = trade_off(conflicts, solve, -20.0)
    assert asked == [(("dural_sac", "nerve_root_left"), -20.0)]
    assert trade["structures"] == ["dural_sac", "nerve_root_left"]
    assert trade["structure"] == "dural_sac + nerve_root_left"
    # a joint selection that covers no more keeps the most conflicting structure alone
    assert trade_off(conflicts, lambda drop, coverage_c: _selection(40), -20.0) is conflicts[0]
    assert trade_off(conflicts[:1], None, -20.0) is conflicts[0]
    assert trade_off([], None, -20.0) is None


def test_coverage_first_plan_sets_every_limit_aside_when_others_still_hold_coverage_back():
    # L4: with the conflicting dural sac and nerve root set aside together, the cauda equina
    # and the other root still kept the surrogate from covering the tumour; the solver could
    # not confirm a conflict with a trade-off plan that covered no more than the safe one.
    conflicts = [_conflict("dural_sac", 30, 160), _conflict("nerve_root_left", 17, 170)]
    names = ["cauda_equina", "dural_sac", "nerve_root_left", "nerve_root_right"]
    uncovered = {2: 150, 4: 2}
    asked = []

    def solve(drop, coverage_c):
        asked.append(drop)
        return _selection(uncovered[len(drop)])

    trade = trade_off(conflicts, solve, -20.0, names)
    assert trade["structures"] == [
        "dural_sac",
        "nerve_root_left",
        "cauda_equina",
        "nerve_root_right",
    ]
    assert trade["_selection"].uncovered_tumour == 2
    assert sorted(map(len, asked)) == [2, 4]  # each selection solved once
    # when the conflicting ones suffice, the other limits stay
    uncovered[2] = 2
    assert trade_off(conflicts, solve, -20.0, names)["structures"] == [
        "dural_sac",
        "nerve_root_left",
    ]


def test_each_conflict_reads_its_own_structure_in_the_joint_trade_off():
    safe = _evaluation(0.5, -1.4, 21.0)
    rows = (
        *_evaluation(0.95, 3.2, 0.0).rows[:2],
        Row("dural_sac minimum temperature", -4.0, 10.0, 15.0, "°C"),
        Row("nerve_root_left minimum temperature", 12.5, 10.0, 15.0, "°C"),
    )
    joint = Evaluation("case", "trade", rows, {}, True, True)
    conflicts = [_conflict("dural_sac", 30, 40), _conflict("nerve_root_left", 17, 50)]
    aside = {
        "structure": "dural_sac + nerve_root_left",
        "structures": ["dural_sac", "nerve_root_left"],
    }
    outcome = PlanOutcome(None, None, safe, 100, {}, conflicts=conflicts)
    report = infeasibility_report(None, outcome, [safe], [(aside, joint)])
    sac, root = report["conflicts"]
    assert sac["coverage_first_plan"]["structure_min_c"] == -4.0
    assert sac["coverage_first_plan"]["below_limit_by_c"] == 14.0
    assert root["coverage_first_plan"]["structure_min_c"] == 12.5
    assert root["coverage_first_plan"]["below_limit_by_c"] == 0.0
    assert sac["coverage_first_plan"]["limits_set_aside"] == ["dural_sac", "nerve_root_left"]
    text = " ".join(report["summary"])
    assert "without the dural_sac and nerve_root_left limits" in text
    assert "14 °C below its limit" in text and "does not confirm" in text
    (checked,) = [p for p in report["solver_checked_plans"] if "coverage-first" in p["plan"]]
    assert checked["plan"] == "coverage-first without the dural_sac and nerve_root_left limits"
    # a trade-off that covers no more than the plan written confirms nothing
    poor = Evaluation("case", "trade", (*safe.rows[:2], *rows[2:]), {}, True, True)
    report = infeasibility_report(None, outcome, [safe], [(aside, poor)])
    text = " ".join(report["summary"])
    assert "below its limit" not in text
    assert text.count("covers no more than the plan written (50.0%)") == 2


def test_no_confirmation_when_the_plan_written_breaks_the_same_limit():
    # The femur case: every round broke the nerve limit in the solver, so no simulated plan
    # shows what keeping it costs; the coverage-first plan alone confirms nothing.
    written = _evaluation(1.0, 6.4, -4.9)
    trade = _evaluation(1.0, 8.0, 2.9)
    conflict = {
        "structure": "sciatic_nerve",
        "structures": ["sciatic_nerve"],
        "limit_c": 10.0,
        "sample_points_gained": 12,
    }
    outcome = PlanOutcome(None, None, written, 100, {}, conflicts=[conflict])
    report = infeasibility_report(None, outcome, [written], [(conflict, trade)])
    (entry,) = report["conflicts"]
    assert entry["plan_written"]["keeps_structure_limit"] is False
    assert entry["plan_written"]["structure_min_c"] == -4.9
    text = " ".join(report["summary"])
    assert "the plan written breaks that limit too (-4.9 °C)" in text
    assert "neither confirmed nor ruled out" in text and "below its limit" not in text


def test_report_says_when_no_structure_explains_the_failure():
    written = _evaluation(0.99, 1.0, 32.5)
    outcome = PlanOutcome(None, None, written, 100, {})
    outcome.margin_shortfall = {
        "short_surface_fraction": 0.064,
        "next_to": [{"name": "pelvic_muscle", "share": 0.77}],
    }
    report = infeasibility_report(None, outcome, [written], [])
    assert report["conflicts"] == []
    text = " ".join(report["summary"])
    assert "not a proven conflict" in text and "pelvic_muscle 77%" in text


def test_report_states_an_exact_margin_bound_instead_of_blaming_the_planner():
    written = _evaluation(0.99, 1.0, 32.5)
    outcome = PlanOutcome(None, None, written, 100, {})
    bound = {
        "region": "saline_layer",
        "fluid_temperature_c": 37.0,
        "closest_mm": 2.0,
        "surface_fraction_within_limit": 0.001,
    }
    report = infeasibility_report(
        None, outcome, [written], [], margin_bounds=[bound], margin_limit_mm=3.0
    )
    assert report["summary"][1].startswith("Conflict (exact, from the geometry)")
    assert "no plan's margin can exceed 2 mm (0.1% of the surface" in report["summary"][1]
    assert not any("not a proven conflict" in t for t in report["summary"])
    assert report["margin_bounded_by_held_regions"] == [bound]


def test_report_when_no_plan_at_all():
    outcome = PlanOutcome(None, None, None, 100, {})
    report = infeasibility_report(None, outcome, [], [])
    assert report["failing_in_written_plan"] == []
    assert report["summary"][0].startswith("No plan:")


def test_a_warm_held_layer_inside_the_margin_bounds_every_plans_margin(write_case):
    """A 37 °C saline layer 2 mm from the tumour: no plan's 0 °C margin can exceed ~2 mm there,
    and the bound is the same distance the margin metric measures."""
    import numpy as np
    from conftest import MINIMAL_CASE

    from optiprobe.metrics.evaluate import ice_margins_mm
    from optiprobe.planner.safety import held_regions_limiting_margin
    from optiprobe.validation import load_and_voxelize

    layer = (
        "protection:\n"
        "  - type: hydrodissection\n"
        "    name: saline_layer\n"
        "    shape: {type: ellipsoid, center_mm: [0, 12, 0], radii_mm: [14, 2, 14]}\n"
        "    fluid_temperature_c: 37\n"
        "    held_at_temperature: true\n"
    )
    case, volume = load_and_voxelize(write_case(MINIMAL_CASE + layer))
    (bound,) = held_regions_limiting_margin(case, volume, limit_mm=3.0, isotherm_c=0.0)
    assert bound["region"] == "saline_layer"
    assert 0 < bound["closest_mm"] < 3.0 and 0 < bound["surface_fraction_within_limit"] < 1
    # Even a field frozen everywhere except the held layer keeps the margin below the bound.
    t_min = np.where(volume.masks["saline_layer"], 37.0, -100.0)
    margins = ice_margins_mm(t_min, volume.masks[case.tumor.name], volume.grid.spacing_mm, 0.0)
    assert margins.min() == bound["closest_mm"]
    # A layer farther from the tumour than the limit bounds nothing.
    assert held_regions_limiting_margin(case, volume, limit_mm=1.0, isotherm_c=0.0) == []


def test_a_structure_inside_the_margin_cannot_keep_its_limit_with_the_margin(write_case):
    """A nerve (limit 10 °C) 2 mm from the tumour: a plan that keeps the nerve at its limit
    keeps it warmer than 0 °C, so its margin cannot reach 3 mm; a structure whose limit is
    below the isotherm, or one farther away, bounds nothing."""
    import numpy as np
    from conftest import with_nerve

    from optiprobe.metrics.evaluate import ice_margins_mm
    from optiprobe.planner.safety import structures_limiting_margin
    from optiprobe.validation import load_and_voxelize

    def case_with(limit_c):
        return load_and_voxelize(write_case(with_nerve(centre_x_mm=13, limit_c=limit_c)))

    case, volume = case_with(10)
    (bound,) = structures_limiting_margin(case, volume, limit_mm=3.0, isotherm_c=0.0)
    assert bound["structure"] == "nerve" and bound["limit_c"] == 10
    assert 0 < bound["closest_mm"] < 3.0 and 0 < bound["surface_fraction_within_limit"] < 1
    # Frozen everywhere but the nerve, held at its limit: the margin is exactly the bound.
    t_min = np.where(volume.masks["nerve"], 10.0, -100.0)
    margins = ice_margins_mm(t_min, volume.masks[case.tumor.name], volume.grid.spacing_mm, 0.0)
    assert margins.min() == bound["closest_mm"]
    assert structures_limiting_margin(case, volume, limit_mm=1.0, isotherm_c=0.0) == []
    case, volume = case_with(-5)  # a limit colder than the isotherm: the nerve may freeze
    assert structures_limiting_margin(case, volume, limit_mm=3.0, isotherm_c=0.0) == []
    # The report states it as an exact conflict, not as the planner's failure.
    written = _evaluation(0.99, 1.0, 32.5)
    report = infeasibility_report(
        None,
        PlanOutcome(None, None, written, 100, {}),
        [written],
        [],
        structure_bounds=[bound],
        margin_limit_mm=3.0,
    )
    text = " ".join(report["summary"])
    assert (
        "Conflict (exact, from the geometry): the ice margin limit (3 mm) with the nerve" in text
    )
    assert "not a proven conflict" not in text
    assert report["margin_bounded_by_structure_limits"] == [bound]


def test_spacing_problem_uses_active_zone_centres_like_cp_sat():
    from optiprobe.case import Plan
    from optiprobe.planner.pipeline import spacing_problem
    from optiprobe.probes import CATALOGUE

    def plan(x2):
        probes = [
            {"name": "P1", "model": "cryo-2.4mm", "tip_mm": [0, 0, 0], "entry_mm": [0, -80, 0]},
            {"name": "P2", "model": "cryo-2.4mm", "tip_mm": [x2, 0, 0], "entry_mm": [x2, -80, 0]},
        ]
        return Plan(name="p", probes=probes)

    # Parallel needles: the active-zone centres are as far apart as the tips.
    assert spacing_problem(plan(15.0), CATALOGUE, 8.0, 22.0) is None
    assert "minimum 8" in spacing_problem(plan(5.0), CATALOGUE, 8.0, 22.0)
    assert "maximum 22" in spacing_problem(plan(30.0), CATALOGUE, 8.0, 22.0)
    one = Plan(name="p", probes=plan(30.0).probes[:1])
    assert spacing_problem(one, CATALOGUE, 8.0, 22.0) is None


def test_the_trade_off_plan_name_fits_the_plan_file():
    # The sacrum's trade-off set five limits aside; their names made a plan name longer than
    # the plan file allows, and `optiprobe validate` refused the written plan.
    from optiprobe.case import Plan

    five = ["sacral_root_s1_left", "sacral_root_s1_right", "rectum", "sacral_root_s2_right"]
    five.append("dural_sac")
    assert trade_off_name(["sciatic_nerve"]) == "coverage_first_without_sciatic_nerve"
    for structures in (["sciatic_nerve"], five):
        name = trade_off_name(structures)
        probe = {"model": "cryo-2.4mm", "tip_mm": [0, 0, 0], "entry_mm": [0, 0, 60]}
        Plan(name=name, probes=[probe])  # the plan file's own name rule
        assert len(name) <= 64
    assert trade_off_name(five) == "coverage_first_without_5_limits"


def test_a_better_selection_that_keeps_the_dropped_limit_is_no_conflict():
    # CP-SAT stops at its work limit. Without the cord's limit it found a selection covering
    # 5 more points that keeps the cord's limit all the same: that is a better selection
    # with every limit, not a conflict, and the nerve's gain is counted from it.
    from types import SimpleNamespace

    from optiprobe.planner.conflicts import _conflicts

    def selection(chosen, uncovered):
        return Selection(chosen, "FEASIBLE", 0.0, 0.0, 0, uncovered, 0.1)

    found = {
        frozenset({"cord"}): selection((1,), 15),  # keeps the cord's limit
        frozenset({"nerve"}): selection((2,), 12),  # breaks the nerve's limit
        frozenset({"cord", "nerve"}): selection((2,), 12),
    }

    class Drops:
        def prefetch(self, groups):
            assert {frozenset(g) for g in groups} == set(found)

        def __call__(self, group):
            return found[frozenset(group)]

    breaks = {(2, "nerve")}  # which option breaks which structure's limit
    problem = SimpleNamespace(
        structures=[
            SimpleNamespace(structure="cord", min_temperature_c=10.0),
            SimpleNamespace(structure="nerve", min_temperature_c=12.0),
        ],
        roles={"tumour": slice(0, 100), "margin": slice(100, 150)},
        keeps_limits=lambda chosen, names, scale: (
            not any((c, n) in breaks for c in chosen for n in names)
        ),
    )
    reference = selection((0,), 20)
    conflicts = _conflicts(problem, Drops(), reference, {}, safe_plan_exists=True)
    assert [c["structure"] for c in conflicts] == ["nerve"]
    assert conflicts[0]["sample_points_gained"] == 3  # 15 → 12, not 20 → 12
    assert conflicts[0]["tumour_points_uncovered_with_limit"] == 15


def _spine_evaluation(coverage, sac, root):
    rows = (
        Row("tumour fraction colder than -20 °C", coverage, 0.99, None, ""),
        Row("dural_sac minimum temperature", sac, 10.0, None, "°C"),
        Row("nerve_root minimum temperature", root, 10.0, None, "°C"),
    )
    return Evaluation("case", "plan", rows, {}, True, True)


def test_solver_shows_a_conflict_the_surrogate_did_not_find():
    # L4 after the final check: the surrogate found no structure limit in the way, the plan
    # written keeps every structure limit at 90.9 %, and the final check covered 96.5 % with
    # the dural sac at 8.3 °C. The report says so, as the solver's finding on the plans it
    # simulated, not as a proof.
    evaluation = _spine_evaluation
    written = evaluation(0.909, 11.8, 16.6)
    rounds = [
        ("round 1", evaluation(0.54, 26.0, 27.0)),
        ("round 3", written),
        ("final check", evaluation(0.965, 8.31, 11.6)),
    ]
    outcome = PlanOutcome(None, None, written, 100, {})
    report = infeasibility_report(None, outcome, rounds, [])
    (shown,) = report["conflicts_shown_by_solver"]
    assert shown["structure"] == "dural_sac" and shown["plan"] == "final check"
    assert shown["below_limit_by_c"] == 1.69 and shown["tumour_coverage"] == 0.965
    text = " ".join(report["summary"])
    assert "Conflict (shown by the solver): the dural_sac limit" in text
    assert "not a proven conflict" not in text
    assert [p["plan"] for p in report["solver_checked_plans"]] == [
        "round 1",
        "round 3",
        "final check",
    ]
    # a plan that breaks the limit while covering no more shows nothing
    rounds[2] = ("final check", evaluation(0.90, 8.31, 11.6))
    report = infeasibility_report(None, outcome, rounds, [])
    assert report["conflicts_shown_by_solver"] == []
    assert "not a proven conflict" in " ".join(report["summary"])
    # nor does anything when the plan written breaks a structure limit itself
    broken = evaluation(0.909, 9.0, 16.6)
    rounds[2] = ("final check", evaluation(0.965, 8.31, 11.6))
    outcome = PlanOutcome(None, None, broken, 100, {})
    assert infeasibility_report(None, outcome, rounds, [])["conflicts_shown_by_solver"] == []


def test_no_coverage_first_run_when_a_simulated_plan_already_shows_the_conflict(monkeypatch):
    # L4: the surrogate finds the dural sac in the way; the final check already covered more
    # (96.5 % against 90.9 %) with the sac below its limit, so the coverage-first plan (15 s
    # of solver, and it covered 73.2 %) is not simulated, and a message says why.
    from types import SimpleNamespace

    from optiprobe.planner import conflicts as module

    written = _spine_evaluation(0.909, 11.8, 16.6)
    final = _spine_evaluation(0.965, 8.31, 11.6)
    checked = [("round 3", written), ("final check", final)]
    sac = {"structures": ["dural_sac"]}
    assert module._already_shown(sac, checked, written) == {"final check"}
    assert (
        module._already_shown({"structures": ["dural_sac", "nerve_root"]}, checked, written)
        == set()
    )
    assert module._already_shown(sac, checked, None) == set()  # no safe plan: it is written
    assert module._already_shown(None, checked, written) == set()

    def selection(chosen, uncovered):
        return Selection(chosen, "FEASIBLE", 0.0, 0.0, 0, uncovered, 0.1)

    breaks = {(2, "dural_sac")}
    problem = SimpleNamespace(
        structures=[
            SimpleNamespace(structure="dural_sac", min_temperature_c=10.0),
            SimpleNamespace(structure="nerve_root", min_temperature_c=10.0),
        ],
        coverage=SimpleNamespace(limit_isotherm_c=-20.0),
        roles={"tumour": slice(0, 100), "margin": slice(100, 150)},
        keeps_limits=lambda chosen, names, scale: (
            not any((c, n) in breaks for c in chosen for n in names)
        ),
    )

    def solve(drop=(), **_):
        return selection((2,), 3) if "dural_sac" in drop else selection((0,), 20)

    simulated = []
    monkeypatch.setattr(module, "_coverage_first", lambda *a: simulated.append(a))
    # the trade-off entry: which plan, with which solver evaluation
    monkeypatch.setattr(module, "_trade_off_record", lambda *a: {"plan": a[2], "eval": a[4]})

    def analyse(checked):
        runs = [(label, f"plan of {label}", None, e) for label, e in checked]
        return module.analyse_conflicts(
            None, None, problem, solve, {}, safe_evaluation=written, checked=runs, say=print
        )

    found = analyse(checked)
    assert [c["structure"] for c in found.conflicts] == ["dural_sac"]
    assert simulated == [] and found.trade_evaluations == []
    # its protection and timing come from the plan that shows the conflict
    assert found.trade_offs == [
        {"plan": "plan of final check", "eval": final, "simulated_as": "final check"}
    ]
    assert "final check plan already shows the dural_sac limit" in found.message
    with_less = [("round 3", written), ("final check", _spine_evaluation(0.90, 8.31, 11.6))]
    with monkeypatch.context() as patched:  # covering no more shows nothing: it is simulated
        patched.setattr(module, "_coverage_first", lambda *a: ("trade", None, written))
        found = analyse(with_less)
    assert found.message is None
    (entry,) = found.trade_offs
    assert entry == {"plan": "trade", "eval": written, "simulated_as": "coverage-first"}


def test_cli_names_the_plan_that_stands_for_the_trade_off(capsys):
    # A trade-off entry from a plan the rounds simulated is not "without the limit": it is
    # that plan, which breaks it. The coverage-first entry keeps its wording.
    from optiprobe.cli_output import print_planner_findings

    def entry(label):
        return {"set_aside": "dural_sac", "solver": {"coverage": 0.965}, "simulated_as": label}

    print_planner_findings({"trade_off_plans": [entry("final check"), entry("coverage-first")]})
    text = " ".join(capsys.readouterr().out.split())
    assert "trade-off the final check plan, past the dural_sac limit(s) (solver)" in text
    assert "trade-off without the dural_sac limit(s) (solver)" in text


def test_cli_says_in_words_what_the_solver_found_for_the_worst_placement_error(capsys):
    # It printed "worst case solver-checked: limits hold False" (a newcomer's trial).
    from optiprobe.cli_output import print_planner_findings

    def robustness(held):
        worst = {} if held is None else {"solver_limits_hold": held}
        return {
            "robustness": {
                "fraction_holding": 0.95,
                "perturbations": 20,
                "shift_mm": 2.0,
                "worst": worst,
            }
        }

    texts = []
    for held in (True, False, None):
        print_planner_findings(robustness(held))
        texts.append(" ".join(capsys.readouterr().out.split()))
    assert all("robustness (surrogate): limits hold under 95% of 20" in t for t in texts)
    assert "simulated by the solver, keeps every limit" in texts[0]
    assert "simulated by the solver, breaks a limit" in texts[1]
    assert "solver" not in texts[2].replace("robustness (surrogate)", "")
    assert not any("False" in t or "True" in t for t in texts)


def test_criteria_table_shows_fractions_as_percent_and_no_limit_for_a_goal_only_row(capsys):
    # It printed "0.9957 fraction" and, for the goal isotherm's row, "limit 0 ... holds yes".
    from optiprobe.cli_output import print_evaluation

    rows = (
        Row("tumour fraction colder than -20 °C", 0.9899, 0.99, None, "fraction"),
        Row("tumour fraction colder than -40 °C", 0.9, 0.0, 0.99, "fraction"),
    )
    print_evaluation(Evaluation("case", "plan", rows, {}, True, True))
    lines = [line for line in capsys.readouterr().out.splitlines() if "%" in line]
    assert "98.99%" in lines[0] and "99.00%" in lines[0] and "NO" in lines[0]
    assert "90.00%" in lines[1] and "–" in lines[1] and "yes" not in lines[1]
