"""Grid convergence on the anatomy (issue #4: isotherms at 1 mm vs 0.5 mm differ by <= 0.5 mm).

The L4 case with the reference plan's four probes, simulated at 1 mm and 0.5 mm, for one
3-minute freeze and for the full 10-8-10 min protocol. Each isotherm's
position is summarised by the radius of the sphere of equal volume (r = (3V/4π)^⅓), and by the
minimum ice margin beyond the tumour. Writes ``results/validation/grid_convergence.json``.

    uv run python benchmarks/grid_convergence.py      # about 8 minutes
"""

from __future__ import annotations

import time

import numpy as np
from _results import ROOT, machine, write_json
from solver_speed import _short_plan

from optiprobe.anatomy.voxelize import voxelize
from optiprobe.case import load_case, load_plan
from optiprobe.metrics import ice_margins_mm
from optiprobe.thermal.simulate import simulate

ISOTHERMS_C = (0.0, -20.0, -40.0)


def _run(spacing_mm: float, minutes: float | None) -> dict:
    """One run at ``spacing_mm``: a single freeze of ``minutes``, or the full protocol (None)."""
    base = load_case(ROOT / "scenarios" / "l4_osteoblastic_posterior_wall.yaml")
    case = base.model_copy(
        update={"grid": base.grid.model_copy(update={"spacing_mm": spacing_mm})}
    )
    volume = voxelize(case)
    plan = load_plan(ROOT / "scenarios" / "l4_reference_plan.yaml", case)
    if minutes is not None:
        plan = _short_plan(plan, case, minutes)
    start = time.perf_counter()
    result = simulate(case, volume, plan)
    row = {
        "spacing_mm": spacing_mm,
        "grid_shape": list(volume.grid.shape),
        "wall_s": round(time.perf_counter() - start, 1),
    }
    for iso in ISOTHERMS_C:
        volume_mm3 = float((result.t_min_c <= iso).sum()) * volume.grid.voxel_volume_mm3
        row[f"radius_{iso:g}c_mm"] = round(float((3 * volume_mm3 / (4 * np.pi)) ** (1 / 3)), 3)
    margins = ice_margins_mm(result.t_min_c, volume.tumor_mask, volume.grid.spacing_mm, 0.0)
    row["ice_margin_min_mm"] = round(float(margins.min()), 2)
    row["ice_margin_median_mm"] = round(float(np.median(margins)), 2)
    row["dural_sac_min_c"] = round(float(result.t_min_c[volume.masks["dural_sac"]].min()), 2)
    return row


def _compare(minutes: float | None, workload: str) -> dict:
    coarse, fine = _run(1.0, minutes), _run(0.5, minutes)
    differences = {
        f"radius_{iso:g}c_mm": round(
            fine[f"radius_{iso:g}c_mm"] - coarse[f"radius_{iso:g}c_mm"], 3
        )
        for iso in ISOTHERMS_C
    }
    print(workload, coarse, fine, differences, sep="\n")
    return {"workload": workload, "runs": [coarse, fine], "fine_minus_coarse": differences}


def main() -> None:
    write_json(
        ROOT / "results" / "validation" / "grid_convergence.json",
        {
            "target_mm": 0.5,
            "comparisons": [
                _compare(3.0, "L4 + reference plan, one 3 min freeze"),
                _compare(None, "L4 + reference plan, full 10-8-10 min protocol"),
            ],
            "machine": machine(),
        },
    )


if __name__ == "__main__":
    main()
