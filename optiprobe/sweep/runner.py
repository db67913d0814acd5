"""Run a sweep: skip completed runs, execute the rest, retry runs whose worker died, summarise.

Resume semantics: a run is complete when ``runs/<run-id>/result.json`` exists and carries the
run's current ``inputs_key``; completed runs are never executed or rewritten again. Everything
is written atomically, so killing the sweep at any moment loses at most the runs in progress.
A run whose worker died is retried (``max_attempts`` counts the attempts a worker started);
after the last it is recorded in ``failed.json`` with the reason, and the other runs go on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from optiprobe.sweep.executors import EXECUTORS, WorkerDiedError
from optiprobe.sweep.spec import RunTask, Sweep
from optiprobe.sweep.task import FAILED, RESULT, attempts_of, failure_row, run_task

__all__ = ["SweepReport", "completed", "run_sweep"]


@dataclass
class SweepReport:
    """Run ids by what happened to them in this invocation, and the summary files written."""

    skipped: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def completed(task: RunTask) -> bool:
    """Whether ``task``'s folder holds a finished result of the same inputs."""
    try:
        result = json.loads((Path(task.folder) / RESULT).read_text())
    except (OSError, ValueError):
        return False
    return result.get("inputs_key") == task.inputs_key


def _record_failure(task: RunTask, reason: str) -> None:
    from optiprobe.outputs import write_atomic

    row = failure_row(task, reason, attempts=attempts_of(task))
    write_atomic(Path(task.folder) / FAILED, json.dumps(row, indent=1) + "\n")


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    *,
    executor: str = "processes",
    workers: int = 1,
    scheduler: str | None = None,
    max_attempts: int = 2,
    run: Callable[[RunTask], dict] = run_task,
    on_event: Callable[[str, RunTask], None] | None = None,
) -> SweepReport:
    """Execute the runs of ``sweep`` not yet complete and write the summary into ``out``.

    Parameters
    ----------
    executor, workers, scheduler
        A name of :data:`~optiprobe.sweep.executors.EXECUTORS`, the number of worker processes
        and, for ``dask``, ``"local"`` or a scheduler address.
    max_attempts
        Attempts per run when workers die (2: retried once).
    run
        What a worker does with one run (a module-level function; the default simulates or
        plans). Tests substitute fast stand-ins.
    on_event
        Called with ``("skipped" | "done" | "failed" | "retry", task)`` as runs finish.
    """
    from optiprobe.sweep.summary import write_summary

    out = Path(out)
    report = SweepReport()
    notify = on_event or (lambda kind, task: None)
    batch = []
    for task in sweep.tasks:
        if completed(task):
            report.skipped.append(task.run_id)
            notify("skipped", task)
        else:
            batch.append(task)
    charged = {task.run_id: 0 for task in batch}
    execute = EXECUTORS[executor]
    while batch:
        started = {task.run_id: attempts_of(task) for task in batch}
        died = []
        size = min(workers, len(batch))
        for task, row, error in execute(run, batch, workers=size, scheduler=scheduler):
            if isinstance(error, WorkerDiedError):
                died.append((task, error))
            elif error is not None:
                _record_failure(task, f"{type(error).__name__}: {error}")
                _count(report, notify, "failed", task)
            else:
                _count(report, notify, "done" if row["status"] == "done" else "failed", task)
        batch = _retries(died, started, charged, max_attempts, report, notify)
    report.files = write_summary(sweep, out)
    return report


def _count(report: SweepReport, notify, kind: str, task: RunTask) -> None:
    getattr(report, kind).append(task.run_id)
    notify(kind, task)


def _retries(died, started, charged, max_attempts, report, notify) -> list[RunTask]:
    """Charge an attempt to each run a dead worker had started (to all of them when none shows
    a start, so a worker that dies before starting anything cannot loop forever); return the
    runs to execute again and record the others as failed."""
    began = [t for t, _ in died if attempts_of(t) > started[t.run_id]]
    for task in began or [t for t, _ in died]:
        charged[task.run_id] += 1
    again = []
    for task, error in died:
        if charged[task.run_id] >= max_attempts:
            reason = f"worker died on {charged[task.run_id]} attempt(s): {error}"
            _record_failure(task, reason)
            _count(report, notify, "failed", task)
        else:
            again.append(task)
            if task in began:
                report.retried.append(task.run_id)
                notify("retry", task)
    return again
