"""Orthogonal slices through the tumour: tissues coloured, structures outlined, with a legend.

Display follows the radiological convention: axial and coronal views put the patient's left on
the viewer's right; axial has anterior at the top; sagittal has anterior on the left; superior is
up in coronal and sagittal views. Axes are labelled in LPS millimetres.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from optiprobe.anatomy.volume import Volume
from optiprobe.case.models import Case
from optiprobe.errors import OptiprobeError

__all__ = [
    "AXIS_NAMES",
    "TISSUE_COLOURS",
    "VIEWS",
    "draw_anatomy",
    "legend_handles",
    "mark_thermocouples",
    "plot_case",
    "save_png",
    "slice_plane",
    "structure_styles",
    "tumour_slice_index",
    "view_extent",
]

TISSUE_COLOURS: dict[str, str] = {
    "muscle": "#b5524a",
    "fat": "#f2dc8d",
    "skin": "#e8b89a",
    "cortical_bone": "#f5f5f0",
    "cancellous_bone": "#d9c8a9",
    "red_marrow": "#c98a6b",
    "yellow_marrow": "#e8d27a",
    "intervertebral_disc": "#7fa7c9",
    "cartilage": "#a7d0d8",
    "spinal_cord": "#f0a0c8",
    "nerve": "#ffd700",
    "csf": "#6fb7e8",
    "blood": "#8b0000",
    "lung": "#3b3b4f",
    "bowel": "#9a7b4f",
    "tumor_osteoblastic": "#7a3fb0",
    "tumor_osteolytic": "#b04fa0",
    "tumor_soft_tissue": "#c05fb0",
    "tumor_mixed": "#9b4fb5",
    "hydrodissection_fluid": "#2a6fdb",
    "co2_gas": "#202020",
    "agar_gel": "#cfe8cf",
}
_FALLBACK = "#888888"
_PROTECTED_COLOURS = ("yellow", "orange", "deepskyblue", "magenta", "springgreen", "pink", "gold")
# (name, fixed axis, horizontal axis, vertical axis, flip so that 'up' is anterior/superior)
VIEWS = (
    ("axial", 2, 0, 1, False),
    ("coronal", 1, 0, 2, True),
    ("sagittal", 0, 1, 2, True),
)
AXIS_NAMES = ("x (L) [mm]", "y (P) [mm]", "z (S) [mm]")


def slice_plane(array: np.ndarray, view, index) -> np.ndarray:
    """The 2-D slice of ``array`` (grid index order) shown in ``view`` through voxel ``index``,
    rows along the view's vertical axis (pass it to ``imshow`` with :func:`view_extent`)."""
    _, axis, horizontal, _, _ = view
    plane = np.take(array, index[axis], axis=axis)
    rest = [a for a in range(3) if a != axis]
    return plane if rest[0] != horizontal else plane.T  # rows = vertical axis


def structure_styles(case: Case) -> list[tuple[str, str, str]]:
    """(mask name, colour, label) of the outlines to draw."""
    styles = [(case.tumor.name, "red", f"tumour ({case.tumor.phenotype})")]
    styles += [
        (p.structure, _PROTECTED_COLOURS[i % len(_PROTECTED_COLOURS)], f"protected: {p.structure}")
        for i, p in enumerate(case.protected)
    ]
    styles += [(r.name, "cyan", f"{r.type}: {r.name}") for r in case.protection]
    return styles


def plot_case(case: Case, volume: Volume, output: str | Path) -> Path:
    """Draw axial, coronal and sagittal slices through the tumour centroid to ``output`` (PNG).

    Returns the path written. The file is written through a temporary file and renamed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    index = tumour_slice_index(case, volume)
    fig, axes = plt.subplots(1, 3, figsize=(16, 6.2), constrained_layout=True)
    for ax, view in zip(axes, VIEWS, strict=True):
        draw_anatomy(ax, case, volume, view, index)
        mark_thermocouples(ax, case, view[1], index[view[1]], volume.grid, view[2], view[3])
    fig.legend(
        handles=legend_handles(case, volume),
        loc="outside right center",
        fontsize=8,
        title="tissues / outlines",
    )
    title = f"{case.name}: {case.description}" if case.description else case.name
    fig.suptitle(title[:140], fontsize=11)
    return save_png(fig, Path(output))


def tumour_slice_index(case: Case, volume: Volume) -> np.ndarray:
    """Voxel index (i, j, k) of the tumour centroid, clipped to the grid: where the slices cut."""
    grid = volume.grid
    centre = volume.centroid_mm(case.tumor.name)
    index = np.rint(grid.world_to_index(centre)).astype(int)
    return np.clip(index, 0, np.array(grid.shape) - 1)


def view_extent(grid, view) -> tuple[tuple[float, float, float, float], str]:
    """``imshow`` extent and origin of a slice of ``view`` (one of :data:`VIEWS`)."""
    _, _, horizontal, vertical, flip = view
    axes_mm = grid.axes_mm()
    h, v = axes_mm[horizontal], axes_mm[vertical]
    if flip:
        return (h[0], h[-1], v[0], v[-1]), "lower"
    return (h[0], h[-1], v[-1], v[0]), "upper"


def draw_anatomy(ax, case: Case, volume: Volume, view, index, *, alpha: float = 1.0) -> None:
    """Tissues (colours), tumour/structure outlines, title and LPS axis labels of one view.

    ``view`` is one of :data:`VIEWS`; ``index`` the voxel the three slices pass through.
    """
    from matplotlib import patheffects
    from matplotlib.colors import ListedColormap

    title, fixed, horizontal, vertical, _ = view
    grid = volume.grid
    axes_mm = grid.axes_mm()
    colours = [TISSUE_COLOURS.get(name, _FALLBACK) for name in volume.tissue_names]
    extent, origin = view_extent(grid, view)
    ax.imshow(
        slice_plane(volume.tissue_index, view, index),
        cmap=ListedColormap(colours),
        vmin=-0.5,
        vmax=len(colours) - 0.5,
        extent=extent,
        origin=origin,
        interpolation="nearest",
        alpha=alpha,
    )
    outline = patheffects.withStroke(linewidth=3.2, foreground="black")
    h, v = axes_mm[horizontal], axes_mm[vertical]
    for name, colour, _ in structure_styles(case):
        mask = slice_plane(volume.masks[name], view, index).astype(float)
        if mask.any() and not mask.all():
            contour = ax.contour(h, v, mask, levels=[0.5], colors=colour, linewidths=1.6)
            contour.set(path_effects=[outline])
    ax.set_title(f"{title} at {'xyz'[fixed]} = {axes_mm[fixed][index[fixed]]:.1f} mm")
    ax.set_xlabel(AXIS_NAMES[horizontal])
    ax.set_ylabel(AXIS_NAMES[vertical])


def legend_handles(case: Case, volume: Volume) -> list:
    """Legend entries for the tissues, outlines and thermocouples that :func:`draw_anatomy` and
    :func:`plot_case` draw."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colours = [TISSUE_COLOURS.get(name, _FALLBACK) for name in volume.tissue_names]
    handles = [
        Patch(facecolor=c, edgecolor="k", label=n.replace("_", " "))
        for n, c in zip(volume.tissue_names, colours, strict=True)
    ]
    handles += [
        Line2D([], [], color=c, lw=2, label=label) for _, c, label in structure_styles(case)
    ]
    if case.thermocouples:
        handles.append(Line2D([], [], color="lime", marker="x", ls="", label="thermocouple"))
    return handles


def mark_thermocouples(ax, case: Case, fixed: int, index: int, grid, horizontal, vertical):
    """Mark (x) and name the thermocouples lying within 1.5 voxels of the slice."""
    from matplotlib import patheffects

    for couple in case.thermocouples:
        position = np.asarray(couple.position_mm)
        if abs(grid.world_to_index(position)[fixed] - index) <= 1.5:
            ax.plot(position[horizontal], position[vertical], "x", color="lime", ms=8, mew=2)
            ax.annotate(
                couple.name,
                (position[horizontal], position[vertical]),
                color="lime",
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
                path_effects=[patheffects.withStroke(linewidth=2, foreground="black")],
            )


def save_png(fig, output: Path, *, dpi: int = 110) -> Path:
    """Save ``fig`` to ``output`` (PNG) through a temporary file and close it."""
    import matplotlib.pyplot as plt

    if output.suffix.lower() != ".png":
        plt.close(fig)
        raise OptiprobeError(f"cannot write {output}", allowed="a file name ending in .png")
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(suffix=".png", dir=output.parent)
    os.close(handle)
    try:
        fig.savefig(tmp, dpi=dpi)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, output)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return output
