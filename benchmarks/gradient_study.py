"""AD against central differences through the solver, with and without latent-heat widening.

The gradient test of issue #4 (``tests/test_thermal_gradients.py``, strict xfail) uses a smooth
tumour coverage (fraction colder than −10 °C, logistic width 2 °C) on a small gel case (1.5 mm,
one probe, 1.5 min freeze) and differentiates it with respect to moving the needle along x and
to the end of the freeze. This study measures both derivatives with jax.grad and with central
differences at several steps, for the physical model, a finer grid, and the phase-change
interval widened to W °C below the liquidus (a numerical regularisation that is *not* adopted;
see docs/solver.md). Position derivatives are per 1.5 mm of motion whatever the grid.

    uv run python benchmarks/gradient_study.py       # about 2 minutes on the 2-core machine

Writes ``results/validation/gradient_study.json``.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
from _results import ROOT, machine, write_json

sys.path.insert(0, str(ROOT / "tests"))
from test_thermal_simulate import SHORT, _plan

import optiprobe.thermal.simulate as solver
from optiprobe.anatomy.voxelize import voxelize
from optiprobe.case import load_case
from optiprobe.thermal.material import material_from_volume

POSITION_STEPS = (0.05, 0.1, 0.2, 0.4)  # in units of 1.5 mm
DURATION_STEPS_S = (2.0, 5.0)
SETUPS = (  # (label, spacing mm, latent-heat interval width W °C or None = physical)
    ("physical, 1.5 mm", 1.5, None),
    ("physical, 0.75 mm", 0.75, None),
    ("latent heat over -16..-1 C, 1.5 mm", 1.5, 15.0),
    ("latent heat over -21..-1 C, 1.5 mm", 1.5, 20.0),
)


def _widened(width_c: float | None):
    def build(volume, **options):
        material = material_from_volume(volume, **options)
        if width_c is None:
            return material
        solidus = jnp.minimum(material.solidus, material.liquidus - width_c)
        return dataclasses.replace(material, solidus=solidus)

    return build


def study(spacing_mm: float, width_c: float | None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.yaml"
        path.write_text(SHORT.replace("spacing_mm: 1.5", f"spacing_mm: {spacing_mm}"))
        case = load_case(path)
    volume = voxelize(case)
    original = solver.material_from_volume
    solver.material_from_volume = _widened(width_c)
    try:
        forward = solver.make_forward(case, volume, _plan(tip=(3.0, 0.0, -22.0), freeze=(1.5,)))
    finally:
        solver.material_from_volume = original
    tumor = jnp.asarray(volume.tumor_mask)
    scale = 1.5 / spacing_mm  # voxels per 1.5 mm

    def coverage(probes, data):
        final, _ = forward.run(probes, data)
        cold = jax.nn.sigmoid((-10.0 - final.t_min) / 2.0)
        return jnp.sum(jnp.where(tumor, cold, 0.0)) / jnp.sum(tumor)

    value, gradient = jax.jit(coverage), jax.jit(jax.grad(coverage))
    probes, data = forward.probes, forward.data

    def moved(dx):
        dx = dx * scale
        return dataclasses.replace(
            probes, tips=probes.tips.at[0, 0].add(dx), entries=probes.entries.at[0, 0].add(dx)
        )

    def stretched(ds):
        return dataclasses.replace(
            probes, freeze_windows_s=probes.freeze_windows_s.at[0, 0, 1].add(ds)
        )

    def central(shift, h):
        return (float(value(shift(h), data)) - float(value(shift(-h), data))) / (2 * h)

    grad = gradient(probes, data)
    return {
        "coverage": round(float(value(probes, data)), 4),
        "position_ad": round(float(grad.tips[0, 0] + grad.entries[0, 0]) * scale, 4),
        "position_fd": {str(h): round(central(moved, h), 4) for h in POSITION_STEPS},
        "duration_ad": round(float(grad.freeze_windows_s[0, 0, 1]), 5),
        "duration_fd": {str(h): round(central(stretched, h), 5) for h in DURATION_STEPS_S},
    }


def main() -> None:
    rows = []
    for label, spacing, width in SETUPS:
        row = {"setup": label, "spacing_mm": spacing, "mushy_width_c": width} | study(
            spacing, width
        )
        print(row)
        rows.append(row)
    write_json(
        ROOT / "results" / "validation" / "gradient_study.json",
        {
            "objective": "smooth tumour fraction colder than -10 C (logistic width 2 C)",
            "position_unit": "per 1.5 mm of needle motion along x",
            "rows": rows,
            "machine": machine(),
        },
    )


if __name__ == "__main__":
    main()
