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

__all__ = [
    "inputs_digest",
    "plan_yaml",
    "read_run_record",
    "write_atomic",
    "write_npz_atomic",
    "write_run_record",
    "write_simulation",
]


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


def write_simulation(
    folder: str | Path, volume: Volume, result, evaluation, *, volumes: bool = True
) -> list[Path]:
    """Write ``t_min.nii.gz``, ``t_final.nii.gz``, ``labels.nii.gz`` (+ ``labels.json``),
    ``sensors.csv`` and ``metrics.json`` into ``folder``; return the paths written.

    ``volumes=False`` leaves out the NIfTI volumes and their legend (sweeps keep only the
    numbers: a run's volumes are megabytes, its metrics a few kilobytes)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = ("sensors.csv", "metrics.json")
    if volumes:
        names = ("t_min.nii.gz", "t_final.nii.gz", "labels.nii.gz", "labels.json", *names)
    paths = {name: folder / name for name in names}
    if volumes:
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


RUN_RECORD = "run.json"


def plan_yaml(plan, case_reference: str | None = None, *, header: str | None = None) -> str:
    """The plan as hand-editable YAML; ``case_reference`` (a path relative to where the file
    will live) replaces the plan's ``case:`` field."""
    import yaml

    if case_reference is not None:
        plan = plan.model_copy(update={"case": case_reference})
    text = yaml.safe_dump(plan.model_dump(mode="json", exclude_none=True), sort_keys=False)
    return (header or "") + text


def inputs_digest(case, plan) -> str:
    """SHA-256 over everything a simulation's answer depends on: the validated case (with a
    label-map image's bytes), the plan's probes and protocol, and the solver's physics, tissue
    table and probe catalogue (:func:`optiprobe.surrogate.fingerprint.fingerprint`). Equal
    digests mean an earlier run of the same inputs can be reused."""
    import hashlib

    from optiprobe.surrogate.fingerprint import fingerprint

    digest = hashlib.sha256()
    case_data = case.model_dump(mode="json", exclude={"variants"})  # variants are not simulated
    digest.update(json.dumps(case_data, sort_keys=True).encode())
    labelmap = case.anatomy.labelmap
    if labelmap is not None:
        digest.update(Path(labelmap.path).read_bytes())
    plan_data = plan.model_dump(mode="json", exclude={"case", "name", "description"})
    digest.update(json.dumps(plan_data, sort_keys=True).encode())
    digest.update(fingerprint()["total"].encode())
    return digest.hexdigest()


def write_run_record(
    folder: str | Path, case_path: str | Path, case, plan, *, header: str | None = None, **extra
) -> None:
    """Write the inputs of a simulation into its folder, so that the folder stands alone:
    ``plan.yaml`` (naming the case relative to the folder) and ``run.json`` (the case file,
    relative and absolute, so a moved folder still finds it; the inputs digest of
    :func:`inputs_digest`, the optiprobe version, and ``extra``). Reports and
    comparisons read these; a run folder without them predates this record."""
    from optiprobe import __version__

    folder = Path(folder)
    relative = os.path.relpath(Path(case_path).resolve(), folder.resolve())
    header = header or f"# Plan simulated in this folder by optiprobe {__version__}.\n"
    write_atomic(folder / "plan.yaml", plan_yaml(plan, relative, header=header))
    record = {
        "case": relative,
        "case_absolute": str(Path(case_path).resolve()),  # when the folder has been moved
        "plan": "plan.yaml",
        "inputs_digest": inputs_digest(case, plan),
        "optiprobe_version": __version__,
    } | extra
    write_atomic(folder / RUN_RECORD, json.dumps(record, indent=2) + "\n")


def read_run_record(folder: str | Path) -> dict:
    """``run.json`` of a run folder, with ``case`` and ``plan`` resolved to absolute paths.

    Raises :class:`optiprobe.errors.OptiprobeError` when the folder is not a run folder."""
    from optiprobe.errors import OptiprobeError

    folder = Path(folder)
    path = folder / RUN_RECORD
    if not folder.is_dir():
        raise OptiprobeError(
            f"no such folder: {folder}",
            allowed="a folder written by `optiprobe simulate`, `plan` or `compare`",
        )
    if not path.is_file():
        runs = sorted(p.parent.name for p in folder.glob(f"*/{RUN_RECORD}"))
        if runs:  # a compare or sweep folder: its runs are one level down
            raise OptiprobeError(
                f"no {RUN_RECORD} here: this folder holds several runs",
                file=folder,
                allowed="one of its run folders: "
                + ", ".join(str(folder / name) for name in runs[:5])
                + (" …" if len(runs) > 5 else ""),
            )
        raise OptiprobeError(
            f"no {RUN_RECORD}: not a run folder, or written by an older optiprobe",
            file=folder,
            allowed="a run folder written by `optiprobe simulate` or `plan`, or one of the "
            "per-plan folders `compare` writes (re-run the simulation to create it)",
        )
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise OptiprobeError(f"cannot read {RUN_RECORD}: {error}", file=path) from None
    record["case"] = (folder / record["case"]).resolve()
    absolute = record.get("case_absolute")
    if not record["case"].exists() and absolute and Path(absolute).exists():
        record["case"] = Path(absolute)  # the folder was moved; the case file was not
    record["plan"] = (folder / record["plan"]).resolve()
    return record
