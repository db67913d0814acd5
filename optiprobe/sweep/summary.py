"""The sweep summary, rebuilt from the run folders each time: one row per run of the spec.

``summary.csv`` and ``summary.parquet`` (the same table), ``summary.md`` (a Markdown table for
docs) and ``summary.png`` (each metric against each numeric parameter). A run without
``result.json`` shows its ``failed.json`` (status ``failed`` and the reason) or status
``pending``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from optiprobe.sweep.spec import RunTask, Sweep, short_name
from optiprobe.sweep.task import FAILED, RESULT

__all__ = ["summary_frame", "write_summary"]

_FIRST = ("run_id", "scenario")
_AFTER_PARAMS = ("status", "reason", "plan_found", "passed", "verified", "probes", "probe_models")
_HIDDEN = ("params", "inputs_key")


def _row(task: RunTask) -> dict:
    folder = Path(task.folder)
    for name in (RESULT, FAILED):
        try:
            row = json.loads((folder / name).read_text())
        except (OSError, ValueError):
            continue
        if row.get("inputs_key") == task.inputs_key:
            break
    else:
        row = {"run_id": task.run_id, "scenario": task.scenario, "status": "pending"}
    params = {name: _cell(value) for name, value in task.params.items()}
    return {k: v for k, v in row.items() if k not in _HIDDEN} | params


def _cell(value):
    """Parameter values as table cells: numbers and strings stay, lists become JSON text."""
    return value if isinstance(value, int | float | str | bool) else json.dumps(value)


def summary_frame(sweep: Sweep):
    """The summary as a :class:`pandas.DataFrame`, columns: run id, scenario, the parameters,
    status, reason, verdicts, probes, metrics (coverage, ice margin, structure minima), wall
    time."""
    import pandas as pd

    frame = pd.DataFrame([_row(task) for task in sweep.tasks])
    params = list(sweep.spec.parameters)
    first = [c for c in (*_FIRST, *params, *_AFTER_PARAMS) if c in frame.columns]
    rest = sorted(c for c in frame.columns if c not in first and c not in ("wall_s", "attempts"))
    last = [c for c in ("attempts", "wall_s") if c in frame.columns]
    return frame[first + rest + last]


def write_summary(sweep: Sweep, out: Path) -> list[Path]:
    """Write the summary files into ``out``; return their paths."""
    from optiprobe.outputs import write_atomic

    out = Path(out)
    frame = summary_frame(sweep)
    paths = [out / n for n in ("summary.csv", "summary.parquet", "summary.md")]
    write_atomic(paths[0], frame.to_csv(index=False))
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    write_atomic(paths[1], buffer.getvalue())
    write_atomic(paths[2], markdown(frame))
    figure = _plot(sweep, frame, out / "summary.png")
    return paths + ([figure] if figure else [])


def markdown(frame, columns: list[str] | None = None) -> str:
    """A Markdown table of ``frame`` (numbers as given, empty cells for missing values)."""
    import pandas as pd

    columns = columns or [c for c in frame.columns if c not in ("reason", "stat_tumor_ml")]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in frame[columns].iterrows():
        cells = ["" if pd.isna(v) else f"{v:g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _metrics(frame) -> list[str]:
    prefixes = ("coverage_below_", "ice_margin_")
    return [c for c in frame.columns if c.startswith(prefixes) or c.endswith("_min_c")]


def _plot(sweep: Sweep, frame, path: Path) -> Path | None:
    """Each metric against each numeric parameter, one line per setting of the others."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from optiprobe.report.case_figure import save_png

    params = [p for p in sweep.spec.parameters if p in frame.columns]
    numeric = [
        p for p in params if pd.api.types.is_numeric_dtype(frame[p]) and frame[p].nunique() > 1
    ]
    metrics = [m for m in _metrics(frame) if frame[m].notna().any()]
    if not numeric or not metrics or "status" not in frame:
        return None
    done = frame[frame["status"] == "done"]
    fig, axes = plt.subplots(
        len(metrics), len(numeric), figsize=(6.0 * len(numeric), 2.6 * len(metrics)), squeeze=False
    )
    for col, x in enumerate(numeric):
        others = [p for p in ["scenario", *params] if p != x and frame[p].nunique() > 1]
        groups = done.groupby(others, sort=True) if others else [((), done)]
        for key, group in groups:
            label = _label(others, key)
            group = group.sort_values(x)
            for row, metric in enumerate(metrics):
                axes[row][col].plot(group[x], group[metric], "o-", label=label)
        for row, metric in enumerate(metrics):
            axes[row][col].set(xlabel=short_name(x), ylabel=metric)
            axes[row][col].grid(alpha=0.3)
        if axes[0][col].get_legend_handles_labels()[0]:
            axes[0][col].legend(fontsize=7)
    fig.suptitle(f"sweep {sweep.spec.name}: {len(done)} of {len(frame)} runs done")
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return save_png(fig, path)


def _label(names: list[str], key) -> str:
    key = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{short_name(n)}={v}" for n, v in zip(names, key, strict=False)) or "all"
