"""Read a run folder (written by ``optiprobe simulate`` or ``optiprobe plan``) back into memory.

The case and plan named by ``run.json`` are reloaded and voxelised again, and the NIfTI volumes are
checked against the case grid, so a report or an export never pairs a field with the wrong
anatomy. Every problem is an :class:`~optiprobe.errors.OptiprobeError` naming the file.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optiprobe.errors import OptiprobeError

__all__ = ["RunData", "load_run"]

_VOLUMES = ("t_min.nii.gz", "t_final.nii.gz")


@dataclass(frozen=True, eq=False)
class RunData:
    """Everything a report or an export needs from a run folder.

    Attributes
    ----------
    folder : Path
    case, volume, plan
        The reloaded case (pydantic), its voxelised ``Volume`` and the plan.
    case_path, plan_path : Path
    t_min_c, t_final_c : (nx, ny, nz) float32
        Minimum and final temperature, °C, in grid index order.
    metrics : dict
        ``metrics.json`` as written by ``outputs.write_simulation``.
    sensor_times_s : (m,) float
    sensors_c : dict name → (m,) float
        Thermocouple temperatures, °C.
    """

    folder: Path
    case: object
    volume: object
    plan: object
    case_path: Path
    plan_path: Path
    t_min_c: np.ndarray
    t_final_c: np.ndarray
    metrics: dict
    sensor_times_s: np.ndarray
    sensors_c: dict


def load_run(folder: str | Path) -> RunData:
    """Load the run folder ``folder``; raise ``OptiprobeError`` for anything missing or stale."""
    from optiprobe.anatomy.voxelize import case_grid
    from optiprobe.case import load_plan
    from optiprobe.outputs import read_run_record
    from optiprobe.validation import load_and_voxelize

    folder = Path(folder)
    record = read_run_record(folder)
    case_path, plan_path = Path(record["case"]), Path(record["plan"])
    for what, path in (("case", case_path), ("plan", plan_path)):
        if not path.is_file():
            raise OptiprobeError(
                f"the {what} file named by run.json does not exist: {path}",
                file=folder / "run.json",
                location=what,
                allowed=f"a run folder whose {what} file is still in place",
            )
    case, volume = load_and_voxelize(case_path)
    plan = load_plan(plan_path, case, grid=case_grid(case))
    fields = [_read_volume(folder / name, volume.grid) for name in _VOLUMES]
    times, sensors = _read_sensors(folder / "sensors.csv")
    return RunData(
        folder,
        case,
        volume,
        plan,
        case_path,
        plan_path,
        fields[0],
        fields[1],
        _read_metrics(folder / "metrics.json"),
        times,
        sensors,
    )


def _missing(path: Path) -> OptiprobeError:
    return OptiprobeError(
        f"{path.name} is missing from the run folder",
        file=path,
        allowed="a complete folder written by `optiprobe simulate` or `optiprobe plan`",
    )


def _read_volume(path: Path, grid) -> np.ndarray:
    import nibabel as nib

    if not path.is_file():
        raise _missing(path)
    try:
        image = nib.load(str(path))
        data = np.asarray(image.dataobj, dtype=np.float32)
    except Exception as error:  # nibabel raises many types for a damaged file
        raise OptiprobeError(f"cannot read the NIfTI volume: {error}", file=path) from None
    if data.shape != tuple(grid.shape) or not np.allclose(
        image.affine, grid.affine_ras(), atol=1e-4
    ):
        raise OptiprobeError(
            f"volume of shape {data.shape} does not lie on the case grid {grid.shape}: the case "
            "file changed after this run",
            file=path,
            allowed="re-run the simulation, or restore the case file it was run with",
        )
    return data


def _read_metrics(path: Path) -> dict:
    if not path.is_file():
        raise _missing(path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise OptiprobeError(f"cannot read metrics: {error}", file=path) from None


def _read_sensors(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    if not path.is_file():
        raise _missing(path)
    try:
        with path.open(newline="") as stream:
            rows = list(csv.reader(stream))
        header, body = rows[0], np.array(rows[1:], dtype=float).reshape(-1, len(rows[0]))
    except (OSError, ValueError, IndexError) as error:
        raise OptiprobeError(f"cannot read thermocouple table: {error}", file=path) from None
    if header[0] != "time_s":
        raise OptiprobeError("first column must be time_s", file=path, location="line 1")
    return body[:, 0], {name: body[:, i + 1] for i, name in enumerate(header[1:])}
