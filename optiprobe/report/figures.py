"""The report's static figures (matplotlib → PNG bytes), drawn from a loaded run folder.

Every figure uses numbers computed in :mod:`optiprobe.metrics` (the ones the CLI and
``metrics.json`` show); nothing is recomputed here. Slices follow the conventions of
:mod:`optiprobe.report.case_figure` (radiological display, LPS millimetres).
"""

from __future__ import annotations

import io

import numpy as np

from optiprobe.report.case_figure import (
    VIEWS,
    draw_anatomy,
    legend_handles,
    mark_thermocouples,
    slice_plane,
    structure_styles,
    tumour_slice_index,
    view_extent,
)

__all__ = [
    "ISOTHERMS",
    "margin_figure",
    "slices_figure",
    "thermocouple_figure",
    "tvh_figure",
]

# (temperature °C, colour, line style, meaning) of the isotherms drawn everywhere.
# Line styles keep them apart from the solid outlines of the protected structures.
ISOTHERMS = (
    (0.0, "white", "--", "0 °C (visible ice edge)"),
    (-20.0, "#3d7dff", "-.", "−20 °C (lethal, limit)"),
    (-40.0, "#0a0a8c", ":", "−40 °C (lethal, goal)"),
)
_PROBE_COLOUR = "black"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig, *, dpi: int = 100) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _minus(text: str) -> str:
    return text.replace("-", "\N{MINUS SIGN}")


# --- slices -------------------------------------------------------------------------------


def slices_figure(run) -> bytes:
    """Axial, coronal and sagittal slices through the tumour centroid: anatomy, minimum
    temperature below 0 °C (colour), the 0 / −20 / −40 °C isotherms, outlines and probes."""
    plt = _pyplot()
    from matplotlib import patheffects
    from matplotlib.lines import Line2D

    case, volume = run.case, run.volume
    index = tumour_slice_index(case, volume)
    fig, axes = plt.subplots(1, 3, figsize=(17, 6.4), constrained_layout=True)
    stroke = [patheffects.withStroke(linewidth=3.0, foreground="black")]
    image = None
    for ax, view in zip(axes, VIEWS, strict=True):
        draw_anatomy(ax, case, volume, view, index, alpha=0.55)
        image = _draw_cold(ax, run.t_min_c, volume.grid, view, index, stroke)
        _draw_probes(ax, run.plan, view)
        _, fixed, horizontal, vertical, _ = view
        mark_thermocouples(ax, case, fixed, index[fixed], volume.grid, horizontal, vertical)
        extent, _ = view_extent(volume.grid, view)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
    colourbar = fig.colorbar(image, ax=axes, shrink=0.45, aspect=40, location="bottom")
    colourbar.set_label("minimum temperature reached [°C] (shown below 0 °C)")
    handles = legend_handles(case, volume)
    handles += [
        Line2D([], [], color=c, ls=ls, lw=2.4, label=label, path_effects=stroke)
        for _, c, ls, label in ISOTHERMS
    ]
    handles.append(
        Line2D(
            [],
            [],
            color=_PROBE_COLOUR,
            lw=2.5,
            marker="o",
            label="probe, projected\n(● tip, number)",
        )
    )
    fig.legend(handles=handles, loc="outside right center", fontsize=9, title="legend")
    return _png(fig)


def _draw_cold(ax, t_min_c, grid, view, index, stroke):
    _, _, horizontal, vertical, _ = view
    plane = slice_plane(t_min_c, view, index)
    extent, origin = view_extent(grid, view)
    cold = np.ma.masked_greater(plane, 0.0)
    image = ax.imshow(
        cold,
        cmap="Blues_r",
        vmin=-80,
        vmax=0,
        extent=extent,
        origin=origin,
        interpolation="bilinear",
        alpha=0.75,
    )
    axes_mm = grid.axes_mm()
    h, v = axes_mm[horizontal], axes_mm[vertical]
    for temperature, colour, style, _ in ISOTHERMS:
        if plane.min() <= temperature <= plane.max():
            contour = ax.contour(
                h, v, plane, levels=[temperature], colors=colour, linestyles=style, linewidths=2.4
            )
            contour.set(path_effects=stroke)
    return image


def _draw_probes(ax, plan, view) -> None:
    from matplotlib import patheffects

    _, _, horizontal, vertical, _ = view
    halo = [patheffects.withStroke(linewidth=4.5, foreground="white")]
    tips: dict[tuple[float, float], list[str]] = {}
    for number, probe in enumerate(plan.probes, start=1):
        entry, tip = np.asarray(probe.entry_mm), np.asarray(probe.tip_mm)
        ax.plot(
            [entry[horizontal], tip[horizontal]],
            [entry[vertical], tip[vertical]],
            color=_PROBE_COLOUR,
            lw=2.2,
            path_effects=halo,
        )
        ax.plot(tip[horizontal], tip[vertical], "o", color=_PROBE_COLOUR, ms=5, path_effects=halo)
        key = (round(tip[horizontal]), round(tip[vertical]))  # one label per projected tip
        tips.setdefault(key, []).append(str(number))  # numbers of the probe table
    for (h, v), names in tips.items():
        ax.annotate(
            ", ".join(names),
            (h, v),
            xytext=(5, -10),
            textcoords="offset points",
            fontsize=9,
            fontweight="bold",
            path_effects=halo,
        )


# --- margin map ---------------------------------------------------------------------------


def margin_figure(margins, centre_mm, *, limit_mm: float | None, goal_mm: float | None) -> bytes:
    """The isotherm's reach beyond each tumour-surface point, unrolled around the tumour
    centroid (azimuth, elevation), and the distribution of those margins.

    ``margins`` is a :class:`~optiprobe.metrics.histograms.MarginMap`.
    """
    plt = _pyplot()
    from matplotlib.colors import TwoSlopeNorm

    offset = margins.points_mm - np.asarray(centre_mm)
    radius = np.maximum(np.linalg.norm(offset, axis=1), 1e-9)
    azimuth = np.degrees(np.arctan2(offset[:, 0], -offset[:, 1]))  # 0 = anterior, 90 = left
    elevation = np.degrees(np.arcsin(np.clip(offset[:, 2] / radius, -1, 1)))
    values = margins.margins_mm
    centre = limit_mm if limit_mm is not None else 0.0
    low, high = min(values.min(), centre - 1.0), max(values.max(), centre + 1.0)
    norm = TwoSlopeNorm(vcenter=centre, vmin=low, vmax=high)
    fig, (ax, hist) = plt.subplots(
        1, 2, figsize=(15, 5.2), width_ratios=(1.7, 1), constrained_layout=True
    )
    size = float(np.clip(4000.0 / max(values.size, 1), 3.0, 30.0))  # fewer points, larger dots
    points = ax.scatter(azimuth, elevation, c=values, cmap="RdBu", norm=norm, s=size, ec="none")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_xticks([-180, -90, 0, 90, 180], ["P", "R", "A", "L", "P"])
    ax.set_yticks([-90, -45, 0, 45, 90], ["I", "−45°", "0°", "45°", "S"])
    ax.set_xlabel("direction from tumour centroid, azimuth (A anterior, L left, P, R)")
    ax.set_ylabel("elevation (S superior, I inferior)")
    ax.set_title(
        f"{_minus(f'{margins.isotherm_c:g}')} °C isotherm beyond each tumour-surface point"
    )
    ax.grid(alpha=0.3)
    bar = fig.colorbar(points, ax=ax, pad=0.01)
    bar.set_label("margin [mm] (red: short of the limit / uncovered)")
    step = max((values.max() - values.min()) / 30.0, 0.25)
    bins = np.arange(np.floor(values.min()) - step, np.ceil(values.max()) + 2 * step, step)
    hist.hist(values, bins=bins, color="#4a7bb7", edgecolor="white")
    for value, label, style in ((limit_mm, "limit", "-"), (goal_mm, "goal", "--")):
        if value is not None:
            hist.axvline(value, color="crimson", ls=style, lw=2, label=f"{label} {value:g} mm")
    below = int(np.sum(values < limit_mm)) if limit_mm is not None else 0
    hist.set_title(f"{values.size} surface points, {below} short of the limit")
    hist.set_xlabel("margin beyond tumour surface [mm]")
    hist.set_ylabel("surface points")
    if limit_mm is not None or goal_mm is not None:
        hist.legend()
    return _png(fig)


# --- temperature–volume histograms --------------------------------------------------------


def tvh_figure(histograms, case) -> bytes:
    """Cumulative temperature–volume histograms: % of each structure at or below T."""
    plt = _pyplot()
    colours = {name: colour for name, colour, _ in structure_styles(case)}
    colours[case.tumor.name] = "crimson"
    limits = {p.structure: p.min_temperature_c for p in case.protected}
    fig, ax = plt.subplots(figsize=(12, 5.6), constrained_layout=True)
    for temperature, _, style, label in ISOTHERMS:
        ax.axvline(temperature, color="0.45", ls=style if style != "-" else ":", lw=1)
        ax.annotate(label.split(" (")[0], (temperature, 101), ha="center", fontsize=8, color="0.3")
    for limit in sorted(set(limits.values())):
        ax.axvline(limit, color="crimson", ls=(0, (1, 3)), lw=1.2)
        ax.annotate(f"limit {limit:g} °C", (limit, 101), ha="center", fontsize=8, color="crimson")
    for histogram in histograms:
        colour = colours.get(histogram.name, "0.3")
        label = f"{histogram.name} ({histogram.volume_ml:.2f} mL)"
        if histogram.name in limits:
            limit = limits[histogram.name]
            at_limit = 100 * histogram.fraction_at(limit)
            label += f": {at_limit:.1f} % at or below its {limit:g} °C limit (▼)"
            ax.plot(limit, at_limit, "v", color=colour, ms=10, mec="k", zorder=5)
        ax.plot(
            histogram.temperatures_c,
            100 * histogram.fraction_colder,
            color=colour,
            lw=3 if histogram.name == case.tumor.name else 2,
            label=label,
            path_effects=_dark_edge(colour),
        )
    ax.set_xlim(40, histograms[0].temperatures_c.min())  # colder to the right, as a DVH
    ax.set_ylim(-2, 106)
    ax.set_xlabel("temperature T [°C]  (colder →)")
    ax.set_ylabel("volume at or below T [% of structure]")
    ax.set_title("temperature–volume histogram of the minimum temperature reached")
    ax.grid(alpha=0.3)
    ax.legend(loc="center right")
    return _png(fig)


def _dark_edge(colour: str):
    from matplotlib import patheffects

    light = colour in {"yellow", "gold", "springgreen", "pink"}
    return [patheffects.withStroke(linewidth=4, foreground="0.3")] if light else None


# --- thermocouples ------------------------------------------------------------------------


def thermocouple_figure(
    times_s, sensors_c: dict, summaries, *, trigger_c: float, protocol=None
) -> bytes:
    """Thermocouple temperatures over time with the protection trigger, each watched
    structure's limit, and the time each is first reached; ``protocol`` (a
    :class:`~optiprobe.case.models.ProtocolSpec`) shades its freeze and thaw phases."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(12, 5.2), constrained_layout=True)
    minutes = np.asarray(times_s) / 60.0
    if protocol is not None:
        _shade_phases(ax, protocol)
    ax.axhline(
        trigger_c, color="crimson", ls="--", lw=1.5, label=f"protection trigger {trigger_c:g} °C"
    )
    for number, summary in enumerate(summaries):
        colour = f"C{number % 10}"
        label = summary.name + (f" (watches {summary.watches})" if summary.watches else "")
        ax.plot(minutes, sensors_c[summary.name], color=colour, lw=2, label=label)
        if summary.limit_c is not None and summary.limit_c != trigger_c:
            ax.axhline(
                summary.limit_c, color=colour, ls=":", lw=1.5, label=f"{summary.watches} limit"
            )
        crossings = [(summary.trigger_s, trigger_c, f"{trigger_c:g} °C")]
        if summary.limit_c is not None and summary.limit_c != trigger_c:
            crossings.append((summary.limit_s, summary.limit_c, f"{summary.watches} limit"))
        for time_s, value, what in crossings:
            if time_s is not None:
                ax.plot(time_s / 60, value, "o", color=colour, mec="k", ms=8)
                ax.annotate(
                    f"{summary.name} reaches {what} at {time_s / 60:.1f} min",
                    (time_s / 60, value),
                    xytext=(6, -14),
                    textcoords="offset points",
                    fontsize=9,
                )
    ax.set_xlim(0, max(float(minutes.max()) if minutes.size else 1.0, 1e-3))
    ax.set_xlabel("time since start of the first freeze [min]")
    ax.set_ylabel("thermocouple temperature [°C]")
    ax.set_title("thermocouples")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    return _png(fig)


def _shade_phases(ax, protocol) -> None:
    start = 0.0
    for phase in protocol.phases:
        end = start + phase.duration_min
        freeze = phase.kind == "freeze"
        ax.axvspan(start, end, color="#dbeeff" if freeze else "#fff1dc", zorder=0)
        label = "freeze" if freeze else f"{phase.thaw_mode} thaw"
        ax.annotate(
            f"{label} {phase.duration_min:g} min",
            ((start + end) / 2, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, -12),
            textcoords="offset points",
            ha="center",
            fontsize=9,
            color="0.35",
        )
        start = end
