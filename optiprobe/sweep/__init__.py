"""Parameter sweeps (``optiprobe sweep``): specs, run folders, executors, the summary.

``load_sweep(spec_path, out)`` expands a spec into validated :class:`RunTask` s;
``run_sweep(sweep, out, executor=…, workers=…)`` runs those not yet complete and writes the
summary. See ``docs/sweeps.md``.
"""

from optiprobe.sweep.executors import EXECUTORS, WorkerDiedError, executor_for
from optiprobe.sweep.runner import SweepReport, completed, run_sweep
from optiprobe.sweep.spec import RunTask, Sweep, SweepSpec, load_sweep

__all__ = [
    "EXECUTORS",
    "RunTask",
    "Sweep",
    "SweepReport",
    "SweepSpec",
    "WorkerDiedError",
    "completed",
    "executor_for",
    "load_sweep",
    "run_sweep",
]
