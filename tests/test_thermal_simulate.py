"""simulate(): a plan run through its protocol on a small gel case (coarse grid, short freeze)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import MINIMAL_CASE

from optiprobe.anatomy.voxelize import voxelize
from optiprobe.case import Plan, load_case
from optiprobe.errors import OptiprobeError, SolverStatus
from optiprobe.thermal.simulate import simulate

SHORT = MINIMAL_CASE.replace(
    """    - {kind: freeze, duration_min: 10}
    - {kind: thaw, duration_min: 8, thaw: passive}
    - {kind: freeze, duration_min: 10}""",
    """    - {kind: freeze, duration_min: 2}
    - {kind: thaw, duration_min: 1, thaw: passive}""",
).replace("spacing_mm: 2.0", "spacing_mm: 1.5")
SHORT += textwrap.dedent(
    """\
    thermocouples:
      - {name: near, position_mm: [6, 0, 0]}
      - {name: far, position_mm: [20, 0, 0]}
    """
)


def _plan(tip=(0.0, 0.0, -22.0), freeze=(2.0,)) -> Plan:
    entry = (tip[0], tip[1], tip[2] + 60.0)
    return Plan(
        probes=[{"model": "cryo-2.4mm", "tip_mm": tip, "entry_mm": entry, "freeze_min": freeze}]
    )


@pytest.fixture(scope="module")
def gel(tmp_path_factory):
    path = tmp_path_factory.mktemp("gel") / "case.yaml"
    path.write_text(SHORT)
    case = load_case(path)
    return case, voxelize(case)


def test_single_probe_freezes_around_its_axis(gel):
    case, volume = gel
    result = simulate(case, volume, _plan())
    assert result.status is SolverStatus.OK
    frozen = result.t_min_c <= 0.0
    assert frozen.any()
    centre = volume.grid.world_to_index(np.array([0.0, 0.0, 0.0])).round().astype(int)
    assert result.t_min_c[tuple(centre)] < -40  # on the active zone's axis
    near, far = result.sensors_c["near"], result.sensors_c["far"]
    assert near.min() < far.min()
    assert far.min() > 30  # 20 mm away, 2 min: barely touched
    # The passive thaw follows the freeze: the final field is warmer than the minimum.
    assert np.all(result.t_final_c >= result.t_min_c - 1e-3)
    assert near[-1] > near.min()


def test_sub_voxel_tip_motion_changes_temperatures_smoothly(gel):
    """Moving the probe by tenths of a voxel changes a nearby temperature by small, even steps."""
    case, volume = gel
    point = tuple(volume.grid.world_to_index(np.array([4.0, 0.0, 0.0])).round().astype(int))
    values = [
        simulate(case, volume, _plan(tip=(dx, 0.0, -22.0), freeze=(1.0,))).t_min_c[point]
        for dx in np.linspace(0.0, 1.5, 6)  # 0 to 1 voxel (1.5 mm) in steps of 0.3 mm
    ]
    steps = np.diff(values)
    assert np.all(steps < 0)  # closer probe, colder point: monotone
    assert steps.max() / steps.min() < 3.0  # no jump at voxel boundaries


def test_probe_outside_grid_is_reported(gel):
    case, volume = gel
    with pytest.raises(OptiprobeError, match="outside the simulation grid"):
        simulate(case, volume, _plan(tip=(0.0, 0.0, 200.0)))


def test_too_large_time_step_is_refused(gel):
    case, volume = gel
    with pytest.raises(OptiprobeError, match="stability limit"):
        simulate(case, volume, _plan(), dt_s=10.0)


def test_shorter_freeze_gives_less_ice(gel):
    case, volume = gel
    long = simulate(case, volume, _plan(freeze=(2.0,))).t_min_c
    short = simulate(case, volume, _plan(freeze=(1.0,))).t_min_c
    assert (short <= 0).sum() < (long <= 0).sum()


def test_cli_simulate_writes_outputs(gel, tmp_path):
    import json

    import nibabel as nib
    from typer.testing import CliRunner

    from optiprobe.cli import app

    _, volume = gel
    case_file = tmp_path / "case.yaml"
    case_file.write_text(SHORT)
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(
        "probes:\n  - {model: cryo-2.4mm, tip_mm: [0, 0, -22], entry_mm: [0, 0, 38],"
        " freeze_min: [2]}\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["simulate", str(case_file), str(plan_file), "--out", str(out)]
    )
    assert result.exit_code in (0, 1), result.output
    assert "fitted to gel data" in " ".join(result.output.split())
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["solver"]["status"] == "OK"
    assert metrics["probe_models_calibrated"] is True  # cryo-2.4mm is fitted to Littrup 2009
    assert metrics["verified"] is metrics["all_limits_pass"]
    assert {row["criterion"].split(" (")[0] for row in metrics["criteria"]} >= {"ice margin"}
    image = nib.load(str(out / "t_min.nii.gz"))
    # RAS affine on disk; converting back gives the grid's LPS affine.
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ image.affine
    np.testing.assert_allclose(lps, volume.grid.affine_lps(), atol=1e-5)
    assert image.shape == volume.grid.shape
    header = (out / "sensors.csv").read_text().splitlines()[0]
    assert header == "time_s,near,far"
    # The folder stands alone: it names its case and carries the plan it simulated.
    from optiprobe.case import load_case, load_plan
    from optiprobe.outputs import inputs_digest, read_run_record

    record = read_run_record(out)
    assert record["case"] == case_file.resolve()
    case = load_case(record["case"])
    saved = load_plan(record["plan"], case)
    assert saved.probes == load_plan(plan_file).probes
    assert record["inputs_digest"] == inputs_digest(case, saved)


def test_inputs_digest_follows_probes_and_case(tmp_path):
    """The digest that lets `compare` reuse a run changes with any input that changes the
    answer, and not with the plan's name."""
    from optiprobe.outputs import inputs_digest

    case_file = tmp_path / "case.yaml"
    case_file.write_text(SHORT)
    case = load_case(case_file)
    probe = {"model": "cryo-2.4mm", "tip_mm": [0, 0, -22], "entry_mm": [0, 0, 38]}
    base = Plan.model_validate({"probes": [probe | {"freeze_min": [2]}]})
    renamed = base.model_copy(update={"name": "other"})
    longer = Plan.model_validate({"probes": [probe | {"freeze_min": [3]}]})
    moved = Plan.model_validate({"probes": [probe | {"tip_mm": [0, 1, -22]}]})
    finer = tmp_path / "finer.yaml"
    finer.write_text(SHORT.replace("spacing_mm: 1.5", "spacing_mm: 1.0"))
    assert inputs_digest(case, base) == inputs_digest(case, renamed)
    assert inputs_digest(case, base) != inputs_digest(case, longer)
    assert inputs_digest(case, base) != inputs_digest(case, moved)
    assert inputs_digest(case, base) != inputs_digest(load_case(finer), base)


def test_non_finite_field_is_reported_as_a_status(gel, monkeypatch):
    """Traced code never raises: a NaN property reaches simulate's finiteness check."""
    import dataclasses

    import jax.numpy as jnp

    from optiprobe.thermal import simulate as simulate_module

    original = simulate_module.material_from_volume

    def poisoned(volume):
        material = original(volume)
        return dataclasses.replace(material, k_unfrozen=material.k_unfrozen * jnp.nan)

    monkeypatch.setattr(simulate_module, "material_from_volume", poisoned)
    case, volume = gel
    result = simulate(case, volume, _plan(freeze=(1.0,)))
    assert result.status is SolverStatus.NON_FINITE
    assert "NaN" in result.status.message


def test_progress_reports_simulated_time_without_changing_the_result(gel):
    """A run cut into pieces for progress reporting gives the same fields as one piece."""
    case, volume = gel
    calls = []
    pieced = simulate(
        case, volume, _plan(), progress=lambda done, total: calls.append((done, total))
    )
    whole = simulate(case, volume, _plan())
    done = [d for d, _ in calls]
    assert len(calls) >= 10
    assert np.all(np.diff(done) > 0)
    assert done[-1] == pytest.approx(calls[-1][1])  # ends at the total
    assert calls[-1][1] >= 3 * 60  # 2 min freeze + 1 min thaw
    np.testing.assert_allclose(pieced.t_min_c, whole.t_min_c, atol=1e-4)
    np.testing.assert_allclose(pieced.sensors_c["near"], whole.sensors_c["near"], atol=1e-4)
    assert len(pieced.sensor_times_s) == len(pieced.sensors_c["near"])


def test_only_gel_fitted_catalogue_models_count_as_calibrated(gel):
    from optiprobe.metrics import plan_models_calibrated

    case, _ = gel
    assert plan_models_calibrated(case, _plan())  # cryo-2.4mm
    sphere = Plan(
        probes=[{"model": "cryo-17g-sphere", "tip_mm": (0, 0, -22), "entry_mm": (0, 0, 38)}]
    )
    assert not plan_models_calibrated(case, sphere)
    data = case.model_dump()
    data["probes"]["models"] = [
        {
            "name": "cryo-2.4mm",
            "diameter_mm": 2.4,
            "active_length_mm": 40,
            "cooling": {"temperature_c": -150, "ramp_s": 10},
        }
    ]
    custom = type(case).model_validate(data)
    assert not plan_models_calibrated(custom, _plan())  # a user model reusing the name
