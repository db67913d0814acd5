"""Is the planner's CP-SAT selection reproducible? (issue #6; house rule 9, deterministic output)

Builds the first-round selection problem of a scenario exactly as ``optiprobe plan`` does
(candidates, sampled problem, the case's objectives, no correction), then solves it several
times with each CP-SAT setting and records what each run chose:

* ``wall``: the former setting, two workers stopped by a 20 s wall-clock limit;
* ``deterministic``: the planner's setting, one worker stopped by a deterministic work limit
  (``optiprobe.planner.select.WORK_LIMIT``).

Writes ``results/planner/cp_sat_determinism.json`` (quoted in ``docs/planner.md``).

    uv run python benchmarks/cp_sat_determinism.py                      # femur, 3 runs each
    uv run python benchmarks/cp_sat_determinism.py acetabulum_lytic_sciatic --runs 2
"""

from __future__ import annotations

import argparse
import os
import time

from _results import ROOT, machine, write_json
from ortools.sat.python import cp_model

from optiprobe.planner import select as select_module
from optiprobe.planner.candidates import access_of, generate_candidates
from optiprobe.planner.problem import build_problem
from optiprobe.surrogate.model import load_surrogate
from optiprobe.validation import load_and_voxelize

OUT = ROOT / "results" / "planner" / "cp_sat_determinism.json"


class _WallLimited(cp_model.CpSolver):
    """The former setting: two workers and a 20 s wall-clock limit, no deterministic limit."""

    def solve(self, model, *args, **kwargs):
        self.parameters.num_workers = 2
        self.parameters.max_time_in_seconds = 20.0
        self.parameters.max_deterministic_time = float("inf")
        return super().solve(model, *args, **kwargs)


def _runs(problem, setting: str, count: int) -> list[dict]:
    original = select_module.cp_model.CpSolver
    if setting == "wall":
        select_module.cp_model.CpSolver = _WallLimited
    try:
        rows = []
        for _ in range(count):
            t0 = time.perf_counter()
            selection = problem.select({s.structure: 1.0 for s in problem.structures})
            rows.append(
                {
                    "status": selection.status,
                    "probes": len(selection.chosen),
                    "chosen_options": list(map(int, selection.chosen)),
                    "objective": selection.objective,
                    "uncovered_tumour_points": selection.uncovered_tumour,
                    "uncovered_margin_points": selection.uncovered_margin,
                    "wall_s": round(time.perf_counter() - t0, 2),
                    "load_average_1min": round(os.getloadavg()[0], 2),
                }
            )
            print(setting, rows[-1], flush=True)
        return rows
    finally:
        select_module.cp_model.CpSolver = original


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", nargs="?", default="femur_lytic_soft_tissue_extension")
    parser.add_argument("--runs", type=int, default=3, help="solves per setting")
    args = parser.parse_args()
    case, volume = load_and_voxelize(ROOT / "scenarios" / f"{args.scenario}.yaml")
    surrogate = load_surrogate()
    access = access_of(case, volume)
    candidates = generate_candidates(case, volume, access=access)
    problem = build_problem(case, volume, candidates, surrogate, say=lambda message: None)
    settings = {name: _runs(problem, name, args.runs) for name in ("wall", "deterministic")}
    summary = {
        name: {
            "distinct_selections": len({tuple(r["chosen_options"]) for r in rows}),
            "probe_counts": sorted({r["probes"] for r in rows}),
        }
        for name, rows in settings.items()
    }
    write_json(
        OUT,
        {
            "scenario": args.scenario,
            "options": len(problem.potentials),
            "settings": {
                "wall": "2 workers, 20 s wall-clock limit (the former setting)",
                "deterministic": f"1 worker, {select_module.WORK_LIMIT:g} deterministic work "
                "units (the planner's setting)",
            },
            "summary": summary,
            "runs": settings,
            "machine": machine(),
        },
    )
    print(summary)


if __name__ == "__main__":
    main()
