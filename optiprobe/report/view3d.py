"""Interactive 3-D view (plotly, fully offline): isotherm surfaces, tumour surface coloured by
its ice margin, protected structures and probes, in LPS millimetres.

The isotherm field is cropped to the region that froze (plus the tumour) and sub-sampled to at
most ``max_points`` voxels, so the embedded data stays small; plotly.js itself (~4.5 MB) is
embedded once in the page, never fetched from a CDN.
"""

from __future__ import annotations

import numpy as np

from optiprobe.report.case_figure import structure_styles

__all__ = ["view3d_html"]

_MAX_POINTS = 60_000
_MAX_STRUCTURE_POINTS = 4_000


def view3d_html(
    run, margins, *, limit_mm: float | None = None, max_points: int = _MAX_POINTS
) -> str:
    """A ``<div>`` with the 3-D figure and plotly.js inlined (``include_plotlyjs=True``).

    ``margins`` is a :class:`~optiprobe.metrics.histograms.MarginMap`; its colour scale is
    centred on ``limit_mm`` (red: short of the limit), as in the static margin map.
    """
    import plotly.graph_objects as go

    figure = go.Figure()
    isotherms = _isotherm_trace(run, max_points)
    if isotherms is not None:
        figure.add_trace(isotherms)
    figure.add_trace(_margin_trace(margins, 0.0 if limit_mm is None else limit_mm))
    for name, colour, label in structure_styles(run.case)[1:]:
        trace = _structure_trace(run, name, colour, label)
        if trace is not None:
            figure.add_trace(trace)
    for trace in _probe_traces(run.plan):
        figure.add_trace(trace)
    axis = {"x": "x (L) [mm]", "y": "y (P) [mm]", "z": "z (S) [mm]"}
    figure.update_layout(
        scene={f"{k}axis_title": v for k, v in axis.items()} | {"aspectmode": "data"},
        height=720,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        legend={
            "x": 0.0,
            "y": 1.0,
            "bgcolor": "rgba(255,255,255,0.8)",
            "itemsizing": "constant",
        },
        title="3-D view (drag to rotate, scroll to zoom; LPS mm)",
    )
    return figure.to_html(
        full_html=False, include_plotlyjs=True, config={"responsive": True, "displaylogo": False}
    )


def _crop(run, max_points: int):
    """Index slices of the frozen region and tumour, and a stride keeping under max_points."""
    region = (run.t_min_c <= 0.0) | run.volume.tumor_mask
    index = np.argwhere(region)
    lower = np.maximum(index.min(axis=0) - 2, 0)
    upper = np.minimum(index.max(axis=0) + 3, np.array(run.t_min_c.shape))
    count = float(np.prod(upper - lower))
    stride = max(1, int(np.ceil((count / max_points) ** (1 / 3))))
    return tuple(slice(lo, hi, stride) for lo, hi in zip(lower, upper, strict=True))


def _isotherm_trace(run, max_points: int):
    import plotly.graph_objects as go

    if run.t_min_c.min() > 0.0:
        return None
    crop = _crop(run, max_points)
    axes = [a[s] for a, s in zip(run.volume.grid.axes_mm(), crop, strict=True)]
    x, y, z = (c.ravel().astype(np.float32) for c in np.meshgrid(*axes, indexing="ij"))
    values = run.t_min_c[crop].ravel().astype(np.float32)
    return go.Isosurface(
        x=x,
        y=y,
        z=z,
        value=values,
        isomin=-40,
        isomax=0,
        surface_count=3,  # -40, -20, 0 °C
        opacity=0.18,
        colorscale=[[0, "#1a1aff"], [0.5, "#00c8ff"], [1, "#d0f4ff"]],
        caps={"x_show": False, "y_show": False, "z_show": False},
        colorbar={
            "title": {"text": "isotherms [°C]", "side": "right"},
            "tickvals": [-40, -20, 0],
            "x": 1.0,
            "len": 0.8,
        },
        name="isotherms −40 / −20 / 0 °C",
        showlegend=True,
    )


def _margin_trace(margins, centre_mm: float):
    import plotly.graph_objects as go

    p = margins.points_mm
    return go.Scatter3d(
        x=p[:, 0],
        y=p[:, 1],
        z=p[:, 2],
        mode="markers",
        marker={
            "size": 4,
            "color": margins.margins_mm,
            "colorscale": "RdBu",
            "cmid": centre_mm,
            "colorbar": {"title": {"text": "margin [mm]", "side": "right"}, "x": 1.08, "len": 0.8},
        },
        name=f"tumour surface, coloured by {margins.isotherm_c:g} °C margin",
        hovertemplate="%{x:.1f}, %{y:.1f}, %{z:.1f} mm<br>margin %{marker.color:.1f} mm",
    )


def _structure_trace(run, name: str, colour: str, label: str):
    import plotly.graph_objects as go
    from scipy import ndimage

    mask = run.volume.masks.get(name)
    if mask is None or not mask.any():
        return None
    surface = np.argwhere(mask & ~ndimage.binary_erosion(mask))
    step = max(1, surface.shape[0] // _MAX_STRUCTURE_POINTS)
    grid = run.volume.grid
    p = grid.lower_mm + surface[::step] * np.asarray(grid.spacing_mm)
    return go.Scatter3d(
        x=p[:, 0],
        y=p[:, 1],
        z=p[:, 2],
        mode="markers",
        marker={"size": 2, "color": colour, "opacity": 0.5},
        name=label,
    )


def _probe_traces(plan):
    import plotly.graph_objects as go

    for number, probe in enumerate(plan.probes, start=1):
        line = np.array([probe.entry_mm, probe.tip_mm], dtype=float)
        yield go.Scatter3d(
            x=line[:, 0],
            y=line[:, 1],
            z=line[:, 2],
            mode="lines+markers",
            line={"color": "black", "width": 6},
            marker={"size": [2, 5], "color": "black"},
            name=f"probe {probe.name or number} ({probe.model})",
        )
