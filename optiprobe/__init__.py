"""optiprobe: research planning solver for percutaneous cryoablation of bone metastases.

Not a medical device. The workflow API, as nouns and verbs::

    import optiprobe
    case = optiprobe.load_case("scenarios/l4_osteoblastic_posterior_wall.yaml")
    volume = optiprobe.voxelize(case)
    plan = optiprobe.load_plan("scenarios/l4_reference_plan.yaml", case)
    result = optiprobe.simulate(case, volume, plan)
    evaluation = optiprobe.evaluate(case, volume, result, plan_name=plan.name)
    outcome = optiprobe.plan_case(case, volume)          # the planner, checked by the solver
    optiprobe.write_report("out/l4")                     # a run folder -> report.html

Names are imported on first use, so ``import optiprobe`` stays light.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    "load_case": "optiprobe.case",
    "load_plan": "optiprobe.case",
    "Case": "optiprobe.case",
    "Plan": "optiprobe.case",
    "voxelize": "optiprobe.anatomy.voxelize",
    "Volume": "optiprobe.anatomy.volume",
    "validate_file": "optiprobe.validation",
    "OptiprobeError": "optiprobe.errors",
    "simulate": "optiprobe.thermal.simulate",
    "evaluate": "optiprobe.metrics",
    "plan_case": "optiprobe.planner.pipeline",
    "simulate_to_folder": "optiprobe.runs",
    "plan_to_folder": "optiprobe.runs",
    "compare_plans": "optiprobe.compare",
    "compare_variants": "optiprobe.compare",
    "write_report": "optiprobe.report.html",
    "export_slicer": "optiprobe.report.slicer",
}
__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'optiprobe' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
