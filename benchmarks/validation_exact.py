"""Solver vs exact solutions (issue #4): Neumann planar freezing, steady cylinder, step study.

Writes ``results/validation/exact.json``; ``docs/validation.md`` quotes it. The same problems run
(at one resolution each) in ``tests/test_thermal_exact.py``.

    uv run python benchmarks/validation_exact.py      # about 2 minutes on the 2-core machine
"""

from __future__ import annotations

import jax
from _results import ROOT, machine, write_json

from optiprobe.thermal.exact import cylinder_problem_mm, neumann_problem


def _percent(value: float, exact: float) -> float:
    return round(100 * (value - exact) / exact, 2)


def main() -> None:
    neumann = {}
    for dx, stages in [(0.5, None), (1.0, None), (0.5, 12), (1.0, 12)]:
        label = f"dx {dx} mm, " + ("forward Euler" if stages is None else f"RKL2 s={stages}")
        neumann[label] = [
            {
                "minutes": m,
                "front_mm": round(f, 3),
                "exact_mm": round(e, 3),
                "error_percent": _percent(f, e),
            }
            for m, f, e in neumann_problem(dx, stages=stages)
        ]
    cylinder = []
    for dx in (1.0, 0.5):
        for offset in (0.0, 0.5):
            front, exact = cylinder_problem_mm(dx, offset)
            cylinder.append(
                {
                    "dx_mm": dx,
                    "axis_offset_voxels": offset,
                    "front_mm": round(front, 2),
                    "exact_mm": round(exact, 2),
                    "error_percent": _percent(front, exact),
                }
            )
    write_json(
        ROOT / "results" / "validation" / "exact.json",
        {
            "machine": machine(),
            "device": str(jax.devices()[0]),
            "neumann_planar": {"tolerance_percent": 2.0, "runs": neumann},
            "steady_cylinder_40kw": {"tolerance_percent": 3.0, "runs": cylinder},
        },
    )


if __name__ == "__main__":
    main()
