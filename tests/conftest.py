"""Shared fixtures: a minimal valid case written to a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

MINIMAL_CASE = textwrap.dedent(
    """\
    name: gel_single_probe
    description: one probe in a uniform gel block
    grid:
      spacing_mm: 2.0
      margin_mm: 20
    anatomy:
      uniform:
        tissue: agar_gel
    tumor:
      phenotype: soft_tissue
      shape: {type: sphere, center_mm: [0, 0, 0], radius_mm: 8}
    access:
      windows:
        - name: top
          region: {type: sphere, center_mm: [0, -60, 0], radius_mm: 20}
    probes:
      models: [cryo-2.4mm]
      max_count: 4
    protocol:
      phases:
        - {kind: freeze, duration_min: 10}
        - {kind: thaw, duration_min: 8, thaw: passive}
        - {kind: freeze, duration_min: 10}
    environment:
      initial_temperature_c: 39
    """
)


def with_nerve(*, centre_x_mm: float = 14.0, limit_c: float = 5.0) -> str:
    """The minimal case with a protected nerve (a 3 mm sphere on the x axis beside the
    tumour) and its temperature limit."""
    return (
        MINIMAL_CASE.replace(
            "    tissue: agar_gel\n",
            "    tissue: agar_gel\n  structures:\n    - {name: nerve, tissue: nerve, shape: "
            f"{{type: sphere, center_mm: [{centre_x_mm:g}, 0, 0], radius_mm: 3}}}}\n",
        )
        + f"protected:\n  - {{structure: nerve, min_temperature_c: {limit_c:g}}}\n"
    )


@pytest.fixture
def write_case(tmp_path: Path):
    """Write YAML text (default: the minimal case) to ``tmp_path/case.yaml``; return the path."""

    def _write(text: str = MINIMAL_CASE, name: str = "case.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
