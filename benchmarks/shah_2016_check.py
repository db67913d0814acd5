"""Check the calibrated probes against Shah et al., Urology 2016 (gel at body temperature).

Shah TT et al. (PMC4850244) froze 1-4 needles in gel at body temperature and report that the
−40 °C core extends **about 1 cm** around the needles and that temperature rises roughly linearly
to 0 °C **about 1 cm** further out. The paper's durations and exact geometry were not retrieved,
so this is a consistency check, not a fit: a 10 min freeze (assumed), a single probe and a square
of 4 probes 15 mm apart (Shah's optimal spacing is 1.5-2 cm), in 37 °C gel. Distances are
measured in the plane through the middle of the active zones, along the ray leaving a needle
axis away from the array (for the single probe, any ray: +x), with linear interpolation between
voxel centres. The reference band is 10 ± 2 mm for both distances ("about 1 cm").

    uv run python benchmarks/shah_2016_check.py      # about 1 minute on the 2-core machine

Writes ``results/validation/shah_2016.json``.
"""

from __future__ import annotations

import numpy as np
from _results import ROOT, machine, write_json
from scipy.ndimage import map_coordinates

from optiprobe.anatomy.voxelize import voxelize
from optiprobe.case import Plan, load_case
from optiprobe.probes import get_probe_model
from optiprobe.thermal.simulate import simulate

FREEZE_MIN = 10.0
SPACING_MM = 15.0
REFERENCE_MM = 10.0
BAND_MM = 2.0
HALF = SPACING_MM / 2
LAYOUTS = {
    1: [(0.0, 0.0)],
    4: [(x, y) for x in (-HALF, HALF) for y in (-HALF, HALF)],
}


def _case():
    base = load_case(ROOT / "scenarios" / "gel_littrup_2009.yaml")
    data = base.model_dump()
    data["name"] = "gel_shah_2016"
    data["environment"] = {"initial_temperature_c": 37.0, "arterial_temperature_c": 37.0}
    data["protocol"] = {"phases": [{"kind": "freeze", "duration_min": FREEZE_MIN}]}
    data["grid"] = {"spacing_mm": 1.0, "box": {"min_mm": [-45, -45, -15], "max_mm": [45, 45, 60]}}
    return type(base).model_validate(data)


def _profile_distances(t_min, grid, start_xy, direction_xy, z_mm):
    """Distances (mm) from ``start_xy`` along ``direction_xy`` to the −40 and 0 °C isotherms."""
    r = np.arange(0.0, 40.0, 0.1)
    points = np.zeros((len(r), 3))
    points[:, :2] = np.asarray(start_xy) + r[:, None] * np.asarray(direction_xy)
    points[:, 2] = z_mm
    index = grid.world_to_index(points)
    values = map_coordinates(t_min, index.T, order=1, mode="nearest")

    def crossing(isotherm):
        above = np.nonzero(values > isotherm)[0]
        return float(r[above[0]]) if len(above) else float("nan")

    return crossing(-40.0), crossing(0.0)


def run(model_name: str, n_probes: int) -> dict:
    case = _case()
    volume = voxelize(case)
    model = get_probe_model(model_name)
    probes = [
        {"model": model_name, "tip_mm": (x, y, 0.0), "entry_mm": (x, y, 100.0)}
        for x, y in LAYOUTS[n_probes]
    ]
    result = simulate(case, volume, Plan(probes=probes))
    z = model.tip_offset_mm + 0.5 * model.active_length_mm
    x0, y0 = LAYOUTS[n_probes][-1]  # outermost needle at (+, +) for the square
    direction = (1.0, 0.0) if n_probes == 1 else (np.sqrt(0.5), np.sqrt(0.5))
    r40, r0 = _profile_distances(result.t_min_c, volume.grid, (x0, y0), direction, z)
    gap = r0 - r40
    within = lambda d: bool(abs(d - REFERENCE_MM) <= BAND_MM)  # noqa: E731
    return {
        "model": model_name,
        "probes": n_probes,
        "minus40_from_needle_mm": round(r40, 1),
        "zero_from_needle_mm": round(r0, 1),
        "minus40_to_zero_mm": round(gap, 1),
        "minus40_within_band": within(r40),
        "gap_within_band": within(gap),
    }


def main() -> None:
    rows = [run(model, n) for model in ("cryo-1.7mm", "cryo-2.4mm") for n in (1, 4)]
    for row in rows:
        print(row)
    write_json(
        ROOT / "results" / "validation" / "shah_2016.json",
        {
            "reference": "Shah TT et al., Urology 2016, PMC4850244: −40 °C about 1 cm around the "
            "needles, 0 °C about 1 cm further (gel at body temperature)",
            "assumptions": {
                "freeze_min": FREEZE_MIN,
                "gel_c": 37.0,
                "square_spacing_mm": SPACING_MM,
                "band_mm": [REFERENCE_MM - BAND_MM, REFERENCE_MM + BAND_MM],
                "ray": "from the outermost needle, outward (diagonal for the square)",
            },
            "rows": rows,
            "machine": machine(),
        },
    )


if __name__ == "__main__":
    main()
