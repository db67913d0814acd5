"""The tissue property library: names, physical ranges, sources, overrides, generated docs."""

from __future__ import annotations

import importlib.util
import math
from dataclasses import replace
from pathlib import Path

import pytest

from optiprobe.errors import OptiprobeError
from optiprobe.tissues import (
    PROPERTY_NAMES,
    TISSUES,
    Sourced,
    Tissue,
    get_tissue,
    with_overrides,
)

ROOT = Path(__file__).resolve().parents[1]

EXPECTED_NAMES = {
    "muscle",
    "fat",
    "skin",
    "cortical_bone",
    "cancellous_bone",
    "red_marrow",
    "yellow_marrow",
    "intervertebral_disc",
    "cartilage",
    "spinal_cord",
    "nerve",
    "csf",
    "blood",
    "lung",
    "bowel",
    "tumor_osteoblastic",
    "tumor_osteolytic",
    "tumor_soft_tissue",
    "tumor_mixed",
    "hydrodissection_fluid",
    "co2_gas",
    "agar_gel",
}
GASES = {"co2_gas"}
NOT_LIVING = {"csf", "hydrodissection_fluid", "co2_gas", "agar_gel"}
PERFUSED = {
    "muscle",
    "fat",
    "skin",
    "cortical_bone",
    "cancellous_bone",
    "red_marrow",
    "yellow_marrow",
    "spinal_cord",
    "nerve",
    "lung",
    "bowel",
    "tumor_osteoblastic",
    "tumor_osteolytic",
    "tumor_soft_tissue",
    "tumor_mixed",
}
FREEZING = sorted(name for name, t in TISSUES.items() if t.value("latent_heat_j_m3") > 0)
RHO_C_BLOOD = 1050.0 * 3617.0  # J/m³/K, physics-data §2.2
L_WATER = 334e3  # J/kg

# (low, high) physical ranges per property; density of gases is checked separately.
RANGES = {
    "density_kg_m3": (1.0, 2500.0),
    "heat_capacity_unfrozen_j_m3k": (1e3, 5e6),
    "heat_capacity_frozen_j_m3k": (1e3, 5e6),
    "conductivity_unfrozen_w_mk": (0.005, 3.0),
    "conductivity_frozen_w_mk": (0.005, 3.0),
    "latent_heat_j_m3": (0.0, 3.4e8),
    "solidus_c": (-200.0, 0.0),
    "liquidus_c": (-200.0, 0.0),
    "perfusion_w_m3k": (0.0, 1e5),
    "metabolic_w_m3": (0.0, 1e5),
}


def _load_table_script():
    spec = importlib.util.spec_from_file_location(
        "tissue_table", ROOT / "benchmarks" / "tissue_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the library -------------------------------------------------------------------------------


def test_library_has_exactly_the_listed_names():
    assert set(TISSUES) == EXPECTED_NAMES


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_entry_is_a_tissue_under_its_own_name(name):
    tissue = TISSUES[name]
    assert isinstance(tissue, Tissue)
    assert tissue.name == name
    assert tissue.description.strip()


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_values_are_finite_and_physical(name):
    tissue = TISSUES[name]
    for prop in PROPERTY_NAMES:
        value = tissue.value(prop)
        assert math.isfinite(value), (name, prop)
        low, high = RANGES[prop]
        if prop == "density_kg_m3" and name in GASES:
            low, high = 0.5, 5.0
        elif prop == "density_kg_m3":
            low = 300.0  # aerated lung is the lightest tissue
        assert low <= value <= high, f"{name}.{prop} = {value} outside [{low}, {high}]"
    assert tissue.value("solidus_c") <= tissue.value("liquidus_c")


@pytest.mark.parametrize("name", FREEZING)
def test_ice_conducts_better_and_stores_less_heat_than_water(name):
    # Ice: k 2.22 vs water 0.60 W/m/K, c 2090 vs 4180 J/kg/K (physics-data §2.1).
    tissue = TISSUES[name]
    assert tissue.value("conductivity_frozen_w_mk") > tissue.value("conductivity_unfrozen_w_mk")
    assert tissue.value("heat_capacity_frozen_j_m3k") < tissue.value(
        "heat_capacity_unfrozen_j_m3k"
    )


@pytest.mark.parametrize("name", FREEZING)
def test_latent_heat_cannot_exceed_freezing_all_of_the_mass_as_water(name):
    tissue = TISSUES[name]
    assert tissue.value("latent_heat_j_m3") <= tissue.value("density_kg_m3") * L_WATER


def test_only_the_gas_does_not_freeze():
    assert set(EXPECTED_NAMES) - set(FREEZING) == GASES


def test_water_rich_tissues_store_more_latent_heat_than_fatty_or_bony_ones():
    latent = {name: t.value("latent_heat_j_m3") for name, t in TISSUES.items()}
    for wet in ("muscle", "spinal_cord", "nerve", "tumor_osteolytic", "csf"):
        for dry in ("fat", "yellow_marrow", "cortical_bone", "tumor_osteoblastic"):
            assert latent[wet] > 2 * latent[dry], (wet, dry)


def test_tissues_freeze_over_the_generic_interval_and_fluids_near_minus_half_degree():
    for name in set(FREEZING) - {"csf", "hydrodissection_fluid", "agar_gel"}:
        tissue = TISSUES[name]
        assert (tissue.value("solidus_c"), tissue.value("liquidus_c")) == (-8.0, -1.0), name
    for name in ("csf", "hydrodissection_fluid"):
        solidus, liquidus = TISSUES[name].value("solidus_c"), TISSUES[name].value("liquidus_c")
        assert 0.0 < liquidus - solidus <= 0.5
        assert (solidus + liquidus) / 2 == pytest.approx(-0.5, abs=0.1)


def test_phase_change_free_convention_for_gas():
    gas = TISSUES["co2_gas"]
    assert gas.value("latent_heat_j_m3") == 0.0
    assert gas.value("solidus_c") == gas.value("liquidus_c") <= -196.0  # below LN₂
    assert gas.value("conductivity_frozen_w_mk") == gas.value("conductivity_unfrozen_w_mk")
    assert gas.value("conductivity_unfrozen_w_mk") < 0.03
    assert gas.value("heat_capacity_unfrozen_j_m3k") < 1e-3 * TISSUES["muscle"].value(
        "heat_capacity_unfrozen_j_m3k"
    )


def test_non_living_materials_have_no_perfusion_or_metabolism():
    for name in NOT_LIVING:
        assert TISSUES[name].value("perfusion_w_m3k") == 0.0, name
        assert TISSUES[name].value("metabolic_w_m3") == 0.0, name


def test_perfused_tissues_have_positive_perfusion_and_metabolism():
    for name in PERFUSED:
        assert TISSUES[name].value("perfusion_w_m3k") > 0.0, name
        assert TISSUES[name].value("metabolic_w_m3") > 0.0, name


def test_generic_soft_tissue_set_is_the_published_one():
    # Micromachines 2025, doi:10.3390/mi16121321 (physics-data §2.1), all confidence A.
    tissue = TISSUES["tumor_soft_tissue"]
    expected = {
        "density_kg_m3": 1000.0,
        "heat_capacity_unfrozen_j_m3k": 1000.0 * 3600.0,
        "heat_capacity_frozen_j_m3k": 998.0 * 1800.0,
        "conductivity_unfrozen_w_mk": 0.5,
        "conductivity_frozen_w_mk": 2.0,
        "latent_heat_j_m3": 250e6,
        "solidus_c": -8.0,
        "liquidus_c": -1.0,
        "perfusion_w_m3k": 1800.0,
        "metabolic_w_m3": 4200.0,
    }
    assert {prop: tissue.value(prop) for prop in PROPERTY_NAMES} == pytest.approx(expected)
    assert tissue.estimated_properties == ()


def test_muscle_perfusion_follows_the_htr_conversion():
    # ω = HTR·ρ·1e-6/60 with IT'IS HTR 37 ml/min/kg, ρ 1090 (physics-data §2.2).
    omega = 37.0 * 1090.0 * 1e-6 / 60.0
    assert TISSUES["muscle"].value("perfusion_w_m3k") == pytest.approx(omega * RHO_C_BLOOD, 5e-3)


def test_unfrozen_heat_capacity_is_density_times_specific_heat():
    assert TISSUES["muscle"].value("heat_capacity_unfrozen_j_m3k") == pytest.approx(1090 * 3421)
    assert TISSUES["cortical_bone"].value("heat_capacity_unfrozen_j_m3k") == pytest.approx(
        1908 * 1313
    )


def test_mixed_tumour_is_the_mean_of_blastic_and_lytic():
    blastic, lytic = TISSUES["tumor_osteoblastic"], TISSUES["tumor_osteolytic"]
    mixed = TISSUES["tumor_mixed"]
    for prop in PROPERTY_NAMES:
        assert mixed.value(prop) == pytest.approx((blastic.value(prop) + lytic.value(prop)) / 2)
        assert getattr(mixed, prop).confidence == "D"


def test_tumour_phenotypes_differ_as_bone_and_soft_tissue():
    blastic, lytic = TISSUES["tumor_osteoblastic"], TISSUES["tumor_osteolytic"]
    assert blastic.value("density_kg_m3") > 1.5 * lytic.value("density_kg_m3")
    assert blastic.value("conductivity_frozen_w_mk") < lytic.value("conductivity_frozen_w_mk")
    assert lytic.value("perfusion_w_m3k") > 10 * blastic.value("perfusion_w_m3k")


# --- sources and confidence --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_every_value_has_a_source_and_a_library_confidence(name):
    tissue = TISSUES[name]
    for prop in PROPERTY_NAMES:
        sourced = getattr(tissue, prop)
        assert isinstance(sourced, Sourced)
        assert len(sourced.source.strip()) >= 10, (name, prop)
        assert sourced.confidence in ("A", "B", "C", "D"), (name, prop)


def test_a_b_values_cite_the_reference_document_or_a_standard():
    for tissue in TISSUES.values():
        for prop in PROPERTY_NAMES:
            sourced = getattr(tissue, prop)
            if sourced.confidence in ("A", "B"):
                text = sourced.source
                assert "physics-data" in text or "standard" in text, (tissue.name, prop, text)


def test_recalled_values_say_so():
    for name in ("skin", "lung", "bowel"):
        for prop in ("conductivity_unfrozen_w_mk", "perfusion_w_m3k"):
            sourced = getattr(TISSUES[name], prop)
            assert sourced.confidence == "C"
            assert "verify" in sourced.source


def test_is_estimate_flags_c_and_d_only():
    assert Sourced(1.0, "x", "C").is_estimate
    assert Sourced(1.0, "x", "D").is_estimate
    assert not Sourced(1.0, "x", "A").is_estimate
    assert not Sourced(1.0, "x", "B").is_estimate
    assert not Sourced(1.0, "x", "case").is_estimate
    for tissue in TISSUES.values():
        flagged = {p for p in PROPERTY_NAMES if getattr(tissue, p).confidence in ("C", "D")}
        assert set(tissue.estimated_properties) == flagged
    assert set(TISSUES["tumor_mixed"].estimated_properties) == set(PROPERTY_NAMES)
    assert "conductivity_frozen_w_mk" in TISSUES["cortical_bone"].estimated_properties
    assert "conductivity_unfrozen_w_mk" not in TISSUES["cortical_bone"].estimated_properties


def test_sourced_rejects_an_unknown_confidence():
    with pytest.raises(ValueError, match="confidence"):
        Sourced(1.0, "x", "E")


def test_tissue_rejects_non_finite_and_negative_values():
    muscle = TISSUES["muscle"]
    with pytest.raises(ValueError, match="finite"):
        replace(muscle, conductivity_unfrozen_w_mk=Sourced(math.nan, "x", "D"))
    with pytest.raises(ValueError, match=">= 0"):
        replace(muscle, metabolic_w_m3=Sourced(-1.0, "x", "D"))


# --- lookup and overrides ----------------------------------------------------------------------


def test_get_tissue_returns_the_library_entry():
    assert get_tissue("cortical_bone") is TISSUES["cortical_bone"]


def test_get_tissue_unknown_name_lists_the_known_ones():
    with pytest.raises(OptiprobeError) as info:
        get_tissue("bone")
    message = str(info.value)
    assert "'bone'" in message
    for name in EXPECTED_NAMES:
        assert name in message


def test_with_overrides_replaces_values_with_case_confidence():
    muscle = TISSUES["muscle"]
    changed = with_overrides(
        muscle, {"perfusion_w_m3k": 5000.0, "solidus_c": -10.0}, source="case.yaml"
    )
    assert changed.value("perfusion_w_m3k") == 5000.0
    assert changed.value("solidus_c") == -10.0
    assert changed.perfusion_w_m3k.confidence == "case"
    assert changed.perfusion_w_m3k.source == "case.yaml"
    assert "perfusion_w_m3k" not in changed.estimated_properties
    for prop in set(PROPERTY_NAMES) - {"perfusion_w_m3k", "solidus_c"}:
        assert getattr(changed, prop) == getattr(muscle, prop)
    assert TISSUES["muscle"].value("perfusion_w_m3k") == muscle.value("perfusion_w_m3k") != 5000.0


def test_with_overrides_rejects_an_unknown_property_and_lists_the_known_ones():
    with pytest.raises(OptiprobeError) as info:
        with_overrides(TISSUES["fat"], {"conductivity": 0.3}, source="case.yaml")
    assert "'conductivity'" in str(info.value)
    assert "conductivity_unfrozen_w_mk" in str(info.value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"conductivity_frozen_w_mk": -0.1},
        {"latent_heat_j_m3": -1.0},
        {"perfusion_w_m3k": math.nan},
        {"density_kg_m3": math.inf},
        {"metabolic_w_m3": "warm"},
        {"solidus_c": 0.0},  # above the liquidus (−1 °C)
    ],
)
def test_with_overrides_rejects_invalid_values(overrides):
    with pytest.raises(OptiprobeError):
        with_overrides(TISSUES["muscle"], overrides, source="case.yaml")


# --- the generated documentation ---------------------------------------------------------------


def test_docs_tables_match_the_library():
    table = _load_table_script()
    document = (ROOT / "docs" / "tissues.md").read_text(encoding="utf-8")
    assert table.splice(document, table.render()) == document, (
        "docs/tissues.md is out of date: run `uv run python benchmarks/tissue_table.py`"
    )


def test_docs_name_every_tissue_value_and_source():
    table = _load_table_script()
    document = (ROOT / "docs" / "tissues.md").read_text(encoding="utf-8")
    for tissue in TISSUES.values():
        assert f"### {tissue.name}" in document
        for prop in PROPERTY_NAMES:
            sourced = getattr(tissue, prop)
            row = f"| `{prop}` | {table.format_value(sourced.value)} | {table.UNITS[prop]} |"
            assert row in document, (tissue.name, prop)
            assert sourced.source.replace("|", "\\|") in document
