"""Summaries of the surrogate's accuracy runs (``benchmarks/surrogate_accuracy.py``): pooled
isotherm distances, structure errors, missed limit violations, and the parity figure."""

from __future__ import annotations

import json
import os

import numpy as np
from _results import ROOT, machine, write_json

# Distances are kept per plan as histograms (0.02 mm bins up to 30 mm, the last bin open), so
# pooled means and percentiles need no per-crossing lists on disk.
BINS_MM = np.append(np.arange(0.0, 30.0, 0.02), np.inf)


def _pooled(rows: list[dict], level: str) -> dict:
    counts = np.sum([r["isotherms"][level]["histogram"] for r in rows], axis=0)
    total = int(counts.sum())
    cumulative = np.cumsum(counts) / total
    p95 = float(BINS_MM[1:][np.searchsorted(cumulative, 0.95)])
    mean = sum(r["isotherms"][level]["sum_mm"] for r in rows) / total
    return {"mean": round(mean, 3), "p95": round(p95, 2), "crossings": total}


def summarise(rows: list[dict], media: str = "point", plan_set: str = "heldout") -> dict:
    points = sum(s["points_0_25c"] for r in rows for s in r["structures"])
    error_sum = sum(s["abs_error_sum_0_25c"] for r in rows for s in r["structures"])
    misses, false_alarms = [], 0
    for r in rows:
        for s in r["structures"]:
            below_solver = s["solver_min_c"] < s["limit_c"]
            below_surrogate = s["surrogate_min_c"] < s["limit_c"]
            if below_solver and not below_surrogate:
                misses.append(
                    {"scenario": r["scenario"]}
                    | {k: s[k] for k in ("name", "limit_c", "solver_min_c", "surrogate_min_c")}
                )
            false_alarms += int(below_surrogate and not below_solver)
    scenarios = sorted({r["scenario"] for r in rows})
    summary = {
        "set": plan_set,
        "media": media,
        "plans": len(rows),
        "scenarios": scenarios,
        "probe_counts": sorted({len(r["probes"]) for r in rows}),
        "isotherm_distance_mm": {level: _pooled(rows, level) for level in ("0", "-40")},
        "structure_mae_c_where_solver_0_25": round(error_sum / points, 3) if points else None,
        "structure_points_0_25": points,
        "missed_limit_violations": misses,
        "false_alarms": false_alarms,
        "per_scenario": {
            name: {
                level: _pooled([r for r in rows if r["scenario"] == name], level)
                for level in ("0", "-40")
            }
            for name in scenarios
        },
        "targets": {"mean_mm": 1.0, "p95_mm": 2.0, "structure_mae_c": 1.5, "misses": 0},
        "machine": machine(),
    }
    suffix = "" if media == "point" else f"_{media}"
    if plan_set == "heldout":
        write_json(ROOT / "results" / "surrogate" / f"accuracy{suffix}.json", summary)
        _parity_plot(rows, suffix, media)
    else:
        write_json(ROOT / "results" / "surrogate" / plan_set / f"accuracy_{media}.json", summary)
    print(json.dumps({k: v for k, v in summary.items() if k != "machine"}, indent=1))
    return summary


def _parity_plot(rows: list[dict], suffix: str = "", media: str = "point") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    solver = np.concatenate([r["parity"]["solver"] for r in rows])
    surrogate = np.concatenate([r["parity"]["surrogate"] for r in rows])
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    axes[0].scatter(solver, surrogate, s=2, alpha=0.3)
    axes[0].plot([-150, 40], [-150, 40], "k--", lw=1)
    axes[0].set_xlabel("solver minimum temperature (°C)")
    axes[0].set_ylabel("surrogate minimum temperature (°C)")
    axes[0].set_title(f"Held-out voxels ({len(rows)} plans, media: {media})")
    for level, color in (("0", "tab:blue"), ("-40", "tab:red")):
        counts = np.sum([r["isotherms"][level]["histogram"] for r in rows], axis=0)
        coarse = counts[:300].reshape(60, 5).sum(axis=1)  # 0.1 mm bins up to 6 mm
        coarse[-1] += counts[300:].sum()
        label = level.replace("-", "−") + " °C"
        axes[1].stairs(coarse, np.linspace(0, 6, 61), color=color, label=label)
    axes[1].axvline(1.0, color="grey", ls=":", label="1 mm")
    axes[1].set_xlabel("solver-to-surrogate isotherm distance (mm; last bin: ≥ 6)")
    axes[1].set_ylabel("isotherm crossings")
    axes[1].legend()
    figure.tight_layout()
    path = ROOT / "docs" / "img" / f"surrogate_parity{suffix}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    os.chmod(path, 0o644)
