"""``optiprobe report DIR``: one self-contained HTML page from a run folder.

The page is the jinja2 template ``templates/report.html.j2`` filled with data: the criteria rows
of ``metrics.json`` (the numbers the CLI printed), figures as inline PNG data URIs, and the
3-D view with plotly.js inlined. Nothing is fetched when it is opened, so it works offline.
"""

from __future__ import annotations

import base64
import importlib.resources
from pathlib import Path

import numpy as np

from optiprobe.errors import OptiprobeError

__all__ = ["probe_rows", "render_report", "verification_status", "write_report"]

NOTICE = (
    "Research software, not a medical device. These are simulated temperatures of a model "
    "anatomy; they must not be used to plan or guide the treatment of a patient."
)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the HTML report of the run folder ``run_dir`` to ``out`` (default
    ``run_dir/report.html``) atomically; return the path written.

    Raises :class:`~optiprobe.errors.OptiprobeError` when the folder is not a complete run
    folder, its case or plan file is missing or invalid, or the volumes do not fit the case.
    """
    from optiprobe.outputs import write_atomic
    from optiprobe.report.run_data import load_run

    out = Path(run_dir) / "report.html" if out is None else Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise OptiprobeError(f"cannot write {out}", allowed="a file name ending in .html")
    run = load_run(run_dir)
    write_atomic(out, render_report(run))
    return out


def render_report(run) -> str:
    """The report page for a loaded :class:`~optiprobe.report.run_data.RunData`."""
    import jinja2

    text = (
        importlib.resources.files("optiprobe.report")
        .joinpath("templates", "report.html.j2")
        .read_text(encoding="utf-8")
    )
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(text).render(**_context(run))


def _context(run) -> dict:
    from optiprobe import __version__
    from optiprobe.metrics.histograms import (
        default_temperatures_c,
        margin_map,
        temperature_volume_histogram,
    )
    from optiprobe.metrics.thermocouples import PROTECTION_TRIGGER_C, summarize
    from optiprobe.report import figures
    from optiprobe.report.view3d import view3d_html

    case, volume = run.case, run.volume
    spec = _margin_spec(case)
    margins = margin_map(run.t_min_c, volume.tumor_mask, volume.grid, spec["isotherm_c"])
    temperatures = default_temperatures_c(run.t_min_c)
    names = [case.tumor.name, *(p.structure for p in case.protected)]
    histograms = [
        temperature_volume_histogram(
            run.t_min_c,
            volume.masks[name],
            temperatures,
            name=name,
            voxel_volume_mm3=volume.grid.voxel_volume_mm3,
        )
        for name in names
        if volume.masks[name].any()
    ]
    summaries = summarize(case, run.sensor_times_s, run.sensors_c)
    centre = volume.centroid_mm(case.tumor.name)
    images = {
        "slices": figures.slices_figure(run),
        "margins": figures.margin_figure(
            margins, centre, limit_mm=spec["limit_mm"], goal_mm=spec["goal_mm"]
        ),
        "histograms": figures.tvh_figure(histograms, case),
    }
    if summaries:
        images["thermocouples"] = figures.thermocouple_figure(
            run.sensor_times_s,
            run.sensors_c,
            summaries,
            trigger_c=PROTECTION_TRIGGER_C,
            protocol=_timeline_protocol(run.plan, case),
        )
    return {
        "title": f"{case.name} — plan {run.plan.name}",
        "case": case,
        "plan": run.plan,
        "run": run,
        "version": __version__,
        "notice": NOTICE,
        "status": verification_status(run),
        "criteria": run.metrics.get("criteria", []),
        "statistics": run.metrics.get("statistics", {}),
        "images": {k: _data_uri(v) for k, v in images.items()},
        "margin_spec": spec,
        "margin_summary": _margin_summary(margins.margins_mm, spec["limit_mm"]),
        "histogram_rows": _histogram_rows(histograms),
        "thermocouples": summaries,
        "planner": _planner_findings(run.folder),
        "trigger_c": PROTECTION_TRIGGER_C,
        "probes": probe_rows(run.plan, case),
        "view3d": view3d_html(run, margins, limit_mm=spec["limit_mm"]),
    }


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _margin_spec(case) -> dict:
    from optiprobe.case.treatment import IceMarginSpec

    for spec in case.objectives:
        if isinstance(spec, IceMarginSpec):
            return {
                "isotherm_c": spec.isotherm_c,
                "limit_mm": spec.limit_mm,
                "goal_mm": spec.goal_mm,
            }
    return {"isotherm_c": 0.0, "limit_mm": None, "goal_mm": None}


def _margin_summary(values: np.ndarray, limit_mm: float | None) -> dict:
    return {
        "points": int(values.size),
        "minimum_mm": float(values.min()),
        "median_mm": float(np.median(values)),
        "uncovered": int(np.sum(values < 0)),
        "below_limit": None if limit_mm is None else int(np.sum(values < limit_mm)),
    }


def _histogram_rows(histograms) -> list[dict]:
    return [
        {
            "name": h.name,
            "volume_ml": h.volume_ml,
            "fractions": {t: h.fraction_at(t) for t in (0.0, -20.0, -40.0)},
        }
        for h in histograms
    ]


def verification_status(run) -> dict:
    """Whether the plan counts as verified, and each reason, from ``metrics.json`` and a check
    that the case and plan files are still the ones simulated (``run.json`` inputs digest)."""
    from optiprobe.outputs import inputs_digest, read_run_record

    metrics = run.metrics
    solver = metrics.get("solver", {})
    rows = metrics.get("criteria", [])
    record = read_run_record(run.folder)
    unchanged = record.get("inputs_digest") == inputs_digest(run.case, run.plan)
    checks = [
        (
            "the full thermal solver finished",
            bool(metrics.get("computed_by_full_solver")) and solver.get("status") == "OK",
            f"solver status {solver.get('status', 'unknown')}: {solver.get('message', '')}",
        ),
        (
            "every probe model is fitted to gel data",
            metrics.get("probe_models_calibrated") is True,
            "17 G and user-defined probe models are not calibrated"
            if metrics.get("probe_models_calibrated") is not True
            else "catalogue models fitted to Littrup 2009 gel isotherms",
        ),
        (
            "every limit holds",
            bool(rows) and all(row.get("passed") is True for row in rows),
            f"{sum(row.get('passed') is not True for row in rows)} of {len(rows)} limits fail",
        ),
        (
            "case, plan and solver are unchanged since the run",
            unchanged,
            "inputs digest matches run.json"
            if unchanged
            else "the case, plan or solver changed after this run: re-run the simulation",
        ),
    ]
    verified = metrics.get("verified") is True and all(ok for _, ok, _ in checks)
    return {"verified": verified, "checks": checks}


def probe_rows(plan, case) -> list[dict]:
    """One row per probe: model, entry and tip (LPS mm), depth, angles, freeze minutes.

    ``tilt_deg`` is the needle's angle out of the axial plane (positive: tip towards superior);
    ``axial_deg`` the angle of its axial projection from the A–P axis, with the side (L/R) it
    points to.
    """
    rows = []
    for number, probe in enumerate(plan.probes, start=1):
        entry, tip = np.asarray(probe.entry_mm), np.asarray(probe.tip_mm)
        direction = (tip - entry) / np.linalg.norm(tip - entry)
        tilt = float(np.degrees(np.arcsin(np.clip(direction[2], -1, 1))))
        axial = float(np.degrees(np.arctan2(abs(direction[0]), abs(direction[1]))))
        side = "" if abs(direction[0]) < 1e-9 else ("L" if direction[0] > 0 else "R")
        freeze = probe.freeze_min or (plan.protocol or case.protocol).freeze_durations_min
        rows.append(
            {
                "number": number,
                "name": probe.name or f"probe {number}",
                "model": probe.model,
                "entry": ", ".join(f"{v:.1f}" for v in entry),
                "tip": ", ".join(f"{v:.1f}" for v in tip),
                "depth_mm": probe.depth_mm,
                "tilt_deg": tilt,
                "axial_deg": axial,
                "side": side,
                "freeze": " / ".join(f"{m:g}" for m in freeze),
            }
        )
    return rows


def _timeline_protocol(plan, case):
    """The protocol as simulated: each freeze phase lasts until the plan's last probe stops
    (per-probe ``freeze_min`` overrides the case's durations; see ``thermal/schedule.py``)."""
    protocol = plan.protocol or case.protocol
    per_probe = [p.freeze_min for p in plan.probes if p.freeze_min]
    if not per_probe:
        return protocol
    phases, cycle = [], 0
    for phase in protocol.phases:
        if phase.kind == "freeze":
            longest = max(minutes[cycle] for minutes in per_probe if cycle < len(minutes))
            phase = phase.model_copy(update={"duration_min": longest})
            cycle += 1
        phases.append(phase)
    return protocol.model_copy(update={"phases": phases})


def _planner_findings(folder) -> dict | None:
    """What ``optiprobe plan`` found beyond the plan (``planner.json``), or None for a run
    folder of ``simulate``. Unreadable files are shown as such rather than failing the page."""
    import json

    path = Path(folder) / "planner.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return {"error": f"planner.json could not be read: {error}"}
    return {
        key: data.get(key)
        for key in (
            "probe_count_lower_bound",
            "conflicts",
            "trade_off_plans",
            "trade_off_written",
            "protection",
            "margin_shortfall",
            "infeasibility_report",
            "robustness",
            "messages",
        )
    }
