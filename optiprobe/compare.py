"""Compare plans of one case side by side (``optiprobe compare``).

Each plan is simulated into its own run folder ``DIR/<plan-name>/`` (an earlier run of the same
inputs, by :func:`optiprobe.outputs.inputs_digest`, there or in the run folder the plan file
belongs to, is reused), or, for a case with
``variants``, each variant is planned into ``DIR/<variant-name>/``. The criteria of all runs go
into one table (:func:`criteria_table`) with the better value of each criterion marked, written
as ``comparison.json`` and ``comparison.csv``, with overlaid isotherms and temperature-volume
histograms (:mod:`optiprobe.report.compare_figures`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from optiprobe.errors import OptiprobeError
from optiprobe.runs import RunOutcome

__all__ = ["Comparison", "best_indices", "compare_plans", "compare_variants", "criteria_table"]

_SENSES = {">=": max, "<=": min}


def best_indices(values: list[float | None], sense: str) -> list[int]:
    """Indices of the better value among ``values`` (None: no value for that plan).

    ``sense`` is ``">="`` when larger is better, ``"<="`` when smaller is better. Ties mark every
    plan sharing the best value; nothing is marked when all values are equal or fewer than two
    plans have one.

    >>> best_indices([0.91, 0.97, 0.97], ">=")
    [1, 2]
    >>> best_indices([2.0, 1.0], "<=")
    [1]
    """
    if sense not in _SENSES:
        raise ValueError(f"unknown sense {sense!r}; expected one of {', '.join(_SENSES)}")
    present = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(present) < 2:
        return []
    best = _SENSES[sense](v for _, v in present)
    winners = [i for i, v in present if v == best]
    return [] if len(winners) == len(present) else winners


def criteria_table(metrics: list[dict | None]) -> list[dict]:
    """One row per criterion over the runs' ``metrics.json`` contents (None: no plan).

    Each row has ``criterion``, ``unit``, ``sense``, ``limit``, ``goal``, ``values`` and
    ``passed`` (one entry per run, None where a run lacks the criterion) and ``best`` (indices
    of the runs with the better value, see :func:`best_indices`).
    """
    order: dict[str, dict] = {}
    for run in metrics:
        for row in (run or {}).get("criteria", []):
            order.setdefault(row["criterion"], row)
    table = []
    for name, first in order.items():
        rows = [_row(run, name) for run in metrics]
        values = [None if r is None else r["value"] for r in rows]
        table.append(
            {
                "criterion": name,
                "unit": first["unit"],
                "sense": first.get("sense", ">="),
                "limit": first["limit"],
                "goal": first["goal"],
                "values": values,
                "passed": [None if r is None else r["passed"] for r in rows],
                "best": best_indices(values, first.get("sense", ">=")),
            }
        )
    return table


def _row(run: dict | None, criterion: str) -> dict | None:
    if run is None:
        return None
    return next((r for r in run["criteria"] if r["criterion"] == criterion), None)


@dataclass(frozen=True)
class Comparison:
    """The compared runs (``names[i]`` is the folder of ``outcomes[i]``) and their table."""

    case_name: str
    names: list[str]
    outcomes: list[RunOutcome]
    table: list[dict]
    figures: list[Path]

    def to_dict(self) -> dict:
        """Plain data for ``comparison.json``."""
        runs = [
            {
                "name": name,
                "folder": name,
                "reused": o.reused,
                "probes": None if o.plan is None else len(o.plan.probes),
                "all_limits_pass": o.passed,
                "verified": bool(o.metrics and o.metrics["verified"]),
            }
            for name, o in zip(self.names, self.outcomes, strict=True)
        ]
        return {"case": self.case_name, "runs": runs, "criteria": self.table}


def _folder_names(plans: list, paths: list[Path]) -> list[str]:
    """Plan names as folder names; file stems where names repeat; numbered if still equal."""
    names = [p.name for p in plans]
    if len(set(names)) < len(names):
        names = [_safe(path.stem) for path in paths]
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return unique


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", text) or "plan"


def compare_plans(
    case_path: str | Path,
    plan_paths: list[str | Path],
    out: str | Path,
    *,
    allow_unsafe_paths: bool = False,
    reuse: bool = True,
    progress=None,
) -> Comparison:
    """Simulate each plan on the case into ``out/<plan-name>/`` and write the comparison.

    Unless ``reuse=False``, a plan is not simulated again when ``out/<plan-name>/`` or the
    folder holding the plan file (the ``plan.yaml`` of a ``simulate`` or ``plan`` run) has a
    finished run of the same inputs: same :func:`optiprobe.outputs.inputs_digest` (case, plan,
    solver physics) and optiprobe version; the latter's outputs are copied into
    ``out/<plan-name>/``. A plan edited by hand, a changed case or changed solver physics
    changes the digest, and the plan is simulated.

    Every plan is loaded and checked before the first simulation, so a bad plan fails fast.
    ``progress(name)`` returns the solver's progress callback for one plan, or None.

    Raises
    ------
    OptiprobeError
        An unreadable case or plan, a plan that does not fit the case (model, tip outside the
        grid, needle path), fewer than two plans.
    """
    from optiprobe.runs import load_inputs, simulate_to_folder
    from optiprobe.validation import load_and_voxelize

    if len(plan_paths) < 2:
        raise OptiprobeError(
            f"compare needs at least two plans, got {len(plan_paths)}",
            file=case_path,
            allowed="two or more plan files, or no plan and a case with two or more variants",
        )
    case, volume = load_and_voxelize(case_path)
    inputs = [
        load_inputs(case_path, p, case=case, volume=volume, allow_unsafe_paths=allow_unsafe_paths)
        for p in plan_paths
    ]
    names = _folder_names([i.plan for i in inputs], [Path(p) for p in plan_paths])
    out = Path(out)
    outcomes = []
    for name, run_inputs, plan_path in zip(names, inputs, plan_paths, strict=True):
        callback = None if progress is None else progress(name)
        earlier = Path(plan_path).parent  # a run folder when the plan is one's plan.yaml
        outcomes.append(
            simulate_to_folder(
                run_inputs, out / name, reuse=reuse, earlier=earlier, progress=callback
            )
        )
    return _finish(case, volume, names, outcomes, out)


def compare_variants(case_path: str | Path, out: str | Path, *, progress=None) -> Comparison:
    """Plan every variant of the case (``variants:``) into ``out/<variant-name>/`` and write
    the comparison. A variant planned earlier with the same inputs is reused.

    ``progress(name)`` returns the planner's message callback for one variant, or None.
    """
    from optiprobe.case.variants import apply_variant
    from optiprobe.validation import load_and_voxelize

    case, volume = load_and_voxelize(case_path)
    if len(case.variants) < 2:
        raise OptiprobeError(
            f"the case has {len(case.variants)} variant(s) and no plan files were given",
            file=case_path,
            location="variants",
            allowed="two or more plan files after CASE, or two or more `variants` in the case",
        )
    out = Path(out)
    outcomes = []
    for variant in case.variants:
        variant_case = apply_variant(case, variant, file=case_path)
        callback = None if progress is None else progress(variant.name)
        outcomes.append(
            _plan_variant(case_path, variant_case, variant.name, out / variant.name, callback)
        )
    return _finish(case, volume, [v.name for v in case.variants], outcomes, out)


def _plan_variant(case_path, variant_case, name: str, folder: Path, progress) -> RunOutcome:
    from optiprobe.anatomy.voxelize import voxelize
    from optiprobe.case import load_plan
    from optiprobe.case.variants import case_digest
    from optiprobe.outputs import write_atomic
    from optiprobe.runs import plan_to_folder

    digest = case_digest(variant_case)
    case_yaml = yaml.safe_dump(
        variant_case.model_dump(mode="json", exclude_none=True), sort_keys=False
    )
    try:
        record = json.loads((folder / "run.json").read_text())
        if record.get("variant_digest") == digest:
            metrics = json.loads((folder / "metrics.json").read_text())
            plan = load_plan(folder / "plan.yaml")
            return RunOutcome(folder, plan, metrics, reused=True)
    except (OSError, ValueError, OptiprobeError):
        pass
    volume = voxelize(variant_case)
    variant_path = (
        folder / "case.yaml"
    )  # the variant as a case of its own: the folder stands alone
    write_atomic(variant_path, f"# Variant {name} of {Path(case_path).resolve()}\n" + case_yaml)
    return plan_to_folder(
        variant_path,
        folder,
        case=variant_case,
        volume=volume,
        progress=progress,
        variant=name,
        variant_digest=digest,
    )


def _finish(case, volume, names, outcomes, out: Path) -> Comparison:
    from optiprobe.outputs import write_atomic
    from optiprobe.report.compare_figures import plot_comparison

    table = criteria_table([o.metrics for o in outcomes])
    figures = plot_comparison(case, volume, names, [o.folder for o in outcomes], out)
    comparison = Comparison(case.name, names, outcomes, table, figures)
    write_atomic(out / "comparison.json", json.dumps(comparison.to_dict(), indent=2) + "\n")
    write_atomic(out / "comparison.csv", _csv(names, table))
    return comparison


def _csv(names: list[str], table: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["criterion", "unit", "limit", "goal", *names, "best"])
    for row in table:
        values = ["" if v is None else v for v in row["values"]]
        best = ";".join(names[i] for i in row["best"])
        goal = "" if row["goal"] is None else row["goal"]
        writer.writerow([row["criterion"], row["unit"], row["limit"], goal, *values, best])
    return buffer.getvalue()
