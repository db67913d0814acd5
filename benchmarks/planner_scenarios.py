"""Planner against the two baselines on every shipped scenario (issue #6).

For each scenario with access windows: the automatic planner (``plan_case``, timed end to end
with its solver verification), the clinical rule of thumb and bubble packing
(``optiprobe.planner.baselines``), each baseline verified by the same solver. Per plan: probes,
tumour coverage at the coverage limit and goal isotherms, ice margin minimum and median,
structure minimum temperatures, whether every limit holds (and whether the plan counts as
*verified*: limits hold and every probe model is gel-calibrated), planning time, needle-path
problems, and robustness (fraction of 20 random ±2 mm per-probe placement errors under which
the limits still hold, surrogate-predicted; the worst one solver-checked when the plan holds).

Writes ``results/planner/scenarios.json`` and ``results/planner/scenarios.md`` (the table
quoted in ``docs/planner.md``); the planner's plan of each scenario goes to
``results/planner/<scenario>/plan.yaml`` with its ``planner.json``.

    uv run python benchmarks/planner_scenarios.py              # every scenario, ~20 min
    uv run python benchmarks/planner_scenarios.py rib_lytic_intercostal
    uv run python benchmarks/planner_scenarios.py --table   # rebuild the table only
"""

from __future__ import annotations

import json
import sys
import time

from _results import ROOT, machine, write_json

from optiprobe.metrics import evaluate, plan_models_calibrated
from optiprobe.outputs import plan_yaml, write_atomic
from optiprobe.planner.baselines import bubble_packing, rule_of_thumb
from optiprobe.planner.pipeline import plan_case
from optiprobe.planner.safety import robustness
from optiprobe.surrogate.model import load_surrogate
from optiprobe.thermal.simulate import simulate
from optiprobe.validation import load_and_voxelize

SCENARIOS = (
    "l4_osteoblastic_posterior_wall",
    "rib_lytic_intercostal",
    "femur_lytic_soft_tissue_extension",
    "acetabulum_lytic_sciatic",
    "acetabulum_lytic_sciatic_hydrodissection",
    "sacrum_mixed_soft_tissue",
    "gel_littrup_2009",
)
OUT = ROOT / "results" / "planner"


def _row(method, case, volume, plan, result, evaluation, seconds, robust, problems=()):
    values = {r.criterion: r for r in evaluation.rows}
    margin = next((r for r in evaluation.rows if r.criterion.startswith("ice margin")), None)
    coverage = [r for r in evaluation.rows if r.criterion.startswith("tumour fraction")]
    return {
        "method": method,
        "probes": len(plan.probes),
        "models": sorted({p.model for p in plan.probes}),
        "coverage": {r.criterion: r.value for r in coverage},
        "margin_min_mm": None if margin is None else margin.value,
        "margin_median_mm": None if margin is None else margin.detail.get("median_mm"),
        "structures_min_c": {
            p.structure: values[f"{p.structure} minimum temperature"].value for p in case.protected
        },
        "limits_hold": evaluation.passed,
        "verified": evaluation.verified,
        "failing": [r.criterion for r in evaluation.rows if not r.passed],
        "planning_s": round(seconds, 1),
        "path_problems": list(problems),
        "robustness": robust,
        "solver_status": result.status.name,
    }


def run(name: str, surrogate) -> dict:
    case, volume = load_and_voxelize(ROOT / "scenarios" / f"{name}.yaml")
    rows = []
    t0 = time.perf_counter()
    outcome = plan_case(case, volume)
    seconds = time.perf_counter() - t0
    folder = OUT / name
    write_atomic(folder / "planner.json", json.dumps(outcome.to_dict(), indent=1, default=str))
    if outcome.plan is not None:
        write_atomic(
            folder / "plan.yaml", plan_yaml(outcome.plan, f"../../../scenarios/{name}.yaml")
        )
        row = _row(
            "optiprobe",
            case,
            volume,
            outcome.plan,
            outcome.result,
            outcome.evaluation,
            seconds,
            outcome.robustness,
        )
        row["trade_off_plan"] = outcome.trade_off_written
        row["conflicts"] = [c["structure"] for c in outcome.conflicts]
        rows.append(row)
    else:
        (folder / "plan.yaml").unlink(missing_ok=True)  # no stale plan from an earlier run
        rows.append(
            {
                "method": "optiprobe",
                "probes": 0,
                "planning_s": round(seconds, 1),
                "messages": outcome.messages,
            }
        )
    for method in (rule_of_thumb, bubble_packing):
        t0 = time.perf_counter()
        baseline = method(case, volume, surrogate)
        seconds = time.perf_counter() - t0
        result = simulate(case, volume, baseline.plan)
        evaluation = evaluate(
            case,
            volume,
            result,
            plan_name=baseline.method,
            models_calibrated=plan_models_calibrated(case, baseline.plan),
        )
        robust = robustness(
            case, volume, baseline.plan, result, surrogate, check_worst=evaluation.passed
        )
        row = _row(
            baseline.method,
            case,
            volume,
            baseline.plan,
            result,
            evaluation,
            seconds,
            robust,
            baseline.path_problems,
        )
        row["layout"] = baseline.detail | {"window": baseline.window}
        rows.append(row)
        write_atomic(folder / f"{baseline.method}.yaml", plan_yaml(baseline.plan))
    return {"scenario": name, "rows": rows}


def _fmt(value, digits=1):
    return "–" if value is None else f"{value:.{digits}f}"


def _bound(name: str) -> str:
    """The LP bound of the planner's run of ``name``: "≥ n", "infeasible" or "–"."""
    path = OUT / name / "planner.json"
    bound = json.loads(path.read_text()).get("probe_count_lower_bound") if path.exists() else None
    if not bound:
        return "–"
    if bound.get("probes_at_least") is not None:
        return f"≥ {bound['probes_at_least']}"
    return str(bound.get("status"))


def table(results: list[dict]) -> str:
    lines = [
        "| scenario | method | probes (LP bound) | tumour < limit isotherm | < goal isotherm | "
        "margin min / median (mm) | structures min (°C) | limits hold | verified | robust | "
        "time (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in results:
        for row in entry["rows"]:
            if "coverage" not in row:
                lines.append(
                    f"| {entry['scenario']} | {row['method']} | no plan | | | | | | | | "
                    f"{row['planning_s']} |"
                )
                continue
            cov = list(row["coverage"].values())
            structures = ", ".join(f"{k} {v:.1f}" for k, v in row["structures_min_c"].items())
            robust = row["robustness"]["fraction_holding"] if row["robustness"] else None
            note = " (trade-off)" if row.get("trade_off_plan") else ""
            problems = (
                f" ({len(row['path_problems'])} path problems)" if row.get("path_problems") else ""
            )
            count = str(row["probes"])
            if row["method"] == "optiprobe":
                count += f" ({_bound(entry['scenario'])})"
            lines.append(
                f"| {entry['scenario']} | {row['method']}{note}{problems} | {count} | "
                f"{_fmt(cov[0] * 100)} % | {_fmt(cov[1] * 100)} % | "
                f"{_fmt(row['margin_min_mm'])} / {_fmt(row['margin_median_mm'])} | {structures} | "
                f"{'yes' if row['limits_hold'] else 'no'} | "
                f"{'yes' if row['verified'] else 'no'} | "
                f"{'–' if robust is None else f'{robust:.0%}'} | {row['planning_s']} |"
            )
    return "\n".join(lines) + "\n"


def main(names) -> None:
    surrogate = load_surrogate()
    path = OUT / "scenarios.json"
    previous = json.loads(path.read_text())["scenarios"] if path.exists() else []
    done = {e["scenario"]: e for e in previous}
    for name in names:
        print(f"{name} ...", flush=True)
        entry = run(name, surrogate)
        done[name] = entry
        ordered = [done[n] for n in SCENARIOS if n in done]
        # Written after every scenario, so an interrupted run keeps what it finished.
        write_json(path, {"machine": machine(), "scenarios": ordered})
        write_atomic(OUT / "scenarios.md", table(ordered))
        for row in entry["rows"]:
            print(
                f"  {row['method']}: {row['probes']} probes, limits hold "
                f"{row.get('limits_hold')}, {row['planning_s']} s",
                flush=True,
            )


if __name__ == "__main__":
    if sys.argv[1:] == ["--table"]:  # rebuild scenarios.md from scenarios.json
        data = json.loads((OUT / "scenarios.json").read_text())["scenarios"]
        write_atomic(OUT / "scenarios.md", table(data))
    else:
        main(sys.argv[1:] or SCENARIOS)
