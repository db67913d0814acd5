"""Label maps: NIfTI (RAS) and NRRD (LPS, RAS) round trips into the LPS case grid."""

from __future__ import annotations

import textwrap

import nibabel as nib
import nrrd
import numpy as np
import pytest

from optiprobe.anatomy.grid import Grid
from optiprobe.anatomy.labelmap import read_labelmap
from optiprobe.anatomy.voxelize import voxelize
from optiprobe.case import load_case
from optiprobe.errors import OptiprobeError


def _asymmetric_labels() -> tuple[np.ndarray, Grid]:
    """Labels 1 (bone box) and 2 (tumour ball) placed off-centre, so flips would show."""
    grid = Grid((-20.0, -10.0, 5.0), (1.0, 1.5, 2.0), (40, 30, 20))
    points = grid.points_mm()
    labels = np.zeros(grid.shape, dtype=np.int16)
    labels[np.all(np.abs(points - [5, 5, 25]) < [12, 9, 10], axis=-1)] = 1
    labels[np.linalg.norm(points - [8, 10, 25], axis=-1) < 5] = 2
    return labels, grid


def _case(path: str) -> str:
    return textwrap.dedent(
        f"""\
        name: labelmap_case
        grid: {{spacing_mm: 1.0, margin_mm: 10}}
        anatomy:
          labelmap:
            path: {path}
            background_tissue: muscle
            labels: [{{value: 1, name: bone, tissue: cancellous_bone}}]
        tumor: {{phenotype: osteolytic, label: 2}}
        protected: [{{structure: bone}}]
        access:
          windows:
            - {{name: w, region: {{type: sphere, center_mm: [0, 80, 0], radius_mm: 20}}}}
        probes: {{models: [cryo-17g-rod]}}
        protocol: {{phases: [{{kind: freeze, duration_min: 10}}]}}
        """
    )


def _write_nifti(path, labels, grid):
    nib.save(nib.Nifti1Image(labels, grid.affine_ras()), str(path))


def _write_nrrd(path, labels, grid, space):
    affine = grid.affine_lps() if space == "left-posterior-superior" else grid.affine_ras()
    header = {
        "space": space,
        "space directions": affine[:3, :3].T,
        "space origin": affine[:3, 3],
    }
    nrrd.write(str(path), labels, header)


@pytest.mark.parametrize(
    "writer",
    [
        ("labels.nii.gz", _write_nifti),
        ("labels.nrrd", lambda p, lab, g: _write_nrrd(p, lab, g, "left-posterior-superior")),
        ("labels_ras.nrrd", lambda p, lab, g: _write_nrrd(p, lab, g, "right-anterior-superior")),
    ],
    ids=["nifti", "nrrd-lps", "nrrd-ras"],
)
def test_round_trip_keeps_world_positions(tmp_path, writer):
    name, write = writer
    labels, grid = _asymmetric_labels()
    (tmp_path / "img").mkdir()
    write(tmp_path / "img" / name, labels, grid)
    image = read_labelmap(tmp_path / "img" / name)
    np.testing.assert_allclose(image.affine_lps, grid.affine_lps(), atol=1e-5)
    case_path = tmp_path / "case.yaml"
    case_path.write_text(_case(f"img/{name}"))
    volume = voxelize(load_case(case_path))
    # The tumour ball (radius 5 mm at [8, 10, 25]) lands where it was drawn, in LPS.
    np.testing.assert_allclose(volume.centroid_mm("tumor"), [8, 10, 25], atol=0.6)
    assert volume.tissue_names[0] == "muscle"
    assert "cancellous_bone" in volume.tissue_names and "tumor_osteolytic" in volume.tissue_names


def test_oblique_affine_is_resampled(tmp_path):
    labels, grid = _asymmetric_labels()
    angle = np.deg2rad(20)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    affine = grid.affine_ras()
    affine[:3, :3] = rotation @ affine[:3, :3]
    nib.save(nib.Nifti1Image(labels, affine), str(tmp_path / "oblique.nii"))
    image = read_labelmap(tmp_path / "oblique.nii")
    centre_index = np.array([28, 13.33, 10])  # the ball's centre in voxel indices
    world = image.affine_lps[:3, :3] @ centre_index + image.affine_lps[:3, 3]
    assert image.sample(world) == 2


def test_unlisted_label_is_an_error(tmp_path):
    labels, grid = _asymmetric_labels()
    labels[0:5, 0:5, 10:12] = 7
    _write_nifti(tmp_path / "labels.nii.gz", labels, grid)
    (tmp_path / "case.yaml").write_text(
        _case("labels.nii.gz").replace("margin_mm: 10", "margin_mm: 30")
    )
    with pytest.raises(OptiprobeError, match=r"label value\(s\) \[7\]"):
        voxelize(load_case(tmp_path / "case.yaml"))


def test_corrupt_file_is_a_clean_error(tmp_path):
    (tmp_path / "labels.nii.gz").write_bytes(b"not a nifti file")
    with pytest.raises(OptiprobeError, match="cannot read the label map"):
        read_labelmap(tmp_path / "labels.nii.gz")


def test_tumour_label_missing_from_image(tmp_path):
    labels, grid = _asymmetric_labels()
    labels[labels == 2] = 1
    _write_nifti(tmp_path / "labels.nii.gz", labels, grid)
    (tmp_path / "case.yaml").write_text(_case("labels.nii.gz"))
    with pytest.raises(OptiprobeError, match="no voxel with the tumour label 2"):
        voxelize(load_case(tmp_path / "case.yaml"))


def test_half_voxel_ties_round_consistently():
    """Case voxel centres exactly between image centres must not double or drop image voxels."""
    labels = np.arange(8, dtype=np.int32).reshape(8, 1, 1) + 1
    image_grid = Grid((-3.5, 0.0, 0.0), (1.0, 1.0, 1.0), (8, 1, 1))
    from optiprobe.anatomy.labelmap import LabelImage

    image = LabelImage(labels, image_grid.affine_lps())
    points = np.stack([np.arange(-3.0, 4.0), np.zeros(7), np.zeros(7)], axis=-1)
    sampled = image.sample(points)
    assert np.all(np.diff(sampled) == 1), sampled  # one step per voxel, never 0 or 2
