"""A run folder from files: load and check the inputs, simulate (or plan), evaluate, write.

``optiprobe simulate``, ``compare`` and ``sweep`` all go through these functions, so a run folder
means the same thing whichever command wrote it: the solver outputs of
:func:`optiprobe.outputs.write_simulation`, then ``plan.yaml`` and ``run.json`` (written last, so
a folder whose ``run.json`` carries the inputs' digest holds a finished run of those inputs).

A run is reused rather than simulated again only when its ``run.json`` records the same
:func:`optiprobe.outputs.inputs_digest` (case, plan, solver physics, tissue table, probe
catalogue) and the same optiprobe version; see ``docs/compare.md`` for what that leaves out.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from optiprobe.errors import OptiprobeError

__all__ = ["RunInputs", "RunOutcome", "load_inputs", "plan_to_folder", "simulate_to_folder"]

UNSAFE_PATH_HINT = "a path keeping the clearance, or --allow-unsafe-paths to simulate it"


@dataclass(frozen=True)
class RunInputs:
    """A loaded, voxelised case and a plan checked against it (models, grid, needle paths)."""

    case_path: Path
    case: object  # optiprobe.case.Case
    volume: object  # optiprobe.anatomy.volume.Volume
    plan: object  # optiprobe.case.Plan
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunOutcome:
    """What a run folder holds after a simulation or planning run.

    ``metrics`` is the content of ``metrics.json`` (None when the planner found no plan);
    ``evaluation`` the :class:`~optiprobe.metrics.Evaluation` when computed now (None when an
    earlier, identical run was reused); ``wall_s`` the seconds this call took.
    """

    folder: Path
    plan: object | None
    metrics: dict | None
    evaluation: object | None = None
    result: object | None = None
    reused: bool = False
    warnings: tuple[str, ...] = ()
    wall_s: float = 0.0
    messages: tuple[str, ...] = field(default_factory=tuple)
    planner: dict | None = None  # planner.json of a planning run

    @property
    def passed(self) -> bool:
        """Every limit holds (False when there is no plan)."""
        return bool(self.metrics and self.metrics["all_limits_pass"])

    @property
    def solver_status(self) -> str | None:
        """The solver's status name (``OK``), or None without a simulation."""
        return None if self.metrics is None else self.metrics["solver"]["status"]


def load_inputs(
    case_path: str | Path,
    plan_path: str | Path,
    *,
    case=None,
    volume=None,
    allow_unsafe_paths: bool = False,
) -> RunInputs:
    """Load and voxelise the case (unless ``case`` and ``volume`` are given), load the plan and
    check it against the case: allowed models, freeze durations, tips inside the grid, needle
    clearances.

    Raises
    ------
    OptiprobeError
        Naming the file and field; a needle path too close to a structure, or more probes or
        a spacing than the case allows, is an error unless ``allow_unsafe_paths`` (then it is
        returned in ``warnings``).
    """
    from optiprobe.anatomy.voxelize import case_grid
    from optiprobe.case import load_plan
    from optiprobe.validation import (
        PROBE_LIMITS_HINT,
        load_and_voxelize,
        needle_path_problems,
        probe_limit_problems,
    )

    if case is None:
        case, volume = load_and_voxelize(case_path)
    plan = load_plan(plan_path, case, grid=case_grid(case))
    warnings = []
    limits_hint = PROBE_LIMITS_HINT + ", or --allow-unsafe-paths to simulate it"
    found = [(*p, limits_hint) for p in probe_limit_problems(plan, case)]
    found += [(*p, UNSAFE_PATH_HINT) for p in needle_path_problems(plan, case, volume)]
    for location, message, allowed in found:
        if not allow_unsafe_paths:
            raise OptiprobeError(message, file=plan_path, location=location, allowed=allowed)
        warnings.append(message)
    return RunInputs(Path(case_path), case, volume, plan, tuple(warnings))


SOLVER_FILES = (
    "t_min.nii.gz",
    "t_final.nii.gz",
    "labels.nii.gz",
    "labels.json",
    "sensors.csv",
    "metrics.json",
)


def _reusable(
    folder: Path, digest: str, files: tuple[str, ...] = ("metrics.json",)
) -> dict | None:
    """``metrics.json`` of ``folder`` when its ``run.json`` records the same inputs digest and
    optiprobe version (criteria and voxelisation code are not in the digest; a release may
    change them) and every one of ``files`` is there; None otherwise."""
    from optiprobe import __version__

    try:
        record = json.loads((folder / "run.json").read_text())
        if record.get("inputs_digest") != digest:
            return None
        if record.get("optiprobe_version") != __version__:
            return None
        if not all((folder / name).is_file() for name in files):
            return None
        return json.loads((folder / "metrics.json").read_text())
    except (OSError, ValueError, AttributeError):
        return None


def _copy_run(inputs: RunInputs, source: Path, out: Path, **record) -> None:
    """Copy the solver outputs of the run folder ``source`` into ``out`` and write its run
    record there (last, as a finished run), naming where the numbers were computed."""
    from optiprobe.outputs import write_atomic, write_run_record

    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").unlink(missing_ok=True)
    for name in SOLVER_FILES:
        write_atomic(out / name, (source / name).read_bytes())
    copied_from = os.path.relpath(source.resolve(), out.resolve())
    header = f"# Plan simulated in {copied_from} (outputs copied here, not simulated again).\n"
    write_run_record(
        out,
        inputs.case_path,
        inputs.case,
        inputs.plan,
        header=header,
        copied_from=copied_from,
        **record,
    )


def _reused_metrics(inputs: RunInputs, digest: str, out: Path, earlier, record) -> dict | None:
    """``metrics.json`` of a finished run of these inputs in ``out``, or in ``earlier`` (then
    copied into ``out``); None when neither holds one."""
    if (metrics := _reusable(out, digest)) is not None or earlier is None:
        return metrics
    earlier = Path(earlier)
    if earlier.resolve() == out.resolve():
        return None
    if (metrics := _reusable(earlier, digest, SOLVER_FILES)) is not None:
        _copy_run(inputs, earlier, out, **record)
    return metrics


def simulate_to_folder(
    inputs: RunInputs,
    out: str | Path,
    *,
    volumes: bool = True,
    reuse: bool = False,
    earlier: Path | None = None,
    progress: Callable[[float, float], None] | None = None,
    **record,
) -> RunOutcome:
    """Simulate ``inputs.plan``, evaluate the case's criteria and write the run folder ``out``.

    With ``reuse``, a folder whose ``run.json`` has the same
    :func:`~optiprobe.outputs.inputs_digest` (case, plan, solver physics) and optiprobe
    version is returned as it is, without simulating; so is another run folder ``earlier``
    (the folder of a plan file that ``simulate`` or ``plan`` wrote) holding every solver
    output, after its outputs are copied into ``out``. ``volumes=False`` leaves out the NIfTI
    volumes. ``record`` adds fields to ``run.json``.
    """
    from optiprobe.metrics import evaluate, plan_models_calibrated
    from optiprobe.outputs import inputs_digest, write_run_record, write_simulation
    from optiprobe.thermal.simulate import simulate

    start = time.perf_counter()
    out = Path(out)
    case, plan = inputs.case, inputs.plan
    digest = inputs_digest(case, plan)
    metrics = _reused_metrics(inputs, digest, out, earlier, record) if reuse else None
    if metrics is not None:
        wall_s = time.perf_counter() - start
        return RunOutcome(out, plan, metrics, reused=True, warnings=inputs.warnings, wall_s=wall_s)
    (out / "run.json").unlink(missing_ok=True)  # the folder is incomplete until it is rewritten
    result = simulate(case, inputs.volume, plan, progress=progress)
    calibrated = plan_models_calibrated(case, plan)
    evaluation = evaluate(
        case, inputs.volume, result, plan_name=plan.name, models_calibrated=calibrated
    )
    write_simulation(out, inputs.volume, result, evaluation, volumes=volumes)
    write_run_record(out, inputs.case_path, case, plan, **record)
    metrics = json.loads((out / "metrics.json").read_text())
    return RunOutcome(
        out,
        plan,
        metrics,
        evaluation=evaluation,
        result=result,
        warnings=inputs.warnings,
        wall_s=time.perf_counter() - start,
    )


PLANNED_HEADER = "# Suggested by `optiprobe plan` (research software, not for clinical use).\n"


def plan_to_folder(
    case_path: str | Path,
    out: str | Path,
    *,
    case=None,
    volume=None,
    volumes: bool = True,
    progress: Callable[[str], None] | None = None,
    **record,
) -> RunOutcome:
    """Plan the case with :func:`optiprobe.planner.pipeline.plan_case` and write the run
    folder ``out``: ``planner.json``, and when a plan was found the solver outputs of its
    verification, ``plan.yaml`` and ``run.json``. ``case``/``volume`` replace loading
    ``case_path`` (a case variant); ``record`` adds fields to ``run.json``."""
    from optiprobe.outputs import write_atomic, write_run_record, write_simulation
    from optiprobe.planner.pipeline import plan_case
    from optiprobe.validation import load_and_voxelize

    start = time.perf_counter()
    out = Path(out)
    if case is None:
        case, volume = load_and_voxelize(case_path)
    (out / "run.json").unlink(missing_ok=True)
    outcome = plan_case(case, volume, progress=progress or (lambda message: None))
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "planner.json", json.dumps(outcome.to_dict(), indent=1, default=str))
    messages = tuple(outcome.messages)
    if outcome.plan is None:
        wall_s = time.perf_counter() - start
        return RunOutcome(
            out, None, None, wall_s=wall_s, messages=messages, planner=outcome.to_dict()
        )
    write_simulation(out, volume, outcome.result, outcome.evaluation, volumes=volumes)
    write_run_record(
        out, case_path, case, outcome.plan, header=PLANNED_HEADER, planner="planner.json", **record
    )
    return RunOutcome(
        out,
        outcome.plan,
        json.loads((out / "metrics.json").read_text()),
        evaluation=outcome.evaluation,
        result=outcome.result,
        wall_s=time.perf_counter() - start,
        messages=messages,
        planner=outcome.to_dict(),
    )
