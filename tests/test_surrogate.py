"""The surrogate (issue #5): shipped artefact, physics trends, batching and gradients."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optiprobe.errors import OptiprobeError
from optiprobe.surrogate import model as surrogate_model
from optiprobe.surrogate.accuracy import isotherm_distances, isotherm_offsets, needle_voxels
from optiprobe.surrogate.model import (
    ARTEFACT,
    ProbeSet,
    StaleSurrogateError,
    load_surrogate,
    make_query,
)


@pytest.fixture(scope="module")
def surrogate():
    return load_surrogate()


def _probes(surrogate, tips, *, model="cryo-1.7mm", freeze=(10.0, 10.0), direction=(0, 0, 1)):
    tips = np.asarray(tips, dtype=np.float32).reshape(-1, 3)
    n = len(tips)
    return ProbeSet(
        tips_mm=jnp.asarray(tips),
        entries_mm=jnp.asarray(tips + 80.0 * np.asarray(direction, np.float32)),
        freeze_min=jnp.asarray(np.tile(np.asarray(freeze, np.float32), (n, 1))),
        model=jnp.full(n, surrogate.model_index(model), jnp.int32),
        present=jnp.ones(n, jnp.float32),
    )


def _temperature(surrogate, probes, points, tissue="muscle"):
    points = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    query = make_query(points, [tissue] * len(points), surrogate)
    return np.asarray(surrogate.temperature(probes, query))


def test_shipped_artefact_is_small_and_matches_the_current_solver(surrogate):
    """Fails when the solver, tissues or catalogue change without re-calibrating."""
    assert ARTEFACT.stat().st_size <= 5 * 1024 * 1024
    assert set(surrogate.models) == {"cryo-1.7mm", "cryo-2.4mm", "cryo-17g-rod", "cryo-17g-sphere"}
    assert np.all((surrogate.gamma >= 0.0) & (surrogate.gamma <= 1.0))


def test_a_stale_surrogate_refuses_to_load(monkeypatch):
    real = surrogate_model.fingerprint()
    changed = real | {"optiprobe.thermal.sources": "0" * 64}
    monkeypatch.setattr(surrogate_model, "fingerprint", lambda: changed)
    with pytest.raises(StaleSurrogateError, match=r"optiprobe\.thermal\.sources"):
        load_surrogate()


def test_a_surrogate_fitted_with_another_tissue_mapping_refuses_to_load(monkeypatch):
    """Moving a tissue to another medium class (or an artefact older than the mapping) needs a
    re-calibration, not a silent read with the wrong class's shells."""
    moved = surrogate_model.med.TISSUE_MEDIUM | {"tumor_mixed": "lytic"}
    monkeypatch.setattr(surrogate_model.med, "TISSUE_MEDIUM", moved)
    with pytest.raises(StaleSurrogateError, match="tumor_mixed"):
        load_surrogate()
    monkeypatch.undo()
    with np.load(ARTEFACT) as data:
        older = {key: data[key] for key in data.files if key != "tissue_media"}
    with pytest.raises(StaleSurrogateError, match="tumor_mixed"):
        surrogate_model.Surrogate(older)


def test_unknown_and_user_defined_models_are_refused(surrogate):
    with pytest.raises(OptiprobeError, match="no calibration"):
        surrogate.model_index("cryo-9000")


def test_colder_near_the_probe_and_warm_far_away(surrogate):
    probes = _probes(surrogate, [0, 0, 0])
    middle = 5.0 + 15.0  # tip offset + half the 1.7 mm probe's 30 mm active zone
    t = _temperature(surrogate, probes, [[2, 0, middle], [8, 0, middle], [40, 0, middle]])
    assert t[0] < -40 < t[1] < 0 < 36 < t[2] + 1.5  # graded, ends near body temperature


def test_two_probes_together_are_colder_than_either_alone(surrogate):
    """Merged ice is colder than either probe's: not a union of single-probe zones."""
    a, b = [-7.5, 0, 0], [7.5, 0, 0]
    point = [[0.0, 0.0, 20.0]]
    alone = min(
        _temperature(surrogate, _probes(surrogate, a), point)[0],
        _temperature(surrogate, _probes(surrogate, b), point)[0],
    )
    together = _temperature(surrogate, _probes(surrogate, [a, b]), point)[0]
    assert together < alone - 5.0


def test_longer_freeze_and_second_cycle_make_it_colder(surrogate):
    point = [[9.0, 0.0, 20.0]]
    values = [
        _temperature(surrogate, _probes(surrogate, [0, 0, 0], freeze=f), point)[0]
        for f in ((5.0, 5.0), (10.0, 10.0), (15.0, 15.0))
    ]
    assert values[0] > values[1] > values[2]
    one_cycle = _temperature(surrogate, _probes(surrogate, [0, 0, 0], freeze=(10.0,)), point)[0]
    assert values[1] < one_cycle  # the second freeze starts from pre-cooled, unperfused tissue


def test_a_protocol_is_never_warmer_than_its_longest_cycle(surrogate):
    """The first freeze starts from body temperature, so 15-3 min reaches the 15 min single
    freeze's field (the solver: 0 °C at 13.34 mm for both in muscle, docs/surrogate.md), and a
    later cycle, pre-cooled by the earlier ones, is colder than its own length alone."""

    def at(freeze):
        probes = _probes(surrogate, [0, 0, 0], freeze=freeze)
        return _temperature(surrogate, probes, [[9.0, 0.0, 20.0], [13.0, 0.0, 20.0]])

    np.testing.assert_allclose(at((15.0, 3.0)), at((15.0,)), atol=1e-3)
    assert np.all(at((3.0, 15.0)) < at((15.0,)) - 0.5)
    assert np.all(at((15.0, 8.0)) <= at((15.0,)) + 1e-3)


def test_the_medium_changes_the_prediction(surrogate):
    """The tissue a point lies in matters, in the direction the solver's physics sets."""
    probes = _probes(surrogate, [0, 0, 0])
    point = [[12.0, 0.0, 20.0]]
    bone = _temperature(surrogate, probes, point, "cancellous_bone")[0]
    muscle = _temperature(surrogate, probes, point, "muscle")[0]
    lytic = _temperature(surrogate, probes, point, "tumor_osteolytic")[0]
    assert abs(bone - muscle) > 1.0
    assert lytic > muscle + 1.0  # 9x the perfusion of muscle: warmer at the same distance
    mixed = _temperature(surrogate, probes, point, "tumor_mixed")[0]
    assert muscle + 1.0 < mixed < lytic - 1.0  # half the perfusion of osteolytic tumour


def test_absent_probes_change_nothing(surrogate):
    points = np.random.default_rng(0).uniform(-20, 20, size=(50, 3)) + np.array([0.0, 0.0, 20.0])
    one = _probes(surrogate, [0, 0, 0])
    padded = _probes(surrogate, [[0, 0, 0], [5, 5, 0]])
    padded = dataclasses.replace(padded, present=jnp.array([1.0, 0.0]))
    np.testing.assert_allclose(
        _temperature(surrogate, one, points), _temperature(surrogate, padded, points), atol=1e-4
    )


def test_vmap_over_plans_matches_one_by_one(surrogate):
    rng = np.random.default_rng(1)
    points = rng.uniform(-20, 20, size=(200, 3)) + np.array([0.0, 0.0, 20.0])
    tissues = rng.choice(["muscle", "cancellous_bone", "fat", "tumor_osteolytic"], 200)
    query = make_query(points, tissues, surrogate)
    plans = [_probes(surrogate, rng.uniform(-8, 8, size=(3, 3))) for _ in range(4)]
    batch = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *plans)
    together = jax.jit(jax.vmap(surrogate.temperature, in_axes=(0, None)))(batch, query)
    for i, plan in enumerate(plans):
        np.testing.assert_allclose(together[i], surrogate.temperature(plan, query), atol=1e-3)


def _score(surrogate, query, probes):
    """Smooth tumour-coverage-like score as a function of the continuous plan parameters."""

    def score(tips, entries, freeze):
        moved = dataclasses.replace(probes, tips_mm=tips, entries_mm=entries, freeze_min=freeze)
        t = surrogate.temperature(moved, query)
        return jnp.mean(jax.nn.sigmoid((-20.0 - t) / 4.0))

    return score


@pytest.mark.parametrize(
    "field, index",
    [
        ("tips_mm", (0, 0)),
        ("tips_mm", (1, 2)),
        ("entries_mm", (0, 1)),
        ("freeze_min", (1, 1)),
        ("freeze_min", (0, 0)),
    ],
)
def test_gradients_match_central_differences(surrogate, field, index):
    rng = np.random.default_rng(2)
    points = rng.uniform(-15, 15, size=(3000, 3)) + np.array([0.0, 0.0, 20.0])
    query = make_query(points, ["muscle"] * len(points), surrogate)
    probes = _probes(surrogate, [[-6.3, 0.4, 0.2], [6.1, -0.7, -0.3]], freeze=(8.0, 9.0))
    names = ("tips_mm", "entries_mm", "freeze_min")
    args = [getattr(probes, name) for name in names]
    score = jax.jit(_score(surrogate, query, probes))
    grads = jax.grad(_score(surrogate, query, probes), argnums=(0, 1, 2))(*args)
    analytic = float(grads[names.index(field)][index])

    def shifted(h):
        moved = list(args)
        moved[names.index(field)] = moved[names.index(field)].at[index].add(h)
        return float(score(*moved))

    h = 0.05
    numeric = (shifted(h) - shifted(-h)) / (2 * h)
    assert abs(numeric) > 1e-5
    assert analytic == pytest.approx(numeric, rel=0.05)


def test_isotherm_distance_of_two_spheres_is_their_radius_difference():
    from optiprobe.anatomy.grid import Grid

    grid = Grid(origin_mm=(-20.0, -20.0, -20.0), spacing_mm=(1.0, 1.0, 1.0), shape=(41, 41, 41))
    r = np.linalg.norm(grid.points_mm(), axis=-1)
    a, b = 4.0 * (r - 10.0), 4.0 * (r - 11.0)  # 0 °C at 10 and 11 mm, 4 °C/mm
    d = isotherm_distances(a, b, 0.0, grid.spacing_mm)
    assert d.mean() == pytest.approx(1.0, abs=0.05)
    # b (the surrogate) freezes 1 mm further than a (the solver): offsets are -1 mm, and +1 mm
    # the other way round (positive: the surrogate's ice is too small).
    offsets, voxels = isotherm_offsets(a, b, 0.0, grid.spacing_mm)
    assert offsets.mean() == pytest.approx(-1.0, abs=0.05) and len(voxels) == len(offsets)
    assert isotherm_offsets(b, a, 0.0, grid.spacing_mm)[0].mean() == pytest.approx(1.0, abs=0.05)
    near = needle_voxels(grid, np.array([[0.0, 0.0, -20.0]]), np.array([[0.0, 0.0, 20.0]]))
    assert near[20, 20, :].all() and not near[25, 20, 20]


def test_probe_set_pads_and_refuses_user_defined_models(surrogate, tmp_path):
    from conftest import MINIMAL_CASE

    from optiprobe.case import Plan, load_case

    path = tmp_path / "case.yaml"
    path.write_text(MINIMAL_CASE)
    case = load_case(path)
    plan = Plan(
        probes=[
            {"model": "cryo-2.4mm", "tip_mm": (0, 0, -20), "entry_mm": (0, 0, 40)},
            {"model": "cryo-1.7mm", "tip_mm": (10, 0, -20), "entry_mm": (10, 0, 40)},
        ]
    )
    probes = surrogate_model.probe_set(plan, case, surrogate, pad_to=6)
    assert probes.tips_mm.shape == (6, 3)
    np.testing.assert_array_equal(probes.present, [1, 1, 0, 0, 0, 0])
    assert probes.freeze_min.shape[1] == len(case.protocol.freeze_durations_min)
    data = case.model_dump()
    data["probes"]["models"] = [
        {
            "name": "mine",
            "diameter_mm": 2.0,
            "active_length_mm": 30,
            "cooling": {"temperature_c": -120, "ramp_s": 30},
        }
    ]
    custom = type(case).model_validate(data)
    mine = Plan(probes=[{"model": "mine", "tip_mm": (0, 0, -20), "entry_mm": (0, 0, 40)}])
    with pytest.raises(OptiprobeError, match="user-defined"):
        surrogate_model.probe_set(mine, custom, surrogate)


def test_probe_media_weights_follow_the_tissue_around_the_active_zone(surrogate):
    """A probe deep in bone grows its ice with bone shells, whatever the query point is in."""
    from types import SimpleNamespace

    from optiprobe.anatomy.grid import Grid

    grid = Grid(origin_mm=(-30.0, -30.0, -10.0), spacing_mm=(1.0, 1.0, 1.0), shape=(61, 61, 61))
    names = ("muscle", "cancellous_bone")
    index = np.zeros(grid.shape, np.uint8)
    index[30:] = 1  # x >= 0 is bone
    volume = SimpleNamespace(grid=grid, tissue_names=names, tissue_index=index)
    field = surrogate_model.medium_field(volume, surrogate)
    probes = _probes(surrogate, [[15.0, 0, 0], [-15.0, 0, 0]])
    weighted = surrogate_model.probe_media(probes, field, surrogate)
    bone, soft = surrogate.medium_index("bone"), surrogate.medium_index("soft")
    np.testing.assert_allclose(np.sum(weighted.media, axis=1), 1.0, atol=1e-5)
    assert weighted.media[0, bone] > 0.95 and weighted.media[1, soft] > 0.95
    point = [[0.0, 0.0, 20.0]]  # a muscle point between them, 15 mm from each
    near_bone = _temperature(
        surrogate,
        surrogate_model.probe_media(_probes(surrogate, [[15.0, 0, 0]]), field, surrogate),
        point,
    )[0]
    near_soft = _temperature(
        surrogate,
        surrogate_model.probe_media(_probes(surrogate, [[-15.0, 0, 0]]), field, surrogate),
        point,
    )[0]
    assert near_bone != pytest.approx(near_soft, abs=0.5)  # the probe's medium matters

    def centre_weight(x):
        moved = dataclasses.replace(probes, tips_mm=probes.tips_mm.at[0, 0].set(x))
        return surrogate_model.probe_media(moved, field, surrogate).media[0, bone]

    slope = jax.grad(centre_weight)(1.0)  # across the interface: differentiable, increasing
    assert float(slope) > 0
