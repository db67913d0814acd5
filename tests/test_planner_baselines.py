"""Planner pieces of issue #6: baselines, skin entries, selection start, safety reports."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from optiprobe.anatomy.shapes import Sphere
from optiprobe.anatomy.voxelize import voxelize
from optiprobe.case import load_case
from optiprobe.planner.baselines import bubble_packing, lethal_zone_mm, rule_of_thumb
from optiprobe.planner.candidates import _entry
from optiprobe.planner.safety import protection_advice, robustness
from optiprobe.planner.select import _greedy, select
from optiprobe.surrogate.model import load_surrogate
from tests.conftest import MINIMAL_CASE, with_nerve

BIG = (
    MINIMAL_CASE.replace("radius_mm: 8", "radius_mm: 16")
    .replace("margin_mm: 20", "margin_mm: 30")
    .replace("max_count: 4", "max_count: 8")
)


@pytest.fixture(scope="module")
def surrogate():
    return load_surrogate()


def _case(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("case") / "case.yaml"
    path.write_text(text)
    case = load_case(path)
    return case, voxelize(case)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _case(tmp_path_factory, MINIMAL_CASE)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    return _case(tmp_path_factory, BIG)


def test_lethal_zone_grows_with_freeze_and_is_longer_than_wide(surrogate):
    short = lethal_zone_mm(surrogate, "cryo-2.4mm", "agar_gel", [3.0, 3.0], -20.0)
    long = lethal_zone_mm(surrogate, "cryo-2.4mm", "agar_gel", [10.0, 10.0], -20.0)
    assert 0 < short[0] < long[0] and short[1] < long[1]
    assert long[1] > long[0]  # an active zone of 3-4 cm makes an elongated lethal zone


def test_rule_of_thumb_puts_parallel_probes_within_a_cm_of_the_outline(big, surrogate):
    case, volume = big
    baseline = rule_of_thumb(case, volume, surrogate)
    probes = baseline.plan.probes
    assert len(probes) >= 2  # a 32 mm tumour needs more than one probe by the rule
    axes = [np.subtract(p.tip_mm, p.entry_mm) for p in probes]
    axes = [a / np.linalg.norm(a) for a in axes]
    assert all(np.allclose(a, axes[0], atol=1e-3) for a in axes)  # parallel, one side
    tips = np.array([p.tip_mm for p in probes])
    across = tips - np.outer(tips @ axes[0], axes[0])
    apart = np.linalg.norm(across[:, None] - across[None], axis=-1)[np.triu_indices(len(tips), 1)]
    assert apart.min() >= 10.0 - 0.2
    assert baseline.detail["outline_uncovered_fraction"] == 0.0


def test_bubble_packing_needs_more_bubbles_for_a_bigger_target(small, big, surrogate):
    one = bubble_packing(*small, surrogate)
    many = bubble_packing(*big, surrogate)
    assert len(many.plan.probes) > len(one.plan.probes)
    assert many.detail["packed_coverage"] >= 0.99 or len(many.plan.probes) == 8


def test_entry_is_the_outer_skin_surface_not_the_first_window_point():
    window = Sphere(center_mm=(-60.0, 0.0, 0.0), radius_mm=80.0)  # contains the tip too
    direction = np.array([1.0, 0, 0])

    def skin(points):  # skin between x = -42 and x = -40
        return (points[:, 0] >= -42.0) & (points[:, 0] <= -40.0)

    tip = np.array([0.0, 0, 0])
    assert np.allclose(_entry(tip, direction, window, 100.0), tip)  # old rule: the tip itself
    entry = _entry(tip, direction, window, 100.0, skin)
    assert entry[0] == pytest.approx(-42.0)
    assert _entry(tip, direction, window, 30.0, skin) is None  # skin beyond the depth limit


def test_greedy_start_keeps_spacing_and_structure_rows():
    tumour = np.array([[10.0, 0], [10.0, 0], [0.0, 10]])
    target = np.array([9.0, 9.0])
    rows = np.array([[1], [1], [1]])
    too_close = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], bool)
    anywhere = ~too_close  # no maximum spacing
    assert _greedy(tumour, target, rows, np.array([5]), 3, too_close, anywhere) == [0, 2]
    assert _greedy(tumour, target, rows, np.array([1]), 3, too_close, anywhere) == [0]
    # Option 2 farther than the maximum spacing from option 0: it cannot join it.
    assert _greedy(tumour, target, rows, np.array([5]), 3, too_close, np.zeros((3, 3), bool)) == [
        0
    ]


def test_selection_says_infeasible_at_once_when_every_option_breaks_a_structure():
    selection = select(
        np.ones((3, 2)) * 10,
        np.full(2, 9.0),
        np.zeros((3, 0)),
        np.zeros(0),
        np.array([[5.0], [6.0], [7.0]]),
        np.array([4.0]),
        overfreeze=np.ones(3),
        minutes=np.ones(3),
        centres_mm=np.eye(3) * 20,
        min_fraction=1.0,
        max_count=3,
        min_spacing_mm=5.0,
    )
    assert selection.status == "INFEASIBLE" and selection.chosen == ()


def _fake_result(volume, structure, coldest):
    t_min = np.full(volume.grid.shape, 37.0, np.float32)
    mask = volume.masks[structure]
    where = np.argwhere(mask)[0]
    t_min[tuple(where)] = coldest
    times = np.arange(0.0, 1201.0, 60.0)
    history = np.linspace(37.0, coldest, len(times))
    return SimpleNamespace(
        t_min_c=t_min,
        sensor_times_s=times,
        structure_min_c={structure: history},
        sensors_c={},
    ), where


def test_protection_advice_times_and_thermocouple(tmp_path_factory):
    text = with_nerve()
    case, volume = _case(tmp_path_factory, text)
    result, where = _fake_result(volume, "nerve", -3.0)
    (advice,) = protection_advice(case, volume, result)
    assert advice["structure"] == "nerve" and not advice["limit_holds"]
    assert advice["short_of_limit_c"] == pytest.approx(8.0)
    expected = volume.grid.lower_mm + where * np.asarray(volume.grid.spacing_mm)
    assert np.allclose(advice["thermocouple_mm"], expected)
    # Linear cooling 37 -> -3 °C over 20 min: 10 °C at 13.5 min, 5 °C at 16 min (sampled 1/min).
    assert advice["time_to_trigger_min"] == pytest.approx(14.0)
    assert advice["time_to_limit_min"] == pytest.approx(16.0)
    assert "hydrodissection" in advice["suggestion"]
    warm, _ = _fake_result(volume, "nerve", 30.0)
    assert protection_advice(case, volume, warm) == []  # 25 °C above the limit: no advice


def test_robustness_follows_the_solver_numbers(small, surrogate):
    from optiprobe.case import Plan

    case, volume = small
    plan = Plan(probes=[{"model": "cryo-2.4mm", "tip_mm": [0, 15, 0], "entry_mm": [0, -50, 0]}])
    cold = SimpleNamespace(t_min_c=np.full(volume.grid.shape, -60.0, np.float32))
    warm = SimpleNamespace(t_min_c=np.full(volume.grid.shape, 37.0, np.float32))
    kwargs = {"n": 5, "shift_mm": 0.01, "check_worst": False}
    assert robustness(case, volume, plan, cold, surrogate, **kwargs)["fraction_holding"] == 1.0
    assert robustness(case, volume, plan, warm, surrogate, **kwargs)["fraction_holding"] == 0.0


def _refine_problem(surrogate):
    import jax.numpy as jnp

    from optiprobe.surrogate.model import ProbeSet, make_query

    rng = np.random.default_rng(0)
    points = rng.normal(size=(300, 3))
    points = 8.0 * points / np.linalg.norm(points, axis=1, keepdims=True) * rng.random((300, 1))
    query = make_query(points, ["agar_gel"] * len(points), surrogate)
    probes = ProbeSet(
        tips_mm=jnp.asarray([[4.0, 0.0, -15.0]]),  # 4 mm off the tumour's axis
        entries_mm=jnp.asarray([[4.0, 0.0, 60.0]]),
        freeze_min=jnp.asarray([[5.0, 5.0]]),
        model=jnp.asarray([surrogate.model_index("cryo-2.4mm")], jnp.int32),
        present=jnp.ones(1),
    )
    need = surrogate.query_potential_of(-20.0, query)
    targets = {
        "tumour": np.arange(300),
        "margin": np.arange(0),
        "healthy": np.arange(0),
        "structure": np.arange(0),
        "tumour_need": need,
        "margin_need": np.zeros(0, np.float32),
        "structure_limit": np.zeros(0, np.float32),
        "structure_scale": np.zeros(0, np.float32),
    }
    return probes, (lambda p: surrogate.summed_potential(p, query)), targets


def test_refinement_moves_the_probe_onto_the_tumour_and_stays_bounded(surrogate):
    from optiprobe.planner.refine import TIP_MM, refine

    probes, score, targets = _refine_problem(surrogate)
    result = refine(probes, score, targets, bounds_min=(3.0, 15.0), feasible=lambda *a: True)
    assert result.accepted and result.objective_after < result.objective_before
    assert abs(result.tips_mm[0, 0]) < 4.0  # towards the tumour's axis
    assert np.all(np.abs(result.tips_mm - np.asarray(probes.tips_mm)) <= TIP_MM + 1e-5)
    assert np.all((result.freeze_min >= 3.0) & (result.freeze_min <= 15.0))
    assert result.freeze_min.mean() > 5.0  # more coverage is worth more time here


def test_refinement_reverts_an_infeasible_trajectory(surrogate):
    from optiprobe.planner.refine import refine

    probes, score, targets = _refine_problem(surrogate)
    result = refine(probes, score, targets, bounds_min=(3.0, 15.0), feasible=lambda *a: False)
    assert result.reverted == (0,)
    np.testing.assert_allclose(result.tips_mm, np.asarray(probes.tips_mm))


def test_padded_refinement_equals_the_unpadded_one(surrogate):
    # The planner pads every round's probes to the case's most, so one compiled optimisation
    # serves every probe count: absent probes must change nothing and never be checked.
    import dataclasses

    import jax.numpy as jnp

    from optiprobe.planner.refine import refine

    probes, score, targets = _refine_problem(surrogate)
    padded = dataclasses.replace(
        probes,
        tips_mm=jnp.concatenate([probes.tips_mm, jnp.asarray([[0.0, 0.0, 0.0]] * 2)]),
        entries_mm=jnp.concatenate([probes.entries_mm, jnp.asarray([[0.0, 0.0, 1.0]] * 2)]),
        freeze_min=jnp.concatenate([probes.freeze_min, jnp.full((2, 2), 5.0)]),
        model=jnp.concatenate([probes.model, probes.model, probes.model]),
        present=jnp.asarray([1.0, 0.0, 0.0]),
    )
    checked = []

    def feasible(i, tip, entry):
        checked.append(i)
        return True

    plain = refine(probes, score, targets, bounds_min=(3.0, 15.0), feasible=lambda *a: True)
    result = refine(padded, score, targets, bounds_min=(3.0, 15.0), feasible=feasible)
    assert checked == [0]
    assert result.tips_mm.shape == (1, 3) and result.freeze_min.shape == (1, 2)
    np.testing.assert_allclose(result.tips_mm, plain.tips_mm, atol=1e-5)
    np.testing.assert_allclose(result.freeze_min, plain.freeze_min, atol=1e-4)
    assert result.objective_after == pytest.approx(plain.objective_after, rel=1e-5)


def test_margin_shortfall_says_where_and_next_to_what(small):
    from optiprobe.planner.safety import margin_shortfall

    case, volume = small
    grid = volume.grid
    index = np.indices(grid.shape).reshape(3, -1).T
    radius = np.linalg.norm(grid.lower_mm + index * np.asarray(grid.spacing_mm), axis=1)
    radius = radius.reshape(grid.shape)

    def frozen_to(r_mm):
        return SimpleNamespace(t_min_c=np.where(radius <= r_mm, -60.0, 37.0).astype(np.float32))

    short = margin_shortfall(case, volume, frozen_to(9.0), limit_mm=3.0, isotherm_c=0.0)
    # 8 mm tumour, ice to 9 mm: about 1 mm of the 3 required (voxel steps of 2 mm leave some
    # surface voxels deeper inside, which reach further).
    assert short["short_surface_fraction"] > 0.5
    less = margin_shortfall(case, volume, frozen_to(10.0), limit_mm=3.0, isotherm_c=0.0)
    assert less["short_surface_fraction"] < short["short_surface_fraction"]
    assert short["next_to"] and short["next_to"][0]["share"] > 0.5
    assert case.tumor.name not in {n["name"] for n in short["next_to"]}
    enough = margin_shortfall(case, volume, frozen_to(14.0), limit_mm=3.0, isotherm_c=0.0)
    assert enough == {"short_surface_fraction": 0.0, "next_to": []}


def test_candidates_keep_the_whole_active_zone_under_the_skin(small):
    """A needle shallower than its active zone would freeze outside the body; load_plan refuses
    such a plan, so the planner must never propose one."""
    from optiprobe.planner.candidates import access_of, generate_candidates
    from optiprobe.probes import get_probe_model

    case, volume = small
    access = access_of(case, volume)
    model = get_probe_model("cryo-2.4mm")
    needed = model.tip_offset_mm + model.active_length_mm
    direction = np.array([0.0, 1.0, 0.0])  # the window is at y = -60, radius 20
    shallow = np.array([0.0, -40.0 + needed - 5.0, 0.0])  # tip just under the window
    assert access.check(0, shallow, direction, "cryo-2.4mm") == "active zone outside the skin"
    candidates = generate_candidates(case, volume, access=access)
    assert len(candidates) > 0
    depths = np.linalg.norm(candidates.tips_mm - candidates.entries_mm, axis=1)
    assert depths.min() >= needed
