"""The tissue property values, each with source and confidence (see ``optiprobe.tissues``).

Every number comes from ``shared/reference/physics-data.md`` (cited section in each source
string) or, where that document has no entry (skin, lung, bowel, cartilage), from recalled IT'IS
database values coded **C** and marked "verify". Units are those of
:class:`~optiprobe.tissues.Tissue` (SI; volumetric heat capacity and latent heat; perfusion as
ω_b·ρ_b·c_b). ``docs/tissues.md`` is generated from this module by ``benchmarks/tissue_table.py``.
Import the library through ``optiprobe.tissues``, which imports this module at its end; importing
this module first fails on the circular import.

Derivation rules used here (confidence **D** unless stated):

- Unfrozen volumetric heat capacity is ρ·c of the cited source; its confidence is the weaker of
  the two inputs.
- Perfusion from an IT'IS heat-transfer rate (HTR, ml/min/kg):
  ω = HTR·ρ_tissue·1e-6/60 s⁻¹, times blood ρ_b·c_b = 1050·3617 J/m³/K (physics-data §2.2).
- Frozen properties where physics-data §2.3 tabulates a range: the mid-range value. Elsewhere the
  §2.3 rules with water mass fraction w: k_f = k_u + φ_w·(k_ice − k_water) with φ_w = w·ρ/ρ_water;
  c_f = ρ·(w·c_ice + (1 − w)·c_solids) with c_solids = 1400 J/kg/K (mid of 1300–1500);
  L = f·w·334 kJ/kg·ρ with f = 0.8 (mid of 0.6–1.0). Values are rounded to 3 significant digits.
- Phase change of tissues over −8 … −1 °C (physics-data §2.1 generic set); water-like fluids
  over a narrow interval around −0.5 °C (§2.3).
- Metabolic heat: the generic 4200 W/m³ (§2.1) for every perfused living tissue; none for
  fluids, gas, phantoms, stagnant blood and avascular tissue.

**Phase-change-free materials** (CO₂ gas) use ``latent_heat_j_m3 = 0`` and
``solidus_c == liquidus_c == -200`` °C, below the working range of any cryoprobe (argon floor
−185.8 °C, LN₂ −196 °C), so the solver never enters their mushy zone; frozen and unfrozen
properties are equal. (CO₂ deposits as dry ice at −78.5 °C at 1 atm; a gas pocket touching the
probe would frost, which this convention ignores.)
"""

from __future__ import annotations

from optiprobe.tissues import PROPERTY_NAMES, Sourced, Tissue

# Constants of the §2.1/§2.3 rules (physics-data, confidence B).
_K_ICE = 2.22  # W/m/K at 0 °C, Slack 1980
_K_WATER = 0.60  # W/m/K
_C_ICE = 2090.0  # J/kg/K
_RHO_ICE = 917.0  # kg/m³
_C_WATER = 4180.0  # J/kg/K
_L_WATER = 334e3  # J/kg
_RHO_WATER = 1000.0  # kg/m³
_C_SOLIDS = 1400.0  # J/kg/K, mid of the §2.3 range 1300–1500
_FREEZE_FRACTION = 0.8  # mid of the §2.3 range 0.6–1.0
_RHO_C_BLOOD = 1050.0 * 3617.0  # J/m³/K, physics-data §2.2

# Citations, as physics-data.md gives them.
_MICRO = "Micromachines 2025;16:1321, doi:10.3390/mi16121321 (physics-data §2.1)"
_COMSOL = "COMSOL Bioheat material library citing the IT'IS database (physics-data §2.2)"
_ITIS_RHO = "IT'IS tissue density list (physics-data §2.2)"
_ITIS_HTR = "IT'IS heat-transfer rate (physics-data §2.2)"
_BABEL = "BabelBrain code citing IT'IS (physics-data §2.2)"
_MARROW = "radiologykey 'Marrow changes in osteoporosis' (physics-data §2.2)"
_WATER = "standard water/ice constants (physics-data §2.1: Slack 1980; water k, c, L)"
_TABLE_23 = "physics-data §2.3 frozen-state table"
_RECALLED = "recalled IT'IS database value, not in physics-data.md; verify"


def _sig3(value: float) -> float:
    return float(f"{value:.3g}")


def _s(value: float, source: str, confidence: str) -> Sourced:
    return Sourced(float(value), source, confidence)


def _rho_c(rho: float, c: float, source: str, confidence: str) -> Sourced:
    """Volumetric heat capacity ρ·c (J/m³/K) from a density and a specific heat."""
    return _s(rho * c, f"ρ·c from {source}: {rho:g} kg/m³ × {c:g} J/kg/K", confidence)


def _perfusion_htr(htr: float, rho: float, source: str, confidence: str) -> Sourced:
    """Pennes term ω_b·ρ_b·c_b (W/m³/K) from an IT'IS heat-transfer rate in ml/min/kg."""
    omega = htr * rho * 1e-6 / 60.0
    text = (
        f"{source}: HTR {htr:g} ml/min/kg → ω = HTR·ρ·1e-6/60 = {omega:.3g} s⁻¹, "
        f"× ρ_b c_b 3.80 MJ/m³/K (physics-data §2.2 conversion)"
    )
    return _s(_sig3(omega * _RHO_C_BLOOD), text, confidence)


def _mid(low: float, high: float, scale: float, what: str) -> Sourced:
    """Mid-range of a §2.3 table range (given in the table's unit; ``scale`` converts to SI)."""
    text = f"mid-range of {_TABLE_23} range {low:g}–{high:g} {what}"
    return _s(_sig3((low + high) / 2.0 * scale), text, "D")


def _about(value: float, scale: float, what: str) -> Sourced:
    """A single approximate (≈) value of the §2.3 table, in the table's unit."""
    return _s(value * scale, f"{_TABLE_23} value ≈ {value:g} {what}", "D")


def _k_frozen_rule(k_unfrozen: float, w: float, rho: float, w_source: str) -> Sourced:
    phi = w * rho / _RHO_WATER
    text = (
        f"§2.3 parallel rule k_f = k_u + φ_w·(k_ice − k_water) = {k_unfrozen:g} + "
        f"{phi:.3f}·({_K_ICE:g} − {_K_WATER:g}), φ_w = w·ρ/ρ_water, w = {w:g} ({w_source})"
    )
    return _s(_sig3(k_unfrozen + phi * (_K_ICE - _K_WATER)), text, "D")


def _c_frozen_rule(w: float, rho: float, w_source: str) -> Sourced:
    text = (
        f"§2.3 rule c_f = ρ·(w·c_ice + (1 − w)·c_solids), c_ice {_C_ICE:g}, c_solids "
        f"{_C_SOLIDS:g} J/kg/K (mid of 1300–1500), ρ {rho:g}, w = {w:g} ({w_source})"
    )
    return _s(_sig3(rho * (w * _C_ICE + (1.0 - w) * _C_SOLIDS)), text, "D")


def _latent_rule(w: float, rho: float, w_source: str) -> Sourced:
    text = (
        f"§2.3 rule L = f·w·334 kJ/kg·ρ, f = {_FREEZE_FRACTION:g} (mid of 0.6–1.0), "
        f"ρ {rho:g}, w = {w:g} ({w_source})"
    )
    return _s(_sig3(_FREEZE_FRACTION * w * _L_WATER * rho), text, "D")


_TISSUE_RANGE = "tissue phase-change range −8 … −1 °C of the generic set"
_SOLIDUS_TISSUE = _s(-8.0, f"{_TISSUE_RANGE}, {_MICRO}, applied per physics-data §2.3", "D")
_LIQUIDUS_TISSUE = _s(-1.0, f"{_TISSUE_RANGE}, {_MICRO}, applied per physics-data §2.3", "D")
_WATER_RANGE = "narrow interval around the ≈ −0.5 °C freezing point of water-like fluids"
_SOLIDUS_FLUID = _s(-0.6, f"{_WATER_RANGE} (physics-data §2.3, B/D)", "D")
_LIQUIDUS_FLUID = _s(-0.4, f"{_WATER_RANGE} (physics-data §2.3, B/D)", "D")
_METABOLIC_GENERIC = _s(
    4200.0, f"generic soft-tissue Q_m of {_MICRO}; no tissue-specific value, applied here", "D"
)
_NONE_LIVING = (
    "not living tissue, so no perfusion or metabolic heat (as physics-data §2.2 gives for CSF)"
)
_ICE_K = _s(_K_ICE, f"ice conductivity at 0 °C, {_WATER} (physics-data §2.3 row: ≈ ice)", "B")
_ICE_C = _rho_c(_RHO_ICE, _C_ICE, f"ice, {_WATER}", "B")
_W_MUSCLE = "muscle / osteolytic row"
_W_CORD = "spinal cord / nerve row"
_W_SOFT = "recalled water content of soft tissue, C"


def _muscle() -> Tissue:
    return Tissue(
        name="muscle",
        description="Skeletal muscle (paraspinal, psoas, gluteal).",
        density_kg_m3=_s(1090.0, _COMSOL, "A"),
        heat_capacity_unfrozen_j_m3k=_rho_c(1090.0, 3421.0, _COMSOL, "A"),
        heat_capacity_frozen_j_m3k=_mid(1.8, 2.1, 1e6, f"c_f (MJ/m³/K), {_W_MUSCLE}"),
        conductivity_unfrozen_w_mk=_s(0.49, _COMSOL, "A"),
        conductivity_frozen_w_mk=_mid(1.5, 2.0, 1.0, f"k_f (W/m/K), {_W_MUSCLE}"),
        latent_heat_j_m3=_mid(160.0, 280.0, 1e6, f"L (MJ/m³), {_W_MUSCLE}"),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_perfusion_htr(37.0, 1090.0, _ITIS_HTR, "C"),
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _fat() -> Tissue:
    row = "fat row (lipid changes not modelled)"
    return Tissue(
        name="fat",
        description="Subcutaneous and epidural fat.",
        density_kg_m3=_s(911.0, _COMSOL, "A"),
        heat_capacity_unfrozen_j_m3k=_rho_c(911.0, 2348.0, _COMSOL, "A"),
        heat_capacity_frozen_j_m3k=_about(1.9, 1e6, f"c_f (MJ/m³/K), {row}"),
        conductivity_unfrozen_w_mk=_s(0.21, _COMSOL, "A"),
        conductivity_frozen_w_mk=_mid(0.3, 0.45, 1.0, f"k_f (W/m/K), {row}"),
        latent_heat_j_m3=_mid(20.0, 60.0, 1e6, f"L (MJ/m³), {row}"),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_perfusion_htr(33.0, 911.0, _ITIS_HTR, "C"),
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _skin() -> Tissue:
    w = 0.68
    return Tissue(
        name="skin",
        description="Skin (dermis); protected at the probe entry.",
        density_kg_m3=_s(1109.0, _RECALLED, "C"),
        heat_capacity_unfrozen_j_m3k=_rho_c(1109.0, 3391.0, _RECALLED, "C"),
        heat_capacity_frozen_j_m3k=_c_frozen_rule(w, 1109.0, _W_SOFT),
        conductivity_unfrozen_w_mk=_s(0.37, _RECALLED, "C"),
        conductivity_frozen_w_mk=_k_frozen_rule(0.37, w, 1109.0, _W_SOFT),
        latent_heat_j_m3=_latent_rule(w, 1109.0, _W_SOFT),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_perfusion_htr(106.0, 1109.0, _RECALLED, "C"),
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _cortical_bone() -> Tissue:
    row = "cortical bone row (coded D/C)"
    k_note = "; fresh human femur ≈ 0.30 (Biyikli 1986), equine 0.70–0.80 (Moses 1995)"
    return Tissue(
        name="cortical_bone",
        description="Cortical bone (IT'IS 'Bone, cortical', also used for vertebrae).",
        density_kg_m3=_s(1908.0, _COMSOL, "A"),
        heat_capacity_unfrozen_j_m3k=_rho_c(1908.0, 1313.0, _COMSOL, "A"),
        heat_capacity_frozen_j_m3k=_about(2.3, 1e6, f"c_f (MJ/m³/K), {row}"),
        conductivity_unfrozen_w_mk=_s(0.32, _COMSOL + k_note, "A"),
        conductivity_frozen_w_mk=_mid(0.35, 0.7, 1.0, f"k_f (W/m/K), {row}"),
        latent_heat_j_m3=_mid(40.0, 65.0, 1e6, f"L (MJ/m³), {row}"),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_perfusion_htr(10.0, 1908.0, _ITIS_HTR, "A"),
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _cancellous_bone() -> Tissue:
    row = "cancellous bone (with red marrow) row (coded D/C)"
    return Tissue(
        name="cancellous_bone",
        description="Cancellous (trabecular) bone with red marrow, e.g. the vertebral body.",
        density_kg_m3=_s(1178.0, _BABEL, "A"),
        heat_capacity_unfrozen_j_m3k=_rho_c(1178.0, 2274.0, _BABEL, "A"),
        heat_capacity_frozen_j_m3k=_about(2.0, 1e6, f"c_f (MJ/m³/K), {row}"),
        conductivity_unfrozen_w_mk=_s(0.31, _BABEL, "A"),
        conductivity_frozen_w_mk=_mid(0.4, 0.8, 1.0, f"k_f (W/m/K), {row}"),
        latent_heat_j_m3=_mid(45.0, 110.0, 1e6, f"L (MJ/m³), {row}"),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_perfusion_htr(30.0, 1178.0, _ITIS_HTR, "A"),
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _red_marrow() -> Tissue:
    row = "red marrow row"
    pet = (
        "Blood 1994;83:958, ¹⁵O-water PET, lumbar vertebral marrow 17.6 ± 3.1 ml/min/100 g "
        "(physics-data §2.2, ≈ 11 kW/m³/K)"
    )
    return Tissue(
        name="red_marrow",
        description="Red (haematopoietic) marrow: about 50 % lipid, 35 % water, 15 % protein.",
        density_kg_m3=_s(1029.0, _ITIS_RHO, "A"),
        heat_capacity_unfrozen_j_m3k=_rho_c(1029.0, 2666.0, f"{_ITIS_RHO}; c ≈ 2666 (C)", "C"),
        heat_capacity_frozen_j_m3k=_about(1.9, 1e6, f"c_f (MJ/m³/K), {row}"),
        conductivity_unfrozen_w_mk=_s(0.28, "physics-data §2.2 red marrow, ≈ 0.28 (C)", "C"),
        conductivity_frozen_w_mk=_mid(0.5, 0.9, 1.0, f"k_f (W/m/K), {row}"),
        latent_heat_j_m3=_mid(70.0, 120.0, 1e6, f"L (MJ/m³), {row}"),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_perfusion_htr(176.0, 1029.0, pet, "A"),
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _yellow_marrow() -> Tissue:
    w, rho = 0.15, 980.0
    w_src = f"yellow marrow ≈ 80 % lipid / 15 % water / 5 % protein, {_MARROW}, A"
    fat_row = "fat row, used for lipid-dominated yellow marrow"
    fat_htr = "physics-data §2.2 gives only 'low'; fat's IT'IS HTR taken"
    return Tissue(
        name="yellow_marrow",
        description="Yellow (fatty) marrow, e.g. long-bone shafts and irradiated vertebrae.",
        density_kg_m3=_s(rho, _ITIS_RHO, "A"),
        heat_capacity_unfrozen_j_m3k=_rho_c(rho, 2065.0, f"{_ITIS_RHO}; c ≈ 2065 (C)", "C"),
        heat_capacity_frozen_j_m3k=_about(1.9, 1e6, f"c_f (MJ/m³/K), {fat_row}"),
        conductivity_unfrozen_w_mk=_s(0.19, "physics-data §2.2 yellow marrow, ≈ 0.19 (C)", "C"),
        conductivity_frozen_w_mk=_k_frozen_rule(0.19, w, rho, w_src),
        latent_heat_j_m3=_latent_rule(w, rho, w_src),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_perfusion_htr(33.0, rho, fat_htr, "C"),
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _avascular(name: str, description: str, rho: Sourced) -> Tissue:
    """Cartilage-like avascular tissue: recalled IT'IS c and k, §2.3 rules for frozen values."""
    w = 0.75
    w_src = "recalled water content of cartilage / disc 0.70–0.80, C"
    avascular = "avascular (nucleus pulposus, hyaline cartilage): taken as 0; recalled, C"
    return Tissue(
        name=name,
        description=description,
        density_kg_m3=rho,
        heat_capacity_unfrozen_j_m3k=_rho_c(rho.value, 3568.0, _RECALLED, "C"),
        heat_capacity_frozen_j_m3k=_c_frozen_rule(w, rho.value, w_src),
        conductivity_unfrozen_w_mk=_s(0.49, _RECALLED, "C"),
        conductivity_frozen_w_mk=_k_frozen_rule(0.49, w, rho.value, w_src),
        latent_heat_j_m3=_latent_rule(w, rho.value, w_src),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_s(0.0, avascular, "C"),
        metabolic_w_m3=_s(0.0, f"{avascular}; metabolic heat negligible", "D"),
    )


def _neural(
    name: str, description: str, *, c: float, k: float, ck_source: str, perfusion: Sourced
) -> Tissue:
    """Spinal cord or peripheral nerve: IT'IS density, §2.2 (C) c and k, §2.3 frozen row."""
    rho = 1075.0
    return Tissue(
        name=name,
        description=description,
        density_kg_m3=_s(rho, _ITIS_RHO, "A"),
        heat_capacity_unfrozen_j_m3k=_rho_c(rho, c, f"{_ITIS_RHO}; c: {ck_source}", "C"),
        heat_capacity_frozen_j_m3k=_about(2.0, 1e6, f"c_f (MJ/m³/K), {_W_CORD}"),
        conductivity_unfrozen_w_mk=_s(k, ck_source, "C"),
        conductivity_frozen_w_mk=_mid(1.4, 1.8, 1.0, f"k_f (W/m/K), {_W_CORD}"),
        latent_heat_j_m3=_mid(150.0, 250.0, 1e6, f"L (MJ/m³), {_W_CORD}"),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=perfusion,
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _water_like(name: str, description: str, rho: Sourced, c: Sourced, k: Sourced) -> Tissue:
    """A water-like fluid (CSF, saline, D5W): freezes to ice in a narrow interval near −0.5 °C."""
    latent = "≈ 330 MJ/m³ for CSF / saline / D5W, w ≈ 0.99 (physics-data §2.3 row)"
    return Tissue(
        name=name,
        description=description,
        density_kg_m3=rho,
        heat_capacity_unfrozen_j_m3k=c,
        heat_capacity_frozen_j_m3k=_ICE_C,
        conductivity_unfrozen_w_mk=k,
        conductivity_frozen_w_mk=_ICE_K,
        latent_heat_j_m3=_s(330e6, latent, "D"),
        solidus_c=_SOLIDUS_FLUID,
        liquidus_c=_LIQUIDUS_FLUID,
        perfusion_w_m3k=_s(0.0, _NONE_LIVING, "B"),
        metabolic_w_m3=_s(0.0, _NONE_LIVING, "B"),
    )


def _blood() -> Tissue:
    w, rho = 0.82, 1050.0
    w_src = "recalled water content of whole blood, C"
    stagnant = (
        "stagnant blood (haematoma, thrombosed or clamped vessel): 0. Flowing vessels are a "
        "convective heat sink, to be modelled as a boundary, not by this tissue"
    )
    return Tissue(
        name="blood",
        description="Stagnant blood; a flowing vessel needs a boundary condition instead.",
        density_kg_m3=_s(rho, _ITIS_RHO, "A"),
        heat_capacity_unfrozen_j_m3k=_rho_c(rho, 3617.0, "physics-data §2.2 blood (c B)", "B"),
        heat_capacity_frozen_j_m3k=_c_frozen_rule(w, rho, w_src),
        conductivity_unfrozen_w_mk=_s(0.52, "IT'IS via code comment (physics-data §2.2)", "A"),
        conductivity_frozen_w_mk=_k_frozen_rule(0.52, w, rho, w_src),
        latent_heat_j_m3=_latent_rule(w, rho, w_src),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_s(0.0, stagnant, "D"),
        metabolic_w_m3=_s(0.0, stagnant, "D"),
    )


def _lung() -> Tissue:
    w, rho = 0.80, 394.0
    w_src = "recalled water mass fraction of lung parenchyma, C"
    return Tissue(
        name="lung",
        description="Aerated (inflated) lung parenchyma; all values recalled (C).",
        density_kg_m3=_s(rho, _RECALLED, "C"),
        heat_capacity_unfrozen_j_m3k=_rho_c(rho, 3886.0, _RECALLED, "C"),
        heat_capacity_frozen_j_m3k=_c_frozen_rule(w, rho, w_src),
        conductivity_unfrozen_w_mk=_s(0.39, _RECALLED, "C"),
        conductivity_frozen_w_mk=_k_frozen_rule(0.39, w, rho, w_src),
        latent_heat_j_m3=_latent_rule(w, rho, w_src),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_perfusion_htr(401.0, rho, _RECALLED, "C"),
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _bowel() -> Tissue:
    w, rho = 0.79, 1088.0
    w_src = _W_SOFT
    source = f"{_RECALLED} (IT'IS large intestine)"
    return Tissue(
        name="bowel",
        description="Bowel wall (large intestine); luminal gas not modelled. Values recalled (C).",
        density_kg_m3=_s(rho, source, "C"),
        heat_capacity_unfrozen_j_m3k=_rho_c(rho, 3655.0, source, "C"),
        heat_capacity_frozen_j_m3k=_c_frozen_rule(w, rho, w_src),
        conductivity_unfrozen_w_mk=_s(0.54, source, "C"),
        conductivity_frozen_w_mk=_k_frozen_rule(0.54, w, rho, w_src),
        latent_heat_j_m3=_latent_rule(w, rho, w_src),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_perfusion_htr(796.0, rho, source, "C"),
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _tumor_osteoblastic() -> Tissue:
    row = "osteoblastic row (cortical-like bone, coded D/C)"
    like = "cortical bone value (physics-data §2.3: osteoblastic ≈ cortical-like bone)"
    rho = _mid(1600.0, 1900.0, 1.0, f"ρ (kg/m³), {row}")
    return Tissue(
        name="tumor_osteoblastic",
        description="Osteoblastic (sclerotic) metastasis, e.g. prostate: cortical-like bone.",
        density_kg_m3=rho,
        heat_capacity_unfrozen_j_m3k=_rho_c(rho.value, 1313.0, f"ρ mid-range × c of {like}", "D"),
        heat_capacity_frozen_j_m3k=_about(2.2, 1e6, f"c_f (MJ/m³/K), {row}"),
        conductivity_unfrozen_w_mk=_s(0.32, f"{like}; {_COMSOL}", "D"),
        conductivity_frozen_w_mk=_mid(0.35, 0.7, 1.0, f"k_f (W/m/K), {row}"),
        latent_heat_j_m3=_mid(40.0, 80.0, 1e6, f"L (MJ/m³), {row}"),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_perfusion_htr(10.0, rho.value, f"{_ITIS_HTR} of {like}", "D"),
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _tumor_osteolytic() -> Tissue:
    like = "muscle value (physics-data §2.3: osteolytic ≈ soft-tissue / muscle-like metastasis)"
    omega = 6e-3  # s⁻¹, mid of the hypervascular sensitivity range 2–10e-3 s⁻¹
    perfusion = (
        "mid of the physics-data §2.3 hypervascular lytic metastasis range ω 2–10e-3 s⁻¹ "
        "(renal cell, thyroid; C): ω 6e-3 s⁻¹ × ρ_b c_b 3.80 MJ/m³/K"
    )
    return Tissue(
        name="tumor_osteolytic",
        description="Osteolytic metastasis (renal, thyroid, lung, breast): muscle-like tissue.",
        density_kg_m3=_s(1090.0, f"{like}; {_COMSOL}", "D"),
        heat_capacity_unfrozen_j_m3k=_rho_c(1090.0, 3421.0, f"{like}; {_COMSOL}", "D"),
        heat_capacity_frozen_j_m3k=_mid(1.8, 2.1, 1e6, f"c_f (MJ/m³/K), {_W_MUSCLE}"),
        conductivity_unfrozen_w_mk=_s(0.49, f"{like}; {_COMSOL}", "D"),
        conductivity_frozen_w_mk=_mid(1.5, 2.0, 1.0, f"k_f (W/m/K), {_W_MUSCLE}"),
        latent_heat_j_m3=_mid(160.0, 280.0, 1e6, f"L (MJ/m³), {_W_MUSCLE}"),
        solidus_c=_SOLIDUS_TISSUE,
        liquidus_c=_LIQUIDUS_TISSUE,
        perfusion_w_m3k=_s(_sig3(omega * _RHO_C_BLOOD), perfusion, "C"),
        metabolic_w_m3=_METABOLIC_GENERIC,
    )


def _tumor_soft_tissue() -> Tissue:
    return Tissue(
        name="tumor_soft_tissue",
        description="Soft-tissue tumour: the generic freezing-tissue set of physics-data §2.1.",
        density_kg_m3=_s(1000.0, f"{_MICRO}; unfrozen ρ (frozen 998)", "A"),
        heat_capacity_unfrozen_j_m3k=_rho_c(1000.0, 3600.0, _MICRO, "A"),
        heat_capacity_frozen_j_m3k=_rho_c(998.0, 1800.0, f"{_MICRO}, frozen ρ and c", "A"),
        conductivity_unfrozen_w_mk=_s(0.5, _MICRO, "A"),
        conductivity_frozen_w_mk=_s(2.0, _MICRO, "A"),
        latent_heat_j_m3=_s(250e6, _MICRO, "A"),
        solidus_c=_s(-8.0, _MICRO, "A"),
        liquidus_c=_s(-1.0, _MICRO, "A"),
        perfusion_w_m3k=_s(1800.0, f"{_MICRO}: ω_b 0.0005 s⁻¹, ω_b ρ_b c_b ≈ 1.8 kW/m³/K", "A"),
        metabolic_w_m3=_s(4200.0, _MICRO, "A"),
    )


def _mean_tissue(name: str, description: str, first: Tissue, second: Tissue) -> Tissue:
    """Property-wise arithmetic mean of two tissues (confidence D)."""
    values = {}
    for prop in PROPERTY_NAMES:
        a, b = first.value(prop), second.value(prop)
        text = f"mean of {first.name} ({a:.4g}) and {second.name} ({b:.4g})"
        values[prop] = _s((a + b) / 2.0, text, "D")
    return Tissue(name=name, description=description, **values)


def _hydrodissection_fluid() -> Tissue:
    return _water_like(
        "hydrodissection_fluid",
        "Saline or 5 % dextrose (D5W) injected to displace nerves, cord or bowel; at body "
        "temperature. Warm or circulating fluid is a boundary condition, not this tissue.",
        rho=_s(_RHO_WATER, f"water, {_WATER}", "B"),
        c=_rho_c(_RHO_WATER, _C_WATER, f"water, {_WATER}", "B"),
        k=_s(_K_WATER, f"water, {_WATER}; physics-data §3.4 hydrodissection k 0.6", "B"),
    )


def _csf() -> Tissue:
    return _water_like(
        "csf",
        "Cerebrospinal fluid (thecal sac); freezes near −0.5 °C.",
        rho=_s(1007.0, _ITIS_RHO, "A"),
        c=_rho_c(1007.0, 4096.0, f"{_ITIS_RHO}; c ≈ 4096 from physics-data §2.2 (C)", "C"),
        k=_s(0.57, "physics-data §2.2 CSF, ≈ 0.57 (C)", "C"),
    )


def _co2_gas() -> Tissue:
    gas = "CO₂ / air pneumodissection gas (physics-data §2.3, §3.4)"
    k = _s(0.015, f"{gas}: k ≈ 0.015 (range 0.015–0.026 W/m/K; pure CO₂ ≈ 0.017 at 37 °C)", "B")
    c = _s(
        1.47e3,
        "ideal gas ρ = pM/(RT) = 1.73 kg/m³ (CO₂, 1 atm, 37 °C) × c_p ≈ 850 J/kg/K, standard "
        "constants; physics-data §2.3 gives ~0.0012 MJ/m³/K for the gas row",
        "B",
    )
    none = _s(0.0, "no phase change in the working range (convention, module docstring)", "D")
    below = _s(-200.0, "phase-change-free convention: below any probe temperature", "D")
    return Tissue(
        name="co2_gas",
        description="CO₂ injected for pneumodissection: an insulating layer that does not freeze.",
        density_kg_m3=_s(1.73, "ideal gas ρ = pM/(RT), CO₂ at 1 atm and 37 °C (standard)", "B"),
        heat_capacity_unfrozen_j_m3k=c,
        heat_capacity_frozen_j_m3k=c,
        conductivity_unfrozen_w_mk=k,
        conductivity_frozen_w_mk=k,
        latent_heat_j_m3=none,
        solidus_c=below,
        liquidus_c=below,
        perfusion_w_m3k=_s(0.0, _NONE_LIVING, "B"),
        metabolic_w_m3=_s(0.0, _NONE_LIVING, "B"),
    )


def _agar_gel() -> Tissue:
    gel = "water-like gel benchmark set of physics-data §4.1 (Neumann problem)"
    phase = "≈ 0 °C freezing of a dilute agar gel, 0.2 K mushy zone as in the §4.1 solver check"
    return Tissue(
        name="agar_gel",
        description="Agar phantom (Littrup 2009, 39 °C): a water-like gel, no perfusion.",
        density_kg_m3=_s(_RHO_WATER, f"water, {_WATER}", "B"),
        heat_capacity_unfrozen_j_m3k=_s(4.0e6, f"{gel}: C_l", "D"),
        heat_capacity_frozen_j_m3k=_s(1.9e6, f"{gel}: C_s", "D"),
        conductivity_unfrozen_w_mk=_s(0.55, f"{gel}: k_l", "D"),
        conductivity_frozen_w_mk=_s(2.2, f"{gel}: k_s", "D"),
        latent_heat_j_m3=_s(300e6, f"{gel}: L", "D"),
        solidus_c=_s(-0.2, phase, "D"),
        liquidus_c=_s(0.0, phase, "D"),
        perfusion_w_m3k=_s(0.0, f"phantom: {_NONE_LIVING}", "B"),
        metabolic_w_m3=_s(0.0, f"phantom: {_NONE_LIVING}", "B"),
    )


def _build() -> dict[str, Tissue]:
    # The only figure at hand is IT'IS *brain* (559 ml/min/kg, an upper bound for cord). A
    # protected structure's limit is safer with the low value (less perfusion = colder cord), so
    # the default is muscle's HTR; cases can override it with tissue_overrides.
    cord_htr = _perfusion_htr(
        37.0,
        1075.0,
        f"cord value not retrieved; IT'IS brain HTR 559 via {_BABEL} is an upper bound; muscle's "
        "HTR 37 taken as a low default, conservative (colder cord) for a protected structure",
        "C",
    )
    nerve_htr = _perfusion_htr(
        37.0,
        1075.0,
        "no nerve value in physics-data §2.2; muscle's IT'IS HTR taken as a low default, "
        "conservative (colder nerve) for a protected structure",
        "C",
    )
    osteoblastic, osteolytic = _tumor_osteoblastic(), _tumor_osteolytic()
    tissues = [
        _muscle(),
        _fat(),
        _skin(),
        _cortical_bone(),
        _cancellous_bone(),
        _red_marrow(),
        _yellow_marrow(),
        _avascular(
            "intervertebral_disc",
            "Intervertebral disc (annulus and nucleus); avascular.",
            _s(1100.0, _ITIS_RHO, "A"),
        ),
        _avascular(
            "cartilage",
            "Hyaline (articular, end-plate) cartilage; avascular.",
            _s(1100.0, _RECALLED, "C"),
        ),
        _neural(
            "spinal_cord",
            "Spinal cord (brain-like c and k; conservative low perfusion).",
            c=3630.0,
            k=0.51,
            ck_source=f"brain c 3630, k 0.51 of {_BABEL}, applied to cord (C)",
            perfusion=cord_htr,
        ),
        _neural(
            "nerve",
            "Peripheral nerve and nerve root.",
            c=3613.0,
            k=0.49,
            ck_source="physics-data §2.2 peripheral nerve row: c ≈ 3613, k ≈ 0.49 (C)",
            perfusion=nerve_htr,
        ),
        _csf(),
        _blood(),
        _lung(),
        _bowel(),
        osteoblastic,
        osteolytic,
        _tumor_soft_tissue(),
        _mean_tissue(
            "tumor_mixed",
            "Mixed lytic/blastic metastasis: mean of the osteoblastic and osteolytic sets.",
            osteoblastic,
            osteolytic,
        ),
        _hydrodissection_fluid(),
        _co2_gas(),
        _agar_gel(),
    ]
    return {tissue.name: tissue for tissue in tissues}


TISSUES: dict[str, Tissue] = _build()
