"""3D Slicer export (`--export slicer`): markups valid against Slicer's schema, NIfTI geometry.

The run is simulated once per module through `optiprobe simulate --export slicer`.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import nibabel as nib
import numpy as np
import pytest
from _report_case import simulate_run
from typer.testing import CliRunner

from optiprobe.anatomy.grid import Grid
from optiprobe.cli import app

SCHEMA = Path(__file__).resolve().parents[2] / "shared/reference/slicer-markups-schema-v1.0.3.json"
LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@pytest.fixture(scope="module")
def schema() -> dict:
    assert SCHEMA.is_file(), f"Slicer markups schema missing: {SCHEMA} (shared/ beside the repo)"
    return json.loads(SCHEMA.read_text())


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(run folder, loaded run) after `simulate ... --export slicer`."""
    from optiprobe.report.run_data import load_run

    run_dir = simulate_run(tmp_path_factory.mktemp("slicer"), "--export", "slicer")
    return run_dir, load_run(run_dir)


def test_one_schema_valid_line_per_probe(exported, schema):
    run_dir, run = exported
    files = sorted((run_dir / "slicer").glob("*.mrk.json"))
    assert [f.name for f in files] == ["probe-1-p1.mrk.json", "probe-2-p2.mrk.json"]
    validator = jsonschema.Draft7Validator(schema)
    for path, probe in zip(files, run.plan.probes, strict=True):
        document = json.loads(path.read_text())
        validator.validate(document)
        (markup,) = document["markups"]
        assert markup["type"] == "Line" and markup["name"] == probe.name
        assert markup["coordinateSystem"] == "LPS" and markup["coordinateUnits"] == "mm"
        entry, tip = markup["controlPoints"]
        np.testing.assert_allclose(entry["position"], probe.entry_mm)
        np.testing.assert_allclose(tip["position"], probe.tip_mm)
        assert markup["measurements"][0]["value"] == pytest.approx(probe.depth_mm)


def test_schema_check_can_fail(exported, schema):
    """The validator rejects what Slicer would: a wrong frame, a 2-D point."""
    run_dir, _ = exported
    document = json.loads((run_dir / "slicer/probe-1-p1.mrk.json").read_text())
    bad_frame = json.loads(json.dumps(document))
    bad_frame["markups"][0]["coordinateSystem"] = "IJK"
    bad_point = json.loads(json.dumps(document))
    bad_point["markups"][0]["controlPoints"][0]["position"] = [1.0, 2.0]
    for bad in (bad_frame, bad_point, {"markups": []}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


@pytest.mark.parametrize(
    "name", ["t_min", "t_final", "tissues-label", "structures-label"], ids=str
)
def test_nifti_affine_round_trip(exported, name):
    """Voxel (i, j, k) → NIfTI affine (RAS) → LPS is the grid's voxel centre, in qform and
    sform alike (ITK, hence Slicer, reads the qform; nibabel the sform)."""
    run_dir, run = exported
    grid: Grid = run.volume.grid
    image = nib.load(str(run_dir / "slicer" / f"{name}.nii.gz"))
    assert image.shape == grid.shape
    assert int(image.header["qform_code"]) > 0 and int(image.header["sform_code"]) > 0
    points = grid.points_mm()
    rng = np.random.default_rng(0)
    index = np.stack([rng.integers(0, n, 50) for n in grid.shape], axis=1)
    index = np.vstack([index, [0, 0, 0], np.array(grid.shape) - 1])
    for affine in (image.header.get_qform(), image.header.get_sform()):
        lps = (LPS_FROM_RAS @ affine @ np.c_[index, np.ones(len(index))].T).T[:, :3]
        np.testing.assert_allclose(lps, points[tuple(index.T)], atol=1e-4)


def test_volumes_and_label_maps_keep_their_values(exported):
    run_dir, run = exported
    folder = run_dir / "slicer"
    t_min = np.asarray(nib.load(str(folder / "t_min.nii.gz")).dataobj)
    np.testing.assert_array_equal(t_min, run.t_min_c)
    tissues = np.asarray(nib.load(str(folder / "tissues-label.nii.gz")).dataobj)
    table = _colour_table(folder / "tissues-label_ColorTable.ctbl")
    assert table[0] == "Background" and 0 not in np.unique(tissues)  # no tissue is background
    names = np.array([table[v] for v in range(len(table))])
    np.testing.assert_array_equal(
        names[tissues], np.array(run.volume.tissue_names)[run.volume.tissue_index]
    )
    structures = np.asarray(nib.load(str(folder / "structures-label.nii.gz")).dataobj)
    table = _colour_table(folder / "structures-label_ColorTable.ctbl")
    assert table == {0: "Background", 1: "tumor", 2: "nerve_a"}
    np.testing.assert_array_equal(structures == 1, run.volume.tumor_mask)
    np.testing.assert_array_equal(structures == 2, run.volume.masks["nerve_a"])


def _colour_table(path: Path) -> dict[int, str]:
    """Parse a Slicer .ctbl: '# comments', then 'value name r g b a' with 0-255 colours."""
    table = {}
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            continue
        value, name, *rgba = line.split()
        assert len(rgba) == 4 and all(0 <= int(c) <= 255 for c in rgba)
        table[int(value)] = name
    return table


def test_report_export_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path), "--export", "slicer"])
    assert result.exit_code == 2 and "not a run folder" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(app, ["report", str(tmp_path), "--export", "vtk"])
    assert result.exit_code == 2 and "slicer" in result.output


def test_report_command_exports_too(exported, tmp_path):
    run_dir, _ = exported
    (run_dir / "slicer" / "probe-1-p1.mrk.json").unlink()
    page = tmp_path / "page.html"
    result = CliRunner().invoke(
        app, ["report", str(run_dir), "-o", str(page), "--export", "slicer"]
    )
    assert result.exit_code == 0, result.output
    assert page.stat().st_size > 1_000_000 and "files for 3D Slicer" in result.output
    assert (run_dir / "slicer" / "probe-1-p1.mrk.json").is_file()
    result = CliRunner().invoke(app, ["report", str(run_dir), "-o", str(tmp_path / "page.pdf")])
    assert result.exit_code == 2 and "ending in .html" in result.output
