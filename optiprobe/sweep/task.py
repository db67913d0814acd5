"""What a worker process does for one run: write its inputs, simulate or plan, write the result.

A run folder ``runs/<run-id>/`` holds ``case.yaml`` (and ``plan.yaml``), the run folder files of
:mod:`optiprobe.runs` (``metrics.json``, ``sensors.csv``, ``run.json``; the NIfTI volumes only
with ``write_volumes``), ``attempts`` (how often a worker started it) and, written last and
atomically, ``result.json`` (one summary row). A run that fails leaves ``failed.json`` instead;
a re-run retries it.
"""

from __future__ import annotations

import fnmatch
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from optiprobe.errors import OptiprobeError
from optiprobe.sweep.spec import RunTask

__all__ = ["FAILED", "RESULT", "attempt", "attempts_of", "failure_row", "run_task"]

RESULT, FAILED, ATTEMPTS = "result.json", "failed.json", "attempts"
TEST_EXIT_ENV = "OPTIPROBE_SWEEP_TEST_EXIT"
"""Test hook: ``<run-id pattern>[:<attempts>]`` makes a worker process exit abruptly (as if
killed) when it starts a matching run, for its first ``attempts`` attempts (default 1)."""


def attempts_of(task: RunTask) -> int:
    """How many times a worker has started ``task`` (0 when never)."""
    try:
        return int((Path(task.folder) / ATTEMPTS).read_text())
    except (OSError, ValueError):
        return 0


def attempt(run: Callable[[RunTask], dict], task: RunTask) -> dict:
    """Count the attempt in the run folder, then ``run(task)``: executors submit this, so the
    driver can tell a run a dead worker had started from one it had not."""
    from optiprobe.outputs import write_atomic

    count = attempts_of(task) + 1
    write_atomic(Path(task.folder) / ATTEMPTS, str(count))
    _test_exit(task, count)
    return run(task)


def _test_exit(task: RunTask, count: int) -> None:
    rule = os.environ.get(TEST_EXIT_ENV)
    if not rule:
        return
    pattern, _, times = rule.partition(":")
    if fnmatch.fnmatch(task.run_id, pattern) and count <= int(times or 1):
        os._exit(70)


def failure_row(task: RunTask, reason: str, *, attempts: int) -> dict:
    """The summary row of a failed run."""
    return _identity(task) | {"status": "failed", "reason": reason, "attempts": attempts}


def _identity(task: RunTask) -> dict:
    return {
        "run_id": task.run_id,
        "scenario": task.scenario,
        "params": task.params,
        "inputs_key": task.inputs_key,
    }


def run_task(task: RunTask) -> dict:
    """Run one sweep run in this process; return its summary row (also in ``result.json``).

    Problems with the inputs (:class:`OptiprobeError`, e.g. a tumour grown into the probe's
    path) make a failed row and ``failed.json``; other exceptions propagate (the driver
    records them as failed too).
    """
    from optiprobe.outputs import write_atomic

    folder = Path(task.folder)
    start = time.perf_counter()
    (folder / FAILED).unlink(missing_ok=True)
    write_atomic(folder / "case.yaml", task.case_text)
    if task.plan_text is not None:
        write_atomic(folder / "plan.yaml", task.plan_text)
    try:
        row = _MODES[task.mode](task, folder)
    except OptiprobeError as error:
        row = failure_row(task, error.format(), attempts=attempts_of(task))
        write_atomic(folder / FAILED, json.dumps(row, indent=1) + "\n")
        return row
    row["wall_s"] = round(time.perf_counter() - start, 2)
    row["attempts"] = attempts_of(task)
    write_atomic(folder / RESULT, json.dumps(row, indent=1) + "\n")
    return row


def _simulate(task: RunTask, folder: Path) -> dict:
    from optiprobe.runs import load_inputs, simulate_to_folder

    inputs = load_inputs(folder / "case.yaml", folder / "plan.yaml")
    outcome = simulate_to_folder(inputs, folder, volumes=task.volumes)
    return _row(task, inputs.case, outcome)


def _plan(task: RunTask, folder: Path) -> dict:
    from optiprobe.runs import plan_to_folder
    from optiprobe.validation import load_and_voxelize

    case, volume = load_and_voxelize(folder / "case.yaml")
    outcome = plan_to_folder(folder / "case.yaml", folder, case=case, volume=volume)
    outcome = outcome if outcome.plan is not None else None
    return _row(task, case, outcome)


_MODES: dict[str, Callable[[RunTask, Path], dict]] = {"simulate": _simulate, "plan": _plan}
"""Registry: sweep ``mode`` → what a run does."""


def _row(task: RunTask, case, outcome) -> dict:
    row = _identity(task) | {"status": "done", "reason": ""}
    if outcome is None:
        return row | {"plan_found": False, "passed": False, "verified": False, "probes": 0}
    metrics = outcome.metrics
    models = sorted({p.model for p in outcome.plan.probes})
    row |= {
        "plan_found": True,
        "passed": bool(metrics["all_limits_pass"]),
        "verified": bool(metrics["verified"]),
        "probes": len(outcome.plan.probes),
        "probe_models": " ".join(models),
        "solver_status": metrics["solver"]["status"],
    }
    return row | metric_columns(case, metrics)


def metric_columns(case, metrics: dict) -> dict:
    """Named summary columns from ``metrics.json`` rows, which :func:`optiprobe.metrics.evaluate`
    writes in the case's order: each objective (ice margin: one row; coverage: limit and goal
    isotherms), then each protected structure."""
    from optiprobe.case.treatment import IceMarginSpec

    rows = iter(metrics["criteria"])
    columns = {}
    for spec in case.objectives:
        if isinstance(spec, IceMarginSpec):
            columns[f"ice_margin_{spec.isotherm_c:g}c_min_mm"] = next(rows)["value"]
        else:
            for isotherm in (spec.limit_isotherm_c, spec.goal_isotherm_c):
                columns[f"coverage_below_{isotherm:g}c"] = next(rows)["value"]
    for protected in case.protected:
        columns[f"{protected.structure}_min_c"] = next(rows)["value"]
    columns |= {f"stat_{k}": v for k, v in metrics.get("statistics", {}).items()}
    return columns
