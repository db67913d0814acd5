"""Write a simulation's results to a folder: NIfTI volumes, thermocouple CSV, metrics JSON.

Every file is written to a temporary name in the same folder and renamed, so an interrupted run
never leaves a half-written file and earlier results stay intact. NIfTI affines are RAS (the
grid's LPS affine converted at this boundary), so the volumes load in place in 3D Slicer.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from optiprobe.anatomy.volume import Volume

__all__ = ["write_atomic", "write_npz_atomic", "write_simulation"]


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically (temporary file + rename), with the usual
    permissions: a reader sees the old file or the new one, never half of one, and an
    interrupted run loses nothing already written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = data.encode() if isinstance(data, str) else data
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_npz_atomic(path: Path, **arrays) -> None:
    """``numpy.savez_compressed`` to ``path``, atomically (see :func:`write_atomic`)."""
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_atomic(path, buffer.getvalue())


def _nifti(path: Path, array: np.ndarray, volume: Volume) -> None:
    import nibabel as nib

    image = nib.Nifti1Image(array, volume.grid.affine_ras())
    image.header.set_xyzt_units("mm", "sec")
    write_atomic(path, image.to_bytes() if not path.name.endswith(".gz") else _gz(image))


def _gz(image) -> bytes:
    import gzip

    return gzip.compress(image.to_bytes(), compresslevel=6, mtime=0)


def _sensors_csv(result) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = list(result.sensors_c)
    writer.writerow(["time_s", *names])
    for i, time_s in enumerate(result.sensor_times_s):
        writer.writerow([f"{time_s:.1f}", *(f"{result.sensors_c[n][i]:.3f}" for n in names)])
    return buffer.getvalue().encode()


def write_simulation(folder: str | Path, volume: Volume, result, evaluation) -> list[Path]:
    """Write ``t_min.nii.gz``, ``t_final.nii.gz``, ``labels.nii.gz`` (+ ``labels.json``),
    ``sensors.csv`` and ``metrics.json`` into ``folder``; return the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        name: folder / name
        for name in (
            "t_min.nii.gz",
            "t_final.nii.gz",
            "labels.nii.gz",
            "labels.json",
            "sensors.csv",
            "metrics.json",
        )
    }
    _nifti(paths["t_min.nii.gz"], result.t_min_c.astype(np.float32), volume)
    _nifti(paths["t_final.nii.gz"], result.t_final_c.astype(np.float32), volume)
    _nifti(paths["labels.nii.gz"], volume.tissue_index.astype(np.uint8), volume)
    legend = {str(i): name for i, name in enumerate(volume.tissue_names)}
    write_atomic(paths["labels.json"], json.dumps(legend, indent=2).encode())
    write_atomic(paths["sensors.csv"], _sensors_csv(result))
    metrics = evaluation.to_dict() | {
        "solver": {
            "status": result.status.name,
            "message": result.status.message,
            "dt_s": result.dt_s,
            "steps": result.n_steps,
            "stages": result.stages,
        },
    }
    write_atomic(paths["metrics.json"], (json.dumps(metrics, indent=2) + "\n").encode())
    return list(paths.values())
