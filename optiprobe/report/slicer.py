"""Export a run folder for 3D Slicer: probes as markups lines, volumes and label maps as NIfTI.

Written into ``out_dir`` (default ``RUN/slicer/``):

- ``probe-<n>-<name>.mrk.json``: one markups ``Line`` per probe (control points ``entry`` and
  ``tip``), coordinate system LPS, millimetres, following Slicer's markups schema v1.0.3. One
  file per probe, because Slicer loads one markups node per file.
- ``t_min.nii.gz``, ``t_final.nii.gz``: temperatures (°C, float32).
- ``tissues-label.nii.gz`` + ``tissues-label_ColorTable.ctbl``: tissue label map (value = tissue
  index + 1, so that no tissue is Slicer's transparent background 0) and its colour table.
- ``structures-label.nii.gz`` + ``structures-label_ColorTable.ctbl``: 1 = tumour, then the
  protected structures in case order.

NIfTI affines are RAS (Slicer converts them to its internal RAS and shows LPS coordinates the same
as the case file); qform and sform both hold the affine, so every reader agrees. File names
containing ``label`` make Slicer load them as label maps.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np

from optiprobe.report.case_figure import TISSUE_COLOURS, structure_styles

__all__ = ["MARKUPS_SCHEMA_URL", "colour_table", "export_slicer", "probe_markups"]

MARKUPS_SCHEMA_URL = (
    "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/"
    "Resources/Schema/markups-schema-v1.0.3.json#"
)


def export_slicer(run_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write the Slicer files of the run folder ``run_dir`` into ``out_dir``; return their paths.

    Raises :class:`~optiprobe.errors.OptiprobeError` when the run folder, its case or its plan
    cannot be read (see :func:`optiprobe.report.run_data.load_run`).
    """
    from optiprobe.outputs import write_atomic
    from optiprobe.report.run_data import load_run

    run = load_run(run_dir)
    out = Path(run_dir) / "slicer" if out_dir is None else Path(out_dir)
    grid, volume, case = run.volume.grid, run.volume, run.case
    written = []
    for number, probe in enumerate(run.plan.probes, start=1):
        name = probe.name or f"probe{number}"
        path = out / f"probe-{number}-{_safe(name)}.mrk.json"
        write_atomic(path, json.dumps(probe_markups(probe, name=name), indent=2) + "\n")
        written.append(path)
    for name, field in (("t_min", run.t_min_c), ("t_final", run.t_final_c)):
        written.append(_write_nifti(out / f"{name}.nii.gz", field.astype(np.float32), grid))
    tissue_labels = (volume.tissue_index.astype(np.int32) + 1).astype(np.uint8)
    tissue_names = list(volume.tissue_names)
    tissue_colours = [TISSUE_COLOURS.get(n, "#888888") for n in tissue_names]
    structures = [(case.tumor.name, "red"), *((p.structure, None) for p in case.protected)]
    colours = {name: colour for name, colour, _ in structure_styles(case)}
    structure_labels = np.zeros(grid.shape, dtype=np.uint8)
    for value, (name, _) in enumerate(structures, start=1):
        structure_labels[volume.masks[name]] = value
    for stem, labels, names, palette in (
        ("tissues-label", tissue_labels, tissue_names, tissue_colours),
        ("structures-label", structure_labels, [s for s, _ in structures], None),
    ):
        palette = palette or [colours.get(n, "gray") for n in names]
        written.append(_write_nifti(out / f"{stem}.nii.gz", labels, grid))
        table = out / f"{stem}_ColorTable.ctbl"
        write_atomic(table, colour_table(names, palette, title=table.name))
        written.append(table)
    return written


def probe_markups(probe, *, name: str) -> dict:
    """A Slicer markups document: one ``Line`` from the probe's entry to its tip (LPS mm)."""
    points = [("entry", probe.entry_mm), ("tip", probe.tip_mm)]
    return {
        "@schema": MARKUPS_SCHEMA_URL,
        "markups": [
            {
                "type": "Line",
                "name": name,
                "coordinateSystem": "LPS",
                "coordinateUnits": "mm",
                "locked": True,
                "fixedNumberOfControlPoints": True,
                "labelFormat": "%N-%d",
                "lastUsedControlPointNumber": 2,
                "controlPoints": [
                    {
                        "id": str(i),
                        "label": f"{name}-{label}",
                        "description": f"{probe.model} {label}",
                        "position": [float(v) for v in position],
                        "orientation": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
                        "selected": True,
                        "locked": True,
                        "visibility": True,
                        "positionStatus": "defined",
                    }
                    for i, (label, position) in enumerate(points, start=1)
                ],
                "measurements": [
                    {"name": "length", "enabled": True, "value": probe.depth_mm, "units": "mm"}
                ],
                "display": {"visibility": True, "opacity": 1.0, "color": [0.1, 0.1, 0.1]},
            }
        ],
    }


def colour_table(names: list[str], colours: list[str], *, title: str) -> str:
    """Slicer colour table (``.ctbl``): 0 is the background, ``names[i]`` gets value ``i + 1``."""
    from matplotlib.colors import to_rgb

    lines = [f"# Color table file {title}", f"# {len(names) + 1} values", "0 Background 0 0 0 0"]
    for value, (name, colour) in enumerate(zip(names, colours, strict=True), start=1):
        r, g, b = (round(255 * c) for c in to_rgb(colour))
        lines.append(f"{value} {_safe(name)} {r} {g} {b} 255")
    return "\n".join(lines) + "\n"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)


def _write_nifti(path: Path, array: np.ndarray, grid) -> Path:
    import nibabel as nib

    from optiprobe.outputs import write_atomic

    affine = grid.affine_ras()
    image = nib.Nifti1Image(array, affine)
    image.set_qform(affine, code=1)  # scanner-anatomical: ITK (Slicer) reads the qform first
    image.set_sform(affine, code=1)
    image.header.set_xyzt_units("mm", "sec")
    write_atomic(path, gzip.compress(image.to_bytes(), compresslevel=6, mtime=0))
    return path
