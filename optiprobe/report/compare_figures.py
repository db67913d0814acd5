"""Comparison figures: isotherms of several plans overlaid on one anatomy, and their
temperature-volume histograms.

The minimum-temperature fields are read back from each run folder's ``t_min.nii.gz`` (the
numbers ``metrics.json`` was computed from). Isotherms: 0 °C (ice edge) solid, −20 °C dashed,
−40 °C dotted, one colour per plan.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["ISOTHERMS_C", "plot_comparison", "read_t_min"]

ISOTHERMS_C = ((0.0, "solid"), (-20.0, "dashed"), (-40.0, "dotted"))
_PLAN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")


def read_t_min(folder: Path) -> np.ndarray | None:
    """The minimum-temperature field (°C, grid index order) of a run folder, or None."""
    import nibabel as nib

    path = Path(folder) / "t_min.nii.gz"
    if not path.is_file():
        return None
    return np.asarray(nib.load(path).get_fdata(dtype=np.float32))


def plot_comparison(case, volume, names: list[str], folders: list[Path], out: Path) -> list[Path]:
    """Write ``isotherms.png`` and ``histograms.png`` to ``out``; return the paths written.

    Parameters
    ----------
    case, volume
        The case and its voxelised volume (anatomy, tumour and protected-structure masks).
    names
        Plan (or variant) names, one per folder, used in legends.
    folders
        Run folders holding ``t_min.nii.gz``; a folder without one (no plan) is left out.
    """
    read = [(name, read_t_min(folder)) for name, folder in zip(names, folders, strict=True)]
    fields = [(n, t) for n, t in read if t is not None and t.shape == volume.grid.shape]
    if not fields:
        return []
    out = Path(out)
    return [_isotherms(case, volume, fields, out), _histograms(case, volume, fields, out)]


def _isotherms(case, volume, fields, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from optiprobe.report.case_figure import (
        VIEWS,
        draw_anatomy,
        save_png,
        slice_plane,
        tumour_slice_index,
    )

    index = tumour_slice_index(case, volume)
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.2), constrained_layout=True)
    for ax, view in zip(axes, VIEWS, strict=True):
        draw_anatomy(ax, case, volume, view, index, alpha=0.45)
        _, _, horizontal, vertical, _ = view
        xs, ys = volume.grid.axes_mm()[horizontal], volume.grid.axes_mm()[vertical]
        for colour, (_, t_min) in zip(_PLAN_COLOURS * 4, fields, strict=False):
            plane = slice_plane(t_min, view, index)
            for level, style in ISOTHERMS_C:
                if plane.min() <= level <= plane.max():
                    ax.contour(xs, ys, plane, levels=[level], colors=colour, linestyles=style)
    colours = zip(_PLAN_COLOURS * 4, fields, strict=False)
    handles = [Line2D([], [], color=c, label=n) for c, (n, _) in colours]
    handles += [
        Line2D([], [], color="black", linestyle=s, label=f"{t:g} °C") for t, s in ISOTHERMS_C
    ]
    fig.legend(handles=handles, loc="outside right center", fontsize=8)
    fig.suptitle(f"{case.name}: minimum-temperature isotherms of each plan")
    return save_png(fig, out / "isotherms.png")


def _histograms(case, volume, fields, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from optiprobe.report.case_figure import save_png

    structures = [case.tumor.name, *[p.structure for p in case.protected][:3]]
    limits = {p.structure: p.min_temperature_c for p in case.protected}
    fig, axes = plt.subplots(
        1, len(structures), figsize=(max(6.0, 4.2 * len(structures)), 3.8), squeeze=False
    )
    temperatures = np.linspace(-80.0, 40.0, 241)
    for ax, name in zip(axes[0], structures, strict=True):
        mask = volume.masks[name]
        for colour, (plan, t_min) in zip(_PLAN_COLOURS * 4, fields, strict=False):
            values = np.sort(t_min[mask])
            fraction = np.searchsorted(values, temperatures, side="right") / max(values.size, 1)
            ax.plot(temperatures, fraction, color=colour, label=plan)
        for t, style in ISOTHERMS_C if name == case.tumor.name else ():
            ax.axvline(t, color="grey", linestyle=style, linewidth=0.8)
        if name in limits:
            ax.axvline(limits[name], color="black", linewidth=1.2, label="limit")
        ax.set(
            title=name,
            xlabel="minimum temperature T (°C)",
            ylabel="volume fraction colder than T",
            ylim=(0, 1.02),
        )
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{case.name}: temperature-volume histograms (cumulative)")
    fig.tight_layout()
    return save_png(fig, out / "histograms.png")
