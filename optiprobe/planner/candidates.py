"""Candidate needle trajectories: straight paths from the case's skin windows into the tumour.

For every access window, insertion directions are sampled inside its cone (the nominal
direction and tilts of 10, 20, 35 and 50° up to ``max_angle_deg``); for every allowed probe
model, the active zone's centre is put on a lattice of points inside the tumour. The entry is
where the line, followed back from the tip, leaves the skin (or, in a volume without skin, first
enters the window region), and it must lie in the window region. A candidate is kept only if

* the entry exists within ``max_depth_mm`` of the tip, and the active zone lies under the skin,
* the path keeps every structure's clearance (``access.avoid`` and protected structures that
  are not ``needle_passable``), like ``optiprobe.validation.needle_path_problems``,
* it crosses no bone when ``access.allow_bone`` is false,
* the active zone lies inside the grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optiprobe.probes import get_probe_model
from optiprobe.validation import clearance_fields, path_voxels

__all__ = ["Access", "Candidates", "access_of", "generate_candidates", "skin_lookup"]

BONE_TISSUES = ("cortical_bone", "cancellous_bone")
# Tilts from a window's nominal direction (degrees), as far as its ``max_angle_deg`` allows:
# steep tilts matter for thin lesions (a rib) that a straight-on needle would cross.
TILTS_DEG = (10.0, 20.0, 35.0, 50.0)


@dataclass(frozen=True)
class Candidates:
    """Trajectories as arrays: tips and entries (k, 3) mm, model names, window names."""

    tips_mm: np.ndarray
    entries_mm: np.ndarray
    models: tuple[str, ...]
    windows: tuple[str, ...]
    centres_mm: np.ndarray  # active-zone centres (k, 3)
    rejected: dict[str, int]

    def __len__(self) -> int:
        return len(self.tips_mm)


def _cone_directions(axis: np.ndarray, max_angle_deg: float) -> list[np.ndarray]:
    axis = axis / np.linalg.norm(axis)
    helper = np.array([1.0, 0, 0]) if abs(axis[0]) < 0.9 else np.array([0, 1.0, 0])
    e1 = np.cross(axis, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(axis, e1)
    directions = [axis]
    for tilt in TILTS_DEG:
        if tilt > max_angle_deg:
            break
        t = np.tan(np.deg2rad(tilt))
        for phi in np.linspace(0, 2 * np.pi, 6, endpoint=False):
            d = axis + t * (np.cos(phi) * e1 + np.sin(phi) * e2)
            directions.append(d / np.linalg.norm(d))
    return directions


def _lattice(volume, tumor_name: str, spacing_mm: float) -> np.ndarray:
    """Points inside the tumour on a lattice of ``spacing_mm``, plus its centroid."""
    grid = volume.grid
    mask = volume.masks[tumor_name]
    step = max(1, round(spacing_mm / min(grid.spacing_mm)))
    index = np.argwhere(mask)
    index = index[np.all(index % step == 0, axis=1)]
    points = grid.lower_mm + index * np.asarray(grid.spacing_mm)
    return np.vstack([points, volume.centroid_mm(tumor_name)[None, :]])


@dataclass(frozen=True)
class Access:
    """What a trajectory is checked against: the case's windows (region, axis, max angle),
    clearance fields, bone, skin and grid. Built once per case by :func:`access_of`."""

    grid: object
    windows: tuple  # (name, region shape, unit axis, max angle in degrees)
    fields: dict
    bone: np.ndarray | None
    skin: object
    max_depth_mm: float
    models: dict

    def check(self, window: int, tip, direction, model_name: str):
        """The entry (mm) of the needle reaching ``tip`` along ``direction`` through window
        number ``window``, or the reason it is rejected (a string)."""
        _, region, axis, max_angle = self.windows[window]
        if np.degrees(np.arccos(np.clip(direction @ axis, -1.0, 1.0))) > max_angle + 1e-6:
            return "angle"
        model = self.models[model_name]
        entry = _entry(tip, direction, region, self.max_depth_mm, self.skin)
        if entry is None:
            return "no entry within depth"
        if np.linalg.norm(tip - entry) < model.tip_offset_mm + model.active_length_mm + 0.5:
            # The whole active zone must be under the skin (as load_plan requires), with room
            # for the 0.1 mm rounding of plan files.
            return "active zone outside the skin"
        zone = tip - direction * np.array(
            [[model.tip_offset_mm], [model.tip_offset_mm + model.active_length_mm]]
        )
        if not _inside(self.grid, zone, model.diameter_mm / 2):
            return "outside grid"
        path = path_voxels(self.grid, tip, entry)
        for name, (field, required) in self.fields.items():
            if len(path) and field[tuple(path.T)].min() <= required:
                return f"clearance: {name}"
        if self.bone is not None and self.bone[tuple(path.T)].any():
            return "bone"
        return entry


def access_of(case, volume) -> Access:
    """The :class:`Access` of a voxelised case."""
    bone = None
    if not case.access.allow_bone:
        bone = (
            np.isin(np.asarray(volume.tissue_names)[volume.tissue_index], BONE_TISSUES)
            & ~volume.masks[case.tumor.name]
        )
    tumour_centre = volume.centroid_mm(case.tumor.name)
    windows = []
    for window in case.access.windows:
        region = window.region.to_shape()
        if window.direction is not None:
            axis = np.asarray(window.direction, float)
        else:
            axis = tumour_centre - _region_centre(region)
        windows.append((window.name, region, axis / np.linalg.norm(axis), window.max_angle_deg))
    custom = {m.name: m for m in case.probes.models if not isinstance(m, str)}
    models = {name: custom.get(name) or get_probe_model(name) for name in case.probes.model_names}
    return Access(
        volume.grid,
        tuple(windows),
        clearance_fields(case, volume),
        bone,
        skin_lookup(volume),
        case.access.max_depth_mm,
        models,
    )


def generate_candidates(
    case, volume, *, lattice_mm: float = 4.0, access: Access | None = None
) -> Candidates:
    """All feasible candidate trajectories of ``case`` (see the module docstring)."""
    access = access or access_of(case, volume)
    centres = _lattice(volume, case.tumor.name, lattice_mm)
    tips, entries, models, windows, mids = [], [], [], [], []
    rejected = {"no entry within depth": 0, "bone": 0, "outside grid": 0}
    for w, (name, _, axis, max_angle) in enumerate(access.windows):
        for direction in _cone_directions(axis, max_angle):
            for model_name in case.probes.model_names:
                model = access.models[model_name]
                middle = model.active_middle_mm
                for centre in centres:
                    tip = centre + middle * direction
                    entry = access.check(w, tip, direction, model_name)
                    if isinstance(entry, str):
                        rejected[entry] = rejected.get(entry, 0) + 1
                        continue
                    tips.append(tip)
                    entries.append(entry)
                    models.append(model_name)
                    windows.append(name)
                    mids.append(centre)
    return Candidates(
        tips_mm=np.asarray(tips).reshape(-1, 3),
        entries_mm=np.asarray(entries).reshape(-1, 3),
        models=tuple(models),
        windows=tuple(windows),
        centres_mm=np.asarray(mids).reshape(-1, 3),
        rejected=rejected,
    )


def _region_centre(region) -> np.ndarray:
    for attribute in ("center_mm", "centre_mm", "center"):
        if hasattr(region, attribute):
            return np.asarray(getattr(region, attribute), float)
    raise ValueError("window region without a centre needs an explicit direction")


def skin_lookup(volume):
    """A function telling which points (k, 3) mm lie in the volume's skin, or None when the
    volume has no ``skin`` structure (a gel, a label map without skin)."""
    mask = volume.masks.get("skin")
    if mask is None or not mask.any():
        return None
    grid = volume.grid

    def inside(points: np.ndarray) -> np.ndarray:
        index = np.rint(grid.world_to_index(points)).astype(int)
        ok = np.all((index >= 0) & (index < np.asarray(grid.shape)), axis=1)
        hit = np.zeros(len(points), bool)
        hit[ok] = mask[tuple(index[ok].T)]
        return hit

    return inside


def _entry(tip, direction, region, max_depth_mm: float, skin=None):
    """Where the needle enters (mm), or None: walking back from the tip, the outer surface of
    the skin (with ``skin``, see :func:`skin_lookup`) or else the first point inside the window
    region. The entry must lie inside the window region within ``max_depth_mm``."""
    depths = np.arange(0.0, max_depth_mm + 0.5, 0.5)
    points = tip[None, :] - depths[:, None] * direction[None, :]
    in_region = region.signed_distance(points) <= 0
    if skin is None:
        inside = np.nonzero(in_region)[0]
        return None if len(inside) == 0 else points[inside[0]]
    in_skin = skin(points)
    first = np.nonzero(in_skin)[0]
    if len(first) == 0:
        return None
    after = np.nonzero(~in_skin[first[0] :])[0]
    if len(after) == 0:
        return None  # the skin continues past the depth limit
    outer = first[0] + after[0] - 1  # last point still in the skin
    return points[outer] if in_region[outer] else None


def _inside(grid, zone: np.ndarray, radius_mm: float) -> bool:
    """Whether the active zone and its surface stencil stay inside the grid, as the solver needs
    (the probe's sampled surface spreads over 1.5 voxels around each point)."""
    margin = radius_mm / np.asarray(grid.spacing_mm) + 1.5
    index = grid.world_to_index(zone)
    return bool(np.all(index >= margin) and np.all(index <= np.asarray(grid.shape) - 1 - margin))
