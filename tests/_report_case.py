"""A small simulated run folder shared by the report and Slicer-export tests.

Two probes in a 2 mm gel grid, 2-minute freeze and 1-minute passive thaw, a protected nerve
(limit 5 °C) beside the tumour with a thermocouple that crosses 10 °C, and one far away that
does not. Simulating it through the CLI takes about 5 s.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from typer.testing import CliRunner

from optiprobe.cli import app

CASE = textwrap.dedent(
    """\
    name: gel_nerve
    description: two probes in a gel block beside a nerve
    grid:
      spacing_mm: 2.0
      margin_mm: 20
    anatomy:
      uniform:
        tissue: agar_gel
      structures:
        - name: nerve_a
          tissue: nerve
          shape: {type: cylinder, start_mm: [12, -30, 0], end_mm: [12, 30, 0], radius_mm: 2}
    tumor:
      phenotype: soft_tissue
      shape: {type: sphere, center_mm: [0, 0, 0], radius_mm: 7}
    protected:
      - {structure: nerve_a, min_temperature_c: 5}
    access:
      windows:
        - name: top
          region: {type: sphere, center_mm: [0, 0, 40], radius_mm: 20}
    probes:
      models: [cryo-2.4mm]
      max_count: 4
    protocol:
      phases:
        - {kind: freeze, duration_min: 2}
        - {kind: thaw, duration_min: 1, thaw: passive}
    environment:
      initial_temperature_c: 37
    thermocouples:
      - {name: tc_nerve, position_mm: [10, 0, 0], watches: nerve_a}
      - {name: tc_far, position_mm: [-14, 0, 0]}
    """
)

PLAN = textwrap.dedent(
    """\
    name: two_probes
    probes:
      - {name: p1, model: cryo-2.4mm, tip_mm: [-4, 0, -20], entry_mm: [-4, 0, 40], freeze_min: [2]}
      - {name: p2, model: cryo-2.4mm, tip_mm: [4, 0, -20], entry_mm: [8, 3, 40], freeze_min: [2]}
    """
)


def simulate_run(folder: Path, *extra: str) -> Path:
    """Write the case and plan into ``folder``, simulate into ``folder/run``; return the run."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "case.yaml").write_text(CASE)
    (folder / "plan.yaml").write_text(PLAN)
    run = folder / "run"
    args = ["simulate", str(folder / "case.yaml"), str(folder / "plan.yaml"), "-o", str(run)]
    result = CliRunner().invoke(app, [*args, *extra])
    assert result.exit_code in (0, 1), result.output
    assert (run / "run.json").is_file()
    return run
