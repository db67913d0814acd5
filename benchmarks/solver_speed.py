"""Solver speed on the reference workload (issue #4): L4 + 4-probe reference plan, 1 mm, 10-8-10.

Reports wall time (median of 3 runs, each including its JIT compilation), voxel-updates per
second (grid voxels × right-hand-side evaluations per wall second), peak memory, and the
step-size study that justifies the default super-step (results must not move with the step). Writes
``results/benchmarks/solver_speed.json``.

    uv run python benchmarks/solver_speed.py          # about 2 minutes on the 2-core machine
"""

from __future__ import annotations

import resource
import statistics
import time

import jax
from _results import ROOT, machine, write_json

from optiprobe.case import load_plan
from optiprobe.thermal.simulate import simulate
from optiprobe.validation import load_and_voxelize

CASE = ROOT / "scenarios" / "l4_osteoblastic_posterior_wall.yaml"
PLAN = ROOT / "scenarios" / "l4_reference_plan.yaml"


def _summary(result, volume, wall_s: float) -> dict:
    t_min = result.t_min_c
    ml = lambda iso: round(float((t_min <= iso).sum()) * volume.grid.voxel_volume_mm3 / 1e3, 3)  # noqa: E731
    evaluations = result.n_steps * result.stages
    return {
        "wall_s": round(wall_s, 2),
        "dt_s": round(result.dt_s, 4),
        "stages": result.stages,
        "steps": result.n_steps,
        "rhs_evaluations": evaluations,
        "voxel_updates_per_s": round(volume.grid.n_voxels * evaluations / wall_s),
        "ice_0c_ml": ml(0),
        "ice_minus20c_ml": ml(-20),
        "ice_minus40c_ml": ml(-40),
        "dural_sac_min_c": round(float(t_min[volume.masks["dural_sac"]].min()), 2),
        "status": result.status.name,
    }


def _short_plan(plan, case, minutes: float):
    phase = case.protocol.phases[0].model_copy(update={"duration_min": minutes})
    protocol = case.protocol.model_copy(update={"phases": [phase]})
    probes = [p.model_copy(update={"freeze_min": [minutes]}) for p in plan.probes]
    return plan.model_copy(update={"protocol": protocol, "probes": probes})


def main() -> None:
    case, volume = load_and_voxelize(CASE)
    plan = load_plan(PLAN, case)
    start = time.perf_counter()
    simulate(case, volume, _short_plan(plan, case, 0.05))  # compile-dominated
    compile_s = time.perf_counter() - start
    # Three runs: wall time on this shared 2-core VM varies by about ±10 % from run to run, so
    # the median is reported with every run listed.
    walls = []
    for _ in range(3):
        start = time.perf_counter()
        result = simulate(case, volume, plan)
        walls.append(round(time.perf_counter() - start, 2))
    reference = _summary(result, volume, statistics.median(walls)) | {"wall_s_runs": walls}
    study = []
    short = _short_plan(plan, case, 3.0)
    for step in (0.13, 1.0, 5.0, 10.0, 20.0):
        start = time.perf_counter()
        study.append(
            {"max_step_s": step}
            | _summary(
                simulate(case, volume, short, max_step_s=step), volume, time.perf_counter() - start
            )
        )
    write_json(
        ROOT / "results" / "benchmarks" / "solver_speed.json",
        {
            "workload": "L4 case, l4_reference_plan (4 probes), 1 mm voxels, 10-8-10 min protocol",
            "grid_shape": list(volume.grid.shape),
            "voxels": volume.grid.n_voxels,
            "device": str(jax.devices()[0]),
            "machine": machine(),
            "compile_and_tiny_run_s": round(compile_s, 2),
            "reference": reference,
            "target_wall_s": 15.0,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "step_study_3min_freeze": study,
        },
    )
    print(reference)


if __name__ == "__main__":
    main()
