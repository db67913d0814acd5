"""Every shipped scenario validates and voxelises; the reference plan fits the L4 case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optiprobe.anatomy.voxelize import case_grid, voxelize
from optiprobe.case import is_plan_file, load_case, load_plan
from optiprobe.probes import get_probe_model

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
CASES = sorted(p for p in SCENARIOS.glob("*.yaml") if not is_plan_file(p))


def test_at_least_six_cases_ship():
    names = {p.stem for p in CASES}
    assert len(CASES) >= 6
    for required in (
        "l4_osteoblastic_posterior_wall",
        "acetabulum_lytic_sciatic",
        "rib_lytic_intercostal",
        "sacrum_mixed_soft_tissue",
    ):
        assert required in names


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_scenario_voxelises(path):
    case = load_case(path)
    volume = voxelize(case)
    assert volume.tumor_mask.sum() > 100
    for name in volume.protected:
        assert volume.masks[name].any()
        assert not (volume.masks[name] & volume.tumor_mask).any()


def test_one_scenario_has_hydrodissection():
    kinds = {r.type for p in CASES for r in load_case(p).protection}
    assert "hydrodissection" in kinds


def test_l4_is_the_hard_case():
    case = load_case(SCENARIOS / "l4_osteoblastic_posterior_wall.yaml")
    volume = voxelize(case)
    assert case.tumor.phenotype == "osteoblastic"
    assert {"cauda_equina", "dural_sac"} <= set(volume.protected)
    # The tumour abuts the posterior wall: within 4 mm of the dural sac.
    tumor = np.argwhere(volume.tumor_mask)
    sac = np.argwhere(volume.masks["dural_sac"])
    ys = volume.grid.spacing_mm[1]
    gap_mm = (sac[:, 1].min() - tumor[:, 1].max()) * ys
    assert 0 < gap_mm <= 4


def test_reference_plan_fits_the_l4_case():
    case = load_case(SCENARIOS / "l4_osteoblastic_posterior_wall.yaml")
    grid = case_grid(case)
    plan = load_plan(SCENARIOS / "l4_reference_plan.yaml", case, grid=grid)
    assert len(plan.probes) == 4
    assert case.protocol.freeze_durations_min == [10, 10]
    assert all(p.freeze_min == [10, 10] for p in plan.probes)
    tips = np.array([p.tip_mm for p in plan.probes])
    spacing = np.linalg.norm(tips[:, None] - tips[None], axis=-1)[np.triu_indices(4, 1)]
    assert spacing.min() >= case.probes.min_spacing_mm
    for probe in plan.probes:
        model = get_probe_model(probe.model)
        assert probe.depth_mm >= model.active_length_mm + model.tip_offset_mm


def test_reference_plan_entries_are_on_the_skin():
    from optiprobe.anatomy.phantoms import build_phantom

    case = load_case(SCENARIOS / "l4_osteoblastic_posterior_wall.yaml")
    skin = build_phantom(case.anatomy.phantom).structure("skin").shape
    plan = load_plan(SCENARIOS / "l4_reference_plan.yaml")
    for probe in plan.probes:
        assert abs(float(skin.signed_distance(np.array(probe.entry_mm)))) < 0.5
