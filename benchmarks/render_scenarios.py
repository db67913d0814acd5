"""Render every shipped scenario with ``optiprobe show`` and measure its geometry.

For each case: the grid, tumour volume, and the gap (mm, Euclidean distance transform on the voxel
grid) from the tumour to each protected structure. Writes ``results/scenarios/<case>.png`` (made by
the CLI itself, as a user would) and ``results/scenarios/scenarios.json``; ``docs/scenarios.md``
quotes them.

    uv run python benchmarks/render_scenarios.py
"""

from __future__ import annotations

import subprocess

from _results import ROOT, write_json
from scipy import ndimage

from optiprobe.anatomy.voxelize import voxelize
from optiprobe.case import is_plan_file, load_case

OUT = ROOT / "results" / "scenarios"


def _row(path) -> dict:
    case = load_case(path)
    volume = voxelize(case)
    outside = ~volume.tumor_mask
    distance = ndimage.distance_transform_edt(outside, sampling=volume.grid.spacing_mm)
    gaps = {name: round(float(distance[volume.masks[name]].min()), 1) for name in volume.protected}
    return {
        "case": case.name,
        "file": str(path.relative_to(ROOT)),
        "description": case.description,
        "phenotype": case.tumor.phenotype,
        "grid_shape": list(volume.grid.shape),
        "spacing_mm": list(volume.grid.spacing_mm),
        "tumor_ml": round(volume.volume_ml(case.tumor.name), 2),
        "gap_to_protected_mm": gaps,
        "protection": [region.type for region in case.protection],
        "figure": f"results/scenarios/{case.name}.png",
    }


def main() -> None:
    rows = []
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        if is_plan_file(path):
            continue
        row = _row(path)
        subprocess.run(
            ["optiprobe", "show", str(path), "-o", str(ROOT / row["figure"])], check=True, cwd=ROOT
        )
        rows.append(row)
    write_json(OUT / "scenarios.json", {"scenarios": rows})


if __name__ == "__main__":
    main()
