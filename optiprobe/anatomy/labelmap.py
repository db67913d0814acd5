"""Label-map import: NIfTI (``.nii``, ``.nii.gz``) and NRRD (``.nrrd``, ``.nhdr``) into LPS.

NIfTI stores a voxel → RAS affine; NRRD names its space. Both are converted here, once, to a
voxel → LPS affine (the project's world frame), and labels are sampled onto the case grid by
nearest neighbour, so any orientation (oblique included) and any voxel size is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optiprobe.errors import OptiprobeError

__all__ = ["LabelImage", "read_labelmap"]

_RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
_NRRD_SPACES = {
    "left-posterior-superior": np.eye(4),
    "lps": np.eye(4),
    "right-anterior-superior": _RAS_TO_LPS,
    "ras": _RAS_TO_LPS,
}


@dataclass(frozen=True)
class LabelImage:
    """Integer labels with their voxel-index → LPS-mm affine."""

    labels: np.ndarray
    affine_lps: np.ndarray

    def sample(self, points_mm: np.ndarray) -> np.ndarray:
        """Nearest-neighbour labels at world points ``(..., 3)``; 0 outside the image."""
        inverse = np.linalg.inv(self.affine_lps)
        # floor(x + 0.5), not rint: rint rounds halves to even, which doubles and drops
        # alternate voxels when the case grid sits exactly between image voxel centres.
        continuous = points_mm @ inverse[:3, :3].T + inverse[:3, 3]
        index = np.floor(continuous + 0.5).astype(np.int64)
        inside = np.all((index >= 0) & (index < np.asarray(self.labels.shape)), axis=-1)
        clipped = np.clip(index, 0, np.asarray(self.labels.shape) - 1)
        values = self.labels[clipped[..., 0], clipped[..., 1], clipped[..., 2]]
        return np.where(inside, values, 0)

    def bounds_of(self, value: int) -> tuple[np.ndarray, np.ndarray] | None:
        """LPS bounding box of the voxels labelled ``value`` (voxel extent included)."""
        index = np.argwhere(self.labels == value)
        if index.size == 0:
            return None
        corners = np.array(
            [[a, b, c] for a in (-0.5, 0.5) for b in (-0.5, 0.5) for c in (-0.5, 0.5)]
        )
        points = (index[:, None, :] + corners[None]).reshape(-1, 3)
        world = points @ self.affine_lps[:3, :3].T + self.affine_lps[:3, 3]
        return world.min(axis=0), world.max(axis=0)


def read_labelmap(path: str | Path) -> LabelImage:
    """Read a 3-D integer label map and its LPS affine.

    Raises
    ------
    OptiprobeError
        If the file cannot be read, is not 3-D, or holds non-integer labels.
    """
    path = Path(path)
    name = path.name.lower()
    try:
        if name.endswith((".nrrd", ".nhdr")):
            labels, affine = _read_nrrd(path)
        else:
            labels, affine = _read_nifti(path)
    except OptiprobeError:
        raise
    except Exception as exc:  # nibabel/pynrrd raise many types for corrupt files
        raise OptiprobeError(f"cannot read the label map: {exc}", file=path) from None
    labels = np.asarray(labels)
    if labels.ndim == 4 and labels.shape[3] == 1:
        labels = labels[..., 0]
    if labels.ndim != 3:
        raise OptiprobeError(f"label map must be 3-D, got shape {labels.shape}", file=path)
    if not np.all(np.isfinite(labels)) or not np.all(np.equal(np.mod(labels, 1), 0)):
        raise OptiprobeError("label map must hold integer labels", file=path)
    if np.linalg.matrix_rank(affine[:3, :3]) < 3:
        raise OptiprobeError("label map orientation matrix is singular", file=path)
    return LabelImage(labels.astype(np.int32), affine)


def _read_nifti(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import nibabel as nib

    image = nib.load(str(path))
    return np.asanyarray(image.dataobj), _RAS_TO_LPS @ image.affine


def _read_nrrd(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import nrrd

    labels, header = nrrd.read(str(path))
    space = str(header.get("space", "left-posterior-superior")).lower()
    if space not in _NRRD_SPACES:
        raise OptiprobeError(
            f"unsupported NRRD space {space!r}", file=path, allowed=", ".join(_NRRD_SPACES)
        )
    directions = np.asarray(header.get("space directions", np.eye(3)), dtype=float)
    origin = np.asarray(header.get("space origin", np.zeros(3)), dtype=float)
    affine = np.eye(4)
    affine[:3, :3] = directions.T  # NRRD lists one direction vector per axis
    affine[:3, 3] = origin
    return labels, _NRRD_SPACES[space] @ affine
